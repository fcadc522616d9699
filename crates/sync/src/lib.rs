//! The synchronisation the project writes by hand, written once against a facade so that
//! [loom](https://docs.rs/loom) can check it.
//!
//! # The facade
//! [`sync`] and [`thread`] are `std::sync` and `std::thread` in a normal build, and loom's
//! model-checked copies under `RUSTFLAGS="--cfg loom"`, the way tokio's `src/loom` module does
//! it. Code that takes its `Mutex`, `Condvar`, atomics, channels and threads from here runs
//! unchanged in production and under `loom::model`, which explores every interleaving of a
//! small test instead of the few a stress test happens to hit.
//!
//! Only what loom offers is re-exported: no `Barrier` (loom's is a stub that panics), and the
//! channel is `mpsc::channel` alone (no `sync_channel`), whose `recv` in loom does not notice
//! that every sender is gone, so code meant for loom stops its receivers with a message.
//!
//! # The protocols
//! - [`trigger`]: a one-way flag with per-watcher waker slots, the core of the server's
//!   graceful-shutdown `Watch` (`crates/server/src/shutdown.rs`).
//! - [`checkout`]: a bounded set of lazily opened resources behind a `Mutex` and a `Condvar`,
//!   the core of the backend's connection pool (`crates/backend/src/pool.rs`).
//!
//! Each has loom models in `tests/loom_*.rs`:
//! `RUSTFLAGS="--cfg loom" cargo test -p clab-sync --release`.

pub mod checkout;
pub mod trigger;

/// `std::sync`, or loom's under `--cfg loom`.
pub mod sync {
    #[cfg(loom)]
    pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard, WaitTimeoutResult, atomic, mpsc};
    #[cfg(not(loom))]
    pub use std::sync::{Arc, Condvar, Mutex, MutexGuard, WaitTimeoutResult, atomic, mpsc};

    // Both worlds share std's result and error types (loom re-exports them too).
    pub use std::sync::{LockResult, PoisonError};

    /// Lock, ignoring poison. For state that every critical section leaves consistent (one
    /// push, pop, insert, remove or add), a panic in another holder is no reason to stop.
    pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `loom::model` with the bound every model of the project uses: schedules with at most
/// [`PREEMPTIONS`] preemptions. Bugs need few (the lost update needs one); unbounded, a model
/// with a `Mutex<BTreeMap>` and three threads ran for more than 25 minutes without finishing.
/// `LOOM_MAX_PREEMPTIONS` in the environment overrides the bound.
#[cfg(loom)]
pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(PREEMPTIONS);
    }
    builder.check(f);
}

/// See [`model`].
#[cfg(loom)]
pub const PREEMPTIONS: usize = 3;

/// `std::thread`, or loom's under `--cfg loom`.
pub mod thread {
    #[cfg(loom)]
    pub use loom::thread::*;
    #[cfg(not(loom))]
    pub use std::thread::*;
}
