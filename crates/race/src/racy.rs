//! `racy`: the chapter's unsynchronised `counter += 1`, as its three steps.
//!
//! The value is an atomic only so that the program has no undefined behaviour: each load and
//! each store is indivisible, but the read-add-write is not. Two workers that both load 41
//! both store 42, and one increment is lost (Fig 8 of the chapter).
//!
//! [`Racy::yield_between`] widens the window on purpose: the worker yields (the thread to the
//! OS scheduler, the task to the runtime) between its load and its store, so another worker
//! very likely runs in between. Off by default; a run that uses it says so in its output.

use crate::Counter;
use clab_sync::sync::atomic::{AtomicU64, Ordering};
use clab_sync::thread;

#[derive(Debug)]
pub struct Racy {
    value: AtomicU64,
    yield_between: bool,
}

impl Racy {
    pub fn new(yield_between: bool) -> Self {
        Self {
            value: AtomicU64::new(0),
            yield_between,
        }
    }

    fn read(&self) -> u64 {
        // Relaxed: ordering is not the point; no ordering would make load-then-store atomic.
        self.value.load(Ordering::Relaxed)
    }

    fn write_back(&self, read: u64) {
        self.value.store(read + 1, Ordering::Relaxed);
    }
}

impl Counter for Racy {
    fn increment(&self) {
        let read = self.read();
        if self.yield_between {
            thread::yield_now();
        }
        self.write_back(read);
    }

    fn get(&self) -> u64 {
        self.read()
    }
}

/// The same three steps in a task. Without `yield_between` nothing yields between them, so
/// updates are lost only between tasks on different runtime workers, exactly as threads lose
/// them; with it, the gap is an `.await`: check-then-act across a yield point (claim C19),
/// which loses updates even between tasks sharing one worker.
#[cfg(not(loom))]
impl crate::AsyncCounter for Racy {
    async fn increment(&self) {
        let read = self.read();
        if self.yield_between {
            tokio::task::yield_now().await;
        }
        self.write_back(read);
    }

    async fn get(&self) -> u64 {
        self.read()
    }
}
