//! `clab race counter`: the lost-update counter and its fixes (`clab_race`), many runs per
//! strategy and world, summarised. `clab race bank`: `race_bank.rs`.

use clab_race::report::Report;
use clab_race::run::{self, Config, Strategy, World};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Arguments of `clab race`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub experiment: Experiment,
}

#[derive(Debug, clap::Subcommand)]
pub enum Experiment {
    /// Workers incrementing one shared counter: lost updates (C18) and every fix (C20).
    Counter(CounterArgs),
    /// Withdrawals, deposits and transfers against `clab serve` instances sharing a
    /// database, every history checked: check-then-act races and their fixes (C19, C20, B01).
    Bank(crate::race_bank::BankArgs),
}

/// Arguments of `clab race counter`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    clab race counter\n  \
    clab race counter --strategy racy --world tasks --yield-between\n  \
    clab race counter --workers 2 --increments 1000000 --runs 20 --json > race.json")]
pub struct CounterArgs {
    /// Which strategy to run.
    #[arg(long, value_enum, default_value_t = StrategyArg::All)]
    pub strategy: StrategyArg,
    /// Workers as OS threads, tokio tasks (multi-thread runtime), or both.
    #[arg(long, value_enum, default_value_t = WorldArg::All)]
    pub world: WorldArg,
    /// Workers per run, all started together.
    #[arg(long, default_value_t = Config::default().workers,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub workers: u64,
    /// Increments per worker.
    #[arg(long, default_value_t = Config::default().increments,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub increments: u64,
    /// Runs per strategy and world.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Widen racy's window: yield between its load and its store (the thread to the OS, the
    /// task to the runtime). Off by default; the output says when it is on.
    #[arg(long)]
    pub yield_between: bool,
    /// Print every run and the summaries as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    Racy,
    Mutex,
    Atomic,
    Actor,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorldArg {
    Threads,
    Tasks,
    All,
}

impl StrategyArg {
    fn strategies(self) -> Vec<Strategy> {
        match self {
            Self::Racy => vec![Strategy::Racy],
            Self::Mutex => vec![Strategy::Mutex],
            Self::Atomic => vec![Strategy::Atomic],
            Self::Actor => vec![Strategy::Actor],
            Self::All => Strategy::ALL.to_vec(),
        }
    }
}

impl WorldArg {
    fn worlds(self) -> Vec<World> {
        match self {
            Self::Threads => vec![World::Threads],
            Self::Tasks => vec![World::Tasks],
            Self::All => World::ALL.to_vec(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.experiment {
        Experiment::Counter(args) => counter(args),
        Experiment::Bank(args) => crate::race_bank::run(args),
    }
}

fn counter(args: CounterArgs) -> anyhow::Result<ExitCode> {
    let config = Config {
        workers: args.workers,
        increments: args.increments,
        yield_between: args.yield_between,
    };
    // Checked before the bar appears, so a bad size is one line and no bar.
    config.expected()?;
    let (strategies, worlds) = (args.strategy.strategies(), args.world.worlds());
    let runs = usize::try_from(args.runs)?;
    let bar = progress_bar((strategies.len() * worlds.len() * runs) as u64);
    let report: Report = run::run_all(config, &strategies, &worlds, runs, |outcome| {
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!(
                "{} on {}: lost {}",
                outcome.strategy.name(),
                outcome.world.name(),
                outcome.lost
            ));
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs done, their rate and the time left, on stderr, only when a person is watching it.
fn progress_bar(runs: u64) -> Option<ProgressBar> {
    progress_bar_of(runs, "runs")
}

/// A bar of `len` `unit`s with rate and ETA on stderr, only when a person is watching it.
pub(crate) fn progress_bar_of(len: u64, unit: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:30}} {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}  {{elapsed}} {{msg}}"
    )) {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: CounterArgs,
    }

    fn parse(line: &str) -> Result<CounterArgs, clap::Error> {
        let argv = std::iter::once("counter").chain(line.split_whitespace());
        Cli::try_parse_from(argv).map(|c| c.args)
    }

    #[test]
    fn defaults_are_the_chapters_size_every_strategy_and_world() {
        let a = parse("").unwrap();
        assert_eq!((a.workers, a.increments, a.runs), (1_000, 1_000, 10));
        assert_eq!(a.strategy.strategies(), Strategy::ALL);
        assert_eq!(a.world.worlds(), World::ALL);
        assert!(!a.yield_between);
        let a = parse("--strategy actor --world tasks --workers 3").unwrap();
        assert_eq!(a.strategy.strategies(), [Strategy::Actor]);
        assert_eq!(a.world.worlds(), [World::Tasks]);
    }

    #[test]
    fn mistakes_are_refused() {
        for line in [
            "--strategy nope",
            "--world fibers",
            "--workers 0",
            "--increments 0",
            "--runs 0",
            "--workers -3",
        ] {
            assert!(parse(line).is_err(), "`{line}` was accepted");
        }
    }
}
