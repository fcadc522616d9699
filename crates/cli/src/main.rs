//! `clab`: the binary. Kept tiny: each subcommand lives in its own module and delegates to a
//! library crate, so tests can run the tool in-process.

mod attack;
mod costs;
mod interrupt;
mod load;
mod logging;
mod models;
mod race;
mod race_bank;
mod serve;
mod tour;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Concurrency Lab: one backend service under every concurrency model, a load generator, and
/// the chapter's claims measured on this machine.
#[derive(Debug, Parser)]
#[command(name = "clab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the backend service under one concurrency model.
    Serve(serve::Args),
    /// List the concurrency models, one line each.
    Models(models::Args),
    /// Generate HTTP load against any HTTP/1.1 server (closed or open loop).
    Load(load::Args),
    /// Measure what a thread, a task and a coroutine cost on this machine.
    Costs(costs::Args),
    /// Measure the chapter's claims on this machine and write a report (report/index.html).
    Tour(tour::Args),
    /// Re-render a tour's report from its results.json, without re-running.
    Report(tour::ReportArgs),
    /// Race conditions in process and their fixes (`clab race counter`).
    Race(race::Args),
    /// Hostile-client checks against any HTTP/1.1 server: smuggling, malformed input, slow
    /// clients, overload, file descriptors.
    Attack(attack::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Models(args) => models::run(args),
        Command::Load(args) => load::run(args),
        Command::Costs(args) => costs::run(args),
        Command::Tour(args) => tour::run(args),
        Command::Report(args) => tour::report(args),
        Command::Race(args) => race::run(args),
        Command::Attack(args) => attack::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One clear line for the user, never a backtrace: `{:#}` joins anyhow's context chain.
            eprintln!("clab: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
