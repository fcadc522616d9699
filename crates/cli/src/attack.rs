//! `clab attack URL`: the hostile-client checks of `clab-attack` against any HTTP/1.1 server,
//! a table (or `--json`) of verdicts with their figures, and a non-zero exit when any check
//! failed or could not run.

use crate::serve::parse_duration;
use anyhow::Context;
use clab_attack::{Check, CheckResult, Config, Target, Verdict, render_table};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Arguments of `clab attack`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    clab attack http://127.0.0.1:8080/plaintext\n  \
    clab attack http://127.0.0.1:8080/ --only smuggling,malformed\n  \
    clab attack http://127.0.0.1:8080/ --only slow,fd --connections 1000 --patience 70s --json")]
pub struct Args {
    /// Server URL, http://host[:port][/path]; the path is what well-formed requests ask for.
    pub url: String,
    /// Run only these checks (comma-separated): smuggling, malformed, slow, overload, fd.
    #[arg(long, value_parser = |list: &str| Check::parse_list(list).map(Only))]
    pub only: Option<Only>,
    /// Print the results as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Allow a target outside 127.0.0.0/8 and ::1 (only for a server you own).
    #[arg(long)]
    pub allow_remote: bool,
    /// Connections the slow crowd holds and the descriptor check opens.
    #[arg(long, default_value_t = Config::default().slow.connections as u64,
          value_parser = clap::value_parser!(u64).range(3..=100_000))]
    pub connections: u64,
    /// How long a slow or idle connection may stay open before it counts as never closed
    /// (more than the server's header and idle timeouts).
    #[arg(long, default_value = "12s", value_parser = parse_duration)]
    pub patience: std::time::Duration,
    /// How long the slow check measures the legitimate client, before the crowd and among it
    /// (at 200 requests/s: 5 s is 1,000 requests, so its p99 is the 10th slowest, not one
    /// unlucky request).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub window: std::time::Duration,
    /// Mutated inputs the malformed check sends.
    #[arg(long, default_value_t = Config::default().malformed.cases as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub cases: u64,
}

/// The checks `--only` names (a newtype: clap would take a bare `Vec` as a repeated option).
#[derive(Debug, Clone)]
pub struct Only(Vec<Check>);

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.url, args.allow_remote)?;
    let checks = args.only.map_or_else(|| Check::ALL.to_vec(), |only| only.0);
    let mut config = Config::default()
        .connections(usize::try_from(args.connections)?)
        .patience(args.patience);
    config.slow.client.window = args.window;
    config.malformed.cases = usize::try_from(args.cases)?;
    clab_attack::preflight(&target)?;
    let bar = progress_bar(checks.len() as u64);
    let show = |msg: String| {
        if let Some(bar) = &bar {
            bar.set_message(msg);
        }
    };
    let results: Vec<CheckResult> = checks
        .iter()
        .map(|&check| {
            show(format!("{}: starting", check.name()));
            let result = clab_attack::run_check(&target, &config, check, &show);
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            result
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        let json = serde_json::json!({ "target": args.url, "checks": results });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("writing the results")?
        );
    } else {
        print!("{}", render_table(&results));
    }
    let all_passed = results.iter().all(|r| r.verdict == Verdict::Pass);
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Checks done and what is under way, on stderr, only when a person is watching it.
fn progress_bar(checks: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(checks);
    if let Ok(style) = ProgressStyle::with_template("{bar:20} {pos}/{len} checks  {elapsed} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}
