//! Many runs summarised per strategy and world, as a table or JSON.

use crate::run::{Config, Outcome, Strategy, World};
use serde::Serialize;
use std::fmt::Write;

/// Every run of a plan and its summaries.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub config: Config,
    pub summaries: Vec<Summary>,
    pub runs: Vec<Outcome>,
}

/// The runs of one strategy in one world.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub strategy: Strategy,
    pub world: World,
    pub runs: usize,
    pub expected: u64,
    pub min_actual: u64,
    pub median_actual: f64,
    pub max_actual: u64,
    /// `expected - median_actual`.
    pub median_lost: f64,
    /// Runs that lost at least one update.
    pub runs_that_lost: usize,
    pub median_ms: f64,
}

/// The median of a sorted, non-empty slice (the mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

impl Summary {
    /// `None` for no runs.
    pub fn of(runs: &[&Outcome]) -> Option<Self> {
        let first = runs.first()?;
        let mut actual: Vec<f64> = runs.iter().map(|o| o.actual as f64).collect();
        actual.sort_by(f64::total_cmp);
        let mut ms: Vec<f64> = runs.iter().map(|o| o.elapsed_ms).collect();
        ms.sort_by(f64::total_cmp);
        let median_actual = median(&actual);
        Some(Self {
            strategy: first.strategy,
            world: first.world,
            runs: runs.len(),
            expected: first.expected,
            min_actual: runs.iter().map(|o| o.actual).min()?,
            median_actual,
            max_actual: runs.iter().map(|o| o.actual).max()?,
            median_lost: first.expected as f64 - median_actual,
            runs_that_lost: runs.iter().filter(|o| o.lost > 0).count(),
            median_ms: median(&ms),
        })
    }
}

impl Report {
    /// Summaries in the order the runs came (world by world, strategy by strategy).
    pub fn new(config: Config, runs: Vec<Outcome>) -> Self {
        let mut keys: Vec<(World, Strategy)> = Vec::new();
        for o in &runs {
            if !keys.contains(&(o.world, o.strategy)) {
                keys.push((o.world, o.strategy));
            }
        }
        let summaries = keys
            .into_iter()
            .filter_map(|(world, strategy)| {
                let of: Vec<&Outcome> = runs
                    .iter()
                    .filter(|o| o.world == world && o.strategy == strategy)
                    .collect();
                Summary::of(&of)
            })
            .collect();
        Self {
            config,
            summaries,
            runs,
        }
    }

    /// The summary table and one verdict line per summary.
    pub fn render(&self) -> String {
        let c = &self.config;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Lost updates (C18) and their fixes (C20): {} workers × {} increments per run",
            c.workers, c.increments
        );
        let _ = writeln!(
            out,
            "racy = load, add one, store as separate steps; race window widened: {}\n",
            if c.yield_between {
                "YES, a yield between load and store (--yield-between)"
            } else {
                "no"
            }
        );
        let _ = writeln!(
            out,
            "{:<8} {:<8} {:>4} {:>12} {:>12} {:>14} {:>12} {:>14} {:>10} {:>9}",
            "strategy",
            "world",
            "runs",
            "expected",
            "min actual",
            "median actual",
            "max actual",
            "median lost",
            "runs lost",
            "median ms"
        );
        for s in &self.summaries {
            let _ = writeln!(
                out,
                "{:<8} {:<8} {:>4} {:>12} {:>12} {:>14} {:>12} {:>14} {:>10} {:>9.1}",
                s.strategy.name(),
                s.world.name(),
                s.runs,
                s.expected,
                s.min_actual,
                s.median_actual,
                s.max_actual,
                s.median_lost,
                format!("{}/{}", s.runs_that_lost, s.runs),
                s.median_ms
            );
        }
        out.push('\n');
        for s in &self.summaries {
            let verdict = match (s.strategy, s.runs_that_lost) {
                (Strategy::Racy, 0) => "lost no update in any run (the race did not show here)",
                (Strategy::Racy, _) => "lost updates, as the chapter says (C18)",
                (_, 0) => "exact in every run (C20)",
                (_, _) => "LOST UPDATES: this fix is broken",
            };
            let _ = writeln!(
                out,
                "{} on {}: {} ({}/{} runs lost)",
                s.strategy.name(),
                s.world.name(),
                verdict,
                s.runs_that_lost,
                s.runs
            );
        }
        out
    }
}
