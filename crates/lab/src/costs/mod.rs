//! `clab costs`: what a thread, a task and a coroutine really cost on this machine (claims C07,
//! C08, C09, C10, C14, C15 of the chapter's §06, §08 and §09).
//!
//! Three kinds of unit are measured the same way:
//! - **OS threads** (`std::thread`): a kernel task each, with its own stack mapping;
//! - **stackless tasks** (tokio): a heap-allocated future each, polled by a runtime;
//! - **stackful coroutines** (`may`, feature `coroutines`): a user-space stack each, switched by
//!   swapping registers. See [`coroutine`] for its configuration and soundness caveats.
//!
//! One file per measurement: [`creation`] (spawn + join), [`switch`] (ping-pong),
//! [`memory`] (VSZ/RSS per parked unit), [`limit`] (how many fit, and what stops them),
//! [`state_machine`] (the compiled `async fn` against a hand-written `enum`). [`run`] performs
//! them all and assembles [`Report`]; [`table`] turns it into the chapter's table with a verdict
//! per row computed by [`verdict`]. Every number is measured during the run; only the claims
//! come from the chapter.

pub mod affinity;
#[cfg(feature = "coroutines")]
pub mod coroutine;
pub mod creation;
pub mod error;
pub mod limit;
pub mod memory;
pub mod parked;
pub mod procfs;
mod report;
pub mod state_machine;
pub mod stats;
pub mod switch;
pub mod sysctl;
pub mod table;
pub mod verdict;

pub use error::{CostsError, Result};
pub use report::{Report, run};

use serde::Serialize;

/// Tests that read this process's memory or thread counts run one at a time: libtest runs
/// tests in parallel threads of one process, whose allocations would land in each other's deltas.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How much to measure. [`Config::quick`] fits in ~20 s, [`Config::full`] in ~2 min.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Quick mode: fewer samples, small limit caps.
    pub quick: bool,
    /// Runs per timed measurement (min–max are over these).
    pub runs: usize,
    /// Cap on parked tokio tasks (C15 and the task limit).
    pub max_tasks: u64,
    /// Cap on threads in the limit probe.
    pub max_threads: u64,
    /// Cap on coroutines in the limit probe.
    pub max_coroutines: u64,
    /// Raise `vm.max_map_count`, `kernel.pid_max` and `RLIMIT_NPROC` for the limit probe and
    /// restore them afterwards (root only).
    pub raise_limits: bool,
}

impl Config {
    /// About 20 seconds: limits capped well below where the machine would refuse.
    pub fn quick() -> Self {
        Self {
            quick: true,
            runs: 3,
            max_tasks: 1_000_000,
            max_threads: 4_000,
            max_coroutines: 20_000,
            raise_limits: false,
        }
    }

    /// About 2 minutes: limit probes go until the system refuses (or the cap of 40,000).
    pub fn full() -> Self {
        Self {
            quick: false,
            runs: 5,
            max_threads: 40_000,
            max_coroutines: 40_000,
            ..Self::quick()
        }
    }

    /// Sample sizes of this mode.
    fn sizes(&self) -> Sizes {
        if self.quick {
            Sizes {
                spawn_threads: 1_000,
                spawn_green: 20_000,
                rounds_same_core: 20_000,
                rounds_cross_core: 2_000,
                rounds_green: 100_000,
                memory_threads: 1_000,
                memory_tasks: 100_000,
                memory_coroutines: 5_000,
            }
        } else {
            Sizes {
                spawn_threads: 4_000,
                spawn_green: 100_000,
                rounds_same_core: 50_000,
                rounds_cross_core: 10_000,
                rounds_green: 500_000,
                memory_threads: 10_000,
                memory_tasks: 100_000,
                memory_coroutines: 10_000,
            }
        }
    }
}

/// Sample sizes, per run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    spawn_threads: usize,
    spawn_green: usize,
    rounds_same_core: u64,
    rounds_cross_core: u64,
    rounds_green: u64,
    memory_threads: usize,
    memory_tasks: u64,
    memory_coroutines: usize,
}

/// Where a long run reports its progress (the CLI draws a bar; tests stay silent).
pub trait Progress {
    /// The run will take `steps` steps.
    fn start(&mut self, steps: u64) {
        let _ = steps;
    }
    /// One step begins.
    fn step(&mut self, label: &str) {
        let _ = label;
    }
    /// All done.
    fn finish(&mut self) {}
}

/// No progress output.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}
