//! `mutex`: the read-add-write as a critical section only one worker is in at a time.
//!
//! Threads take a `std` mutex (through `clab-sync`, so loom checks it); tasks take tokio's,
//! whose `lock().await` yields to the runtime instead of blocking the worker thread, and which
//! may be held across an `.await` (the withdraw race of C19 needs that; this counter does not).

use crate::Counter;
use clab_sync::sync::{Mutex, lock};

#[derive(Debug)]
pub struct Locked {
    value: Mutex<u64>,
}

impl Default for Locked {
    fn default() -> Self {
        Self::new()
    }
}

impl Locked {
    pub fn new() -> Self {
        Self {
            value: Mutex::new(0),
        }
    }
}

impl Counter for Locked {
    fn increment(&self) {
        *lock(&self.value) += 1;
    }

    fn get(&self) -> u64 {
        *lock(&self.value)
    }
}

/// The tasks world's lock.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub struct AsyncLocked {
    value: tokio::sync::Mutex<u64>,
}

#[cfg(not(loom))]
impl AsyncLocked {
    pub fn new() -> Self {
        Self::default()
    }
}

#[cfg(not(loom))]
impl crate::AsyncCounter for AsyncLocked {
    async fn increment(&self) {
        *self.value.lock().await += 1;
    }

    async fn get(&self) -> u64 {
        *self.value.lock().await
    }
}
