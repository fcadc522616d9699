//! `atomic`: the read-add-write as one indivisible instruction (`lock xadd` on x86-64).

use crate::Counter;
use clab_sync::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Atomic {
    value: AtomicU64,
}

impl Atomic {
    pub fn new() -> Self {
        Self {
            value: AtomicU64::new(0),
        }
    }

    fn add_one(&self) {
        // Relaxed is enough: a read-modify-write never loses another one whatever the
        // ordering; the final read comes after joining every worker, and the join orders it.
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl Counter for Atomic {
    fn increment(&self) {
        self.add_one();
    }

    fn get(&self) -> u64 {
        self.read()
    }
}

/// Atomics belong to both worlds: a `fetch_add` never blocks, so a task may use it as is.
#[cfg(not(loom))]
impl crate::AsyncCounter for Atomic {
    async fn increment(&self) {
        self.add_one();
    }

    async fn get(&self) -> u64 {
        self.read()
    }
}
