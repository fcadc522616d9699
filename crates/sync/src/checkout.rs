//! [`Checkout`]: at most `size` resources (connections), opened lazily, handed out one holder
//! at a time, with a bounded wait when all are busy. The protocol of the backend's connection
//! pool (`crates/backend/src/pool.rs`), without the connections.
//!
//! [`Checkout::take`]:
//! 1. lock; if an idle resource exists, take it;
//! 2. else if fewer than `size` exist, count one more, unlock and open it (a failed open
//!    un-counts it, wakes a waiter and returns the error);
//! 3. else wait on the condvar until a resource is returned or freed, or the deadline passes.
//!
//! [`Checkout::put_back`] returns a resource to the idle list and wakes one waiter;
//! [`Checkout::forget_one`] frees the slot of one that was dropped (broken) and wakes one
//! waiter, who will open a fresh one. Every change a waiter could be waiting for notifies, so
//! no checkout sleeps while a resource is idle or a slot is free: `tests/loom_checkout.rs`
//! checks it by waiting without a deadline, where a missed wake-up is a deadlock.

use crate::sync::{Condvar, Mutex, MutexGuard, PoisonError, lock};
use std::fmt;
use std::time::{Duration, Instant};

/// See the module doc.
pub struct Checkout<C> {
    state: Mutex<State<C>>,
    /// Notified when a resource goes back to `idle` or a slot is freed.
    changed: Condvar,
    size: usize,
}

struct State<C> {
    idle: Vec<C>,
    /// Resources that exist: idle plus checked out (plus being opened).
    open: usize,
}

/// Why [`Checkout::take`] gave no resource.
#[derive(Debug, PartialEq, Eq)]
pub enum TakeError<E> {
    /// Every resource stayed busy until the deadline.
    TimedOut,
    /// A slot was free but opening a resource for it failed (the slot is free again).
    Open(E),
}

impl<C> fmt::Debug for Checkout<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkout")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl<C> Checkout<C> {
    /// At most `size` resources (at least one).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            state: Mutex::new(State {
                idle: Vec::with_capacity(size),
                open: 0,
            }),
            changed: Condvar::new(),
            size,
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Resources that exist now (idle, checked out, or being opened).
    pub fn open(&self) -> usize {
        self.lock().open
    }

    /// Take an idle resource, or open one with `open` if a slot is free, or wait for either.
    /// `timeout: None` waits as long as it takes (what the loom models use: loom has no
    /// clock, its `wait_timeout` never times out).
    pub fn take<E>(
        &self,
        timeout: Option<Duration>,
        open: impl FnOnce() -> Result<C, E>,
    ) -> Result<C, TakeError<E>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.lock();
        loop {
            if let Some(resource) = state.idle.pop() {
                return Ok(resource);
            }
            if state.open < self.size {
                state.open += 1;
                // Opening can take long (a TCP connect): not under the lock.
                drop(state);
                return open().map_err(|e| {
                    self.forget_one();
                    TakeError::Open(e)
                });
            }
            state = match deadline {
                None => self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(TakeError::TimedOut);
                    }
                    self.changed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// Return a taken resource for the next holder.
    pub fn put_back(&self, resource: C) {
        self.lock().idle.push(resource);
        self.changed.notify_one();
    }

    /// A taken resource is gone (dropped as broken): free its slot.
    pub fn forget_one(&self) {
        self.lock().open -= 1;
        self.changed.notify_one();
    }

    /// The state is a Vec and a counter, consistent after every critical section.
    fn lock(&self) -> MutexGuard<'_, State<C>> {
        lock(&self.state)
    }
}
