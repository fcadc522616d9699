//! One run of one strategy in one world, and the runs of a whole plan.

use crate::actor::{Actor, AsyncActor};
use crate::atomic::Atomic;
use crate::mutex::{AsyncLocked, Locked};
use crate::racy::Racy;
use crate::report::Report;
use crate::{AsyncCounter, Counter, tasks, threads};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// How a counter is shared (see the crate doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Racy,
    Mutex,
    Atomic,
    Actor,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Self::Racy, Self::Mutex, Self::Atomic, Self::Actor];

    pub fn name(self) -> &'static str {
        match self {
            Self::Racy => "racy",
            Self::Mutex => "mutex",
            Self::Atomic => "atomic",
            Self::Actor => "actor",
        }
    }
}

/// Who the workers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    /// OS threads, `std` locks and channels.
    Threads,
    /// tokio tasks on a multi-thread runtime, tokio's locks and channels.
    Tasks,
}

impl World {
    pub const ALL: [World; 2] = [Self::Threads, Self::Tasks];

    pub fn name(self) -> &'static str {
        match self {
            Self::Threads => "threads",
            Self::Tasks => "tasks",
        }
    }
}

/// The size of a run, the same for every strategy and world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Config {
    pub workers: u64,
    pub increments: u64,
    /// Widen `racy`'s window: yield between its load and its store (see [`crate::racy`]).
    pub yield_between: bool,
}

impl Default for Config {
    /// The chapter's 1,000 workers, each incrementing 1,000 times.
    fn default() -> Self {
        Self {
            workers: 1_000,
            increments: 1_000,
            yield_between: false,
        }
    }
}

/// Why runs could not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("workers and increments must each be at least 1")]
    Zero,
    #[error("{0} workers × {1} increments overflows a 64-bit count")]
    Overflow(u64, u64),
    /// Spawning a worker thread or building the runtime failed (a thread limit).
    #[error("starting workers: {0}")]
    Spawn(#[from] std::io::Error),
}

impl Config {
    /// The count every correct strategy reaches.
    pub fn expected(&self) -> Result<u64, Error> {
        if self.workers == 0 || self.increments == 0 {
            return Err(Error::Zero);
        }
        self.workers
            .checked_mul(self.increments)
            .ok_or(Error::Overflow(self.workers, self.increments))
    }
}

/// What one run counted.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub strategy: Strategy,
    pub world: World,
    pub expected: u64,
    pub actual: u64,
    /// `expected - actual`: increments overwritten by a stale write.
    pub lost: u64,
    /// Wall time of the run, spawning included.
    pub elapsed_ms: f64,
}

/// Runs strategies in worlds; holds the tasks world's runtime across runs.
#[derive(Debug)]
pub struct Runner {
    config: Config,
    expected: u64,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Runner {
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(Self {
            expected: config.expected()?,
            config,
            runtime: None,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// One run: a fresh counter, every worker started together, the count read after all
    /// have finished.
    pub fn run(&mut self, strategy: Strategy, world: World) -> Result<Outcome, Error> {
        let start = Instant::now();
        let actual = match world {
            World::Threads => self.on_threads(strategy)?,
            World::Tasks => self.on_tasks(strategy)?,
        };
        Ok(Outcome {
            strategy,
            world,
            expected: self.expected,
            actual,
            lost: self.expected.saturating_sub(actual),
            elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
        })
    }

    fn on_threads(&self, strategy: Strategy) -> std::io::Result<u64> {
        fn count(counter: impl Counter, c: &Config) -> std::io::Result<u64> {
            threads::run(&counter, c.workers, c.increments)?;
            Ok(counter.get())
        }
        let c = &self.config;
        match strategy {
            Strategy::Racy => count(Racy::new(c.yield_between), c),
            Strategy::Mutex => count(Locked::new(), c),
            Strategy::Atomic => count(Atomic::new(), c),
            Strategy::Actor => count(Actor::spawn(), c),
        }
    }

    fn on_tasks(&mut self, strategy: Strategy) -> std::io::Result<u64> {
        async fn count(counter: impl AsyncCounter, c: Config) -> u64 {
            let counter = Arc::new(counter);
            tasks::run(&counter, c.workers, c.increments).await;
            counter.get().await
        }
        let c = self.config;
        let runtime = match &mut self.runtime {
            Some(rt) => rt,
            none => none.insert(tasks::runtime()?),
        };
        Ok(runtime.block_on(async move {
            match strategy {
                Strategy::Racy => count(Racy::new(c.yield_between), c).await,
                Strategy::Mutex => count(AsyncLocked::new(), c).await,
                Strategy::Atomic => count(Atomic::new(), c).await,
                // Spawned here, inside the runtime, since its owner is a task.
                Strategy::Actor => count(AsyncActor::spawn(), c).await,
            }
        }))
    }
}

/// Every strategy in every world, `runs` times each, world by world; `on_run` sees each
/// outcome as it comes (a progress bar).
pub fn run_all(
    config: Config,
    strategies: &[Strategy],
    worlds: &[World],
    runs: usize,
    mut on_run: impl FnMut(&Outcome),
) -> Result<Report, Error> {
    let mut runner = Runner::new(config)?;
    let mut outcomes = Vec::with_capacity(strategies.len() * worlds.len() * runs);
    for &world in worlds {
        for &strategy in strategies {
            for _ in 0..runs {
                let outcome = runner.run(strategy, world)?;
                on_run(&outcome);
                outcomes.push(outcome);
            }
        }
    }
    Ok(Report::new(config, outcomes))
}
