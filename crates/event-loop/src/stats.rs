//! The loop's own counters: how many turns it made, how many polls it ran, and how its time
//! splits between waiting in `epoll_wait` and running tasks (its **busy fraction**: near 0 a
//! loop at rest, near 1 a loop that is the bottleneck). Written by the loop thread only,
//! read by `/debug/stats` from any thread, hence relaxed atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

#[derive(Debug)]
pub struct LoopStats {
    started: Instant,
    /// When the last `epoll_wait` returned (ns since `started`): the run phase starts there.
    last_wake_ns: AtomicU64,
    turns: AtomicU64,
    pub(crate) polls: AtomicU64,
    wait_ns: AtomicU64,
    run_ns: AtomicU64,
}

/// A reading of [`LoopStats`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LoopSnapshot {
    /// Turns of the loop (each ends in one `epoll_wait`).
    pub turns: u64,
    /// Task polls (each follows a wake).
    pub polls: u64,
    /// Time spent inside `epoll_wait`.
    pub wait_us: u64,
    /// Time spent running tasks, timers and callbacks.
    pub run_us: u64,
    /// `run / (run + wait)`: the fraction of the loop thread's time spent working.
    pub busy_fraction: f64,
}

impl LoopStats {
    pub(crate) fn new() -> Self {
        Self {
            started: Instant::now(),
            last_wake_ns: AtomicU64::new(0),
            turns: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            wait_ns: AtomicU64::new(0),
            run_ns: AtomicU64::new(0),
        }
    }

    fn since_start(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }

    /// One turn: it ran from the previous wake up to `before`, then waited until `after`.
    pub(crate) fn turn(&self, before: Instant, after: Instant) {
        let (before, after) = (self.since_start(before), self.since_start(after));
        let last = self.last_wake_ns.load(Ordering::Relaxed);
        self.run_ns
            .fetch_add(before.saturating_sub(last), Ordering::Relaxed);
        self.wait_ns
            .fetch_add(after.saturating_sub(before), Ordering::Relaxed);
        self.last_wake_ns.store(after, Ordering::Relaxed);
        self.turns.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> LoopSnapshot {
        let wait_ns = self.wait_ns.load(Ordering::Relaxed);
        let run_ns = self.run_ns.load(Ordering::Relaxed);
        let total = wait_ns + run_ns;
        LoopSnapshot {
            turns: self.turns.load(Ordering::Relaxed),
            polls: self.polls.load(Ordering::Relaxed),
            wait_us: wait_ns / 1000,
            run_us: run_ns / 1000,
            #[allow(clippy::cast_precision_loss)]
            busy_fraction: if total == 0 {
                0.0
            } else {
                run_ns as f64 / total as f64
            },
        }
    }
}
