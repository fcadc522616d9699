//! `clab costs`: measure what a thread, a task and a coroutine cost here and print the chapter's
//! table with a measured column (see `clab_lab::costs`).

use clab_lab::costs::{self, Config, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Arguments of `clab costs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fewer samples and small limit caps: about 20 seconds instead of 2 minutes.
    #[arg(long)]
    pub quick: bool,
    /// Print the whole report as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Cap on parked tokio tasks (C15 and the task limit).
    #[arg(long, default_value_t = 1_000_000)]
    pub max: u64,
    /// Cap on threads in the limit probe [default: 4,000 quick, 40,000 full].
    #[arg(long)]
    pub max_threads: Option<u64>,
    /// Cap on coroutines in the limit probe [default: 20,000 quick, 40,000 full].
    #[arg(long)]
    pub max_coroutines: Option<u64>,
    /// Runs per timed measurement [default: 3 quick, 5 full].
    #[arg(long)]
    pub runs: Option<usize>,
    /// Raise vm.max_map_count, kernel.pid_max and RLIMIT_NPROC for the limit probe and restore
    /// them afterwards (root only). Without it no kernel setting is changed.
    #[arg(long)]
    pub raise_limits: bool,
}

/// A progress bar on stderr, drawn only when stderr is a terminal (also the tour's bar for
/// the `clab costs` steps).
pub(crate) struct Bar(pub(crate) Option<ProgressBar>);

impl Progress for Bar {
    fn start(&mut self, steps: u64) {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(steps);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} (ETA {eta}) {msg}")
            {
                bar.set_style(style);
            }
            self.0 = Some(bar);
        }
    }
    fn step(&mut self, label: &str) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
            bar.set_message(label.to_owned());
        }
    }
    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = if args.quick {
        Config::quick()
    } else {
        Config::full()
    };
    config.max_tasks = args.max;
    config.max_threads = args.max_threads.unwrap_or(config.max_threads);
    config.max_coroutines = args.max_coroutines.unwrap_or(config.max_coroutines);
    config.runs = args.runs.unwrap_or(config.runs).max(1);
    config.raise_limits = args.raise_limits;
    let report = costs::run(&config, &mut Bar(None))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}
