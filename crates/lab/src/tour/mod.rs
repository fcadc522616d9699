//! `clab tour`: the chapter's claims measured on this machine, one experiment per claim ID of
//! `CLAIMS.md`, with verdicts computed from the data and a report rendered from the results
//! file alone.
//!
//! - [`Experiment`] (`experiment.rs`): one claim: its words, its setup, `run` (measures, returns
//!   [`Figure`]s) and `judge` (a pure function of the figures: unit-tested on synthetic ones).
//!   Adding an experiment is one module under `experiments/` and one line in
//!   [`experiments::ALL`].
//! - [`Verdict`] (`verdict.rs`): holds / holds with a difference / does not hold here /
//!   inconclusive, always with the numbers and the threshold that decided it.
//! - [`Results`] (`results.rs`): every figure with its unit and setup, the machine's facts, the
//!   git revision and the date; `results.json` is this, and the report is rendered from it.
//! - [`render`]: `index.html` (self-contained) and `report.md`.
//! - [`Context`] (`context.rs`): what experiments share, so nothing is measured twice (the
//!   `clab costs` run behind C07–C10, C14, C15 and B05 is made once), and how an experiment
//!   starts a `clab serve` child (`server.rs`) whose CPU, RSS and threads are sampled from
//!   outside.

pub mod chart;
mod context;
mod experiment;
pub mod experiments;
mod machine;
pub mod render;
mod results;
mod server;
mod verdict;

pub use chart::{Axis, Chart, Mark, Point};
pub use context::Context;
pub use experiment::{Experiment, Figure, Meta};
pub use machine::MachineFacts;
pub use results::{ExperimentResult, LimitHit, NOISY, Results};
pub use server::{ChildServer, ProcSample, get};
pub use verdict::{Verdict, VerdictKind};

use std::time::Instant;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct TourOptions {
    /// A reduced size of every experiment (CI runs it).
    pub quick: bool,
    /// Only these claim IDs (upper case); empty = all.
    pub only: Vec<String>,
    /// The `clab` binary, for the experiments that start `clab serve` (the CLI passes its own
    /// path); without it they report that they could not run.
    pub clab: Option<std::path::PathBuf>,
}

/// Told as the tour goes (the CLI draws progress bars from it).
pub trait TourProgress {
    /// `total` experiments will run.
    fn start(&mut self, total: usize) {
        let _ = total;
    }
    /// Experiment `id` begins.
    fn experiment(&mut self, id: &str, title: &str) {
        let _ = (id, title);
    }
    /// Progress inside the running experiment (e.g. `clab costs` steps).
    fn costs(&mut self) -> &mut dyn crate::costs::Progress;
    /// Experiment `id` ended with `verdict`.
    fn done(&mut self, id: &str, verdict: &Verdict) {
        let _ = (id, verdict);
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Unknown IDs in `--only`, as one line naming the valid ones.
pub fn check_only(only: &[String]) -> Result<(), String> {
    let unknown: Vec<&str> = only
        .iter()
        .map(String::as_str)
        .filter(|id| !experiments::ALL.iter().any(|e| e.id() == *id))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let valid: Vec<&str> = experiments::ALL.iter().map(|e| e.id()).collect();
    Err(format!(
        "unknown claim ID {} (the tour has: {})",
        unknown.join(", "),
        valid.join(", ")
    ))
}

/// Run the selected experiments. An experiment that fails records its error as its verdict
/// (inconclusive, with the reason) and the tour goes on.
pub fn run(opts: &TourOptions, progress: &mut dyn TourProgress) -> Results {
    let selected: Vec<&dyn Experiment> = experiments::ALL
        .iter()
        .copied()
        .filter(|e| opts.only.is_empty() || opts.only.iter().any(|id| id == e.id()))
        .collect();
    let mut ctx = Context::new(opts.quick, opts.clab.clone());
    progress.start(selected.len());
    let mut results = Vec::with_capacity(selected.len());
    for exp in selected {
        progress.experiment(exp.id(), exp.title());
        let started = Instant::now();
        let ticks = crate::costs::procfs::cpu_ticks();
        let (figures, mut verdict) = match exp.run(&mut ctx, progress.costs()) {
            Ok(figures) => {
                let verdict = exp.judge(&figures);
                (figures, verdict)
            }
            Err(e) => (
                Vec::new(),
                Verdict::new(
                    VerdictKind::Inconclusive,
                    format!("the experiment failed: {e}"),
                ),
            ),
        };
        // Every server of the experiment has been stopped and waited for by now, so its CPU
        // is in this process's children's ticks, not in "others".
        let others = match (ticks, crate::costs::procfs::cpu_ticks()) {
            (Some(a), Some(b)) => Some(a.others_share(&b, started.elapsed(), cores())),
            _ => None,
        };
        if let Some(share) = others.filter(|s| *s > NOISY) {
            verdict.reason.push_str(&format!(
                " (noisy run: other processes used {:.0}% of the CPUs meanwhile)",
                share * 100.0
            ));
        }
        progress.done(exp.id(), &verdict);
        results.push(ExperimentResult {
            id: exp.id().to_owned(),
            title: exp.title().to_owned(),
            claim: exp.claim().to_owned(),
            setup: exp.setup(&ctx),
            figures,
            verdict,
            seconds: started.elapsed().as_secs_f64(),
            others_cpu_share: others,
            charts: ctx.take_charts(),
            limits: ctx.take_limits(),
        });
    }
    Results::new(
        opts.quick,
        MachineFacts::read(ctx.others_cpu_share()),
        results,
    )
}
