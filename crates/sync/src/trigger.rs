//! [`Trigger`]: a one-way flag that any number of async [`Watcher`]s can await, each keeping
//! its waker in a slot of its own.
//!
//! Why a slot per watcher rather than one shared waiter list (`tokio::sync::Notify`): a
//! watcher may be polled on every read of a busy connection, and a poll here locks only the
//! watcher's own slot. The shared registry is locked when a watcher is created, when it is
//! dropped, and once by [`Trigger::pull`].
//!
//! No lost wake-up, because both sides do their two steps in opposite orders:
//! - `pull` sets the flag, *then* takes and wakes every registered waker;
//! - a poll checks the flag, stores its waker in its slot, *then* checks the flag again.
//!
//! If the poll's second check misses the flag, the flag was set after it, so `pull` takes the
//! slot's waker after the poll stored it (the slot's mutex orders the store and the take).
//! `tests/loom_trigger.rs` checks this in every interleaving.

use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::{Arc, Mutex, lock};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A cloneable one-way flag; clones share it. Checking it is one atomic load.
#[derive(Debug, Clone)]
pub struct Trigger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pulled: AtomicBool,
    next_id: AtomicU64,
    /// The slot of every live [`Watcher`], by id. A `BTreeMap`, not a `HashMap`: `pull` walks
    /// it, and a `HashMap`'s random iteration order differs between loom's replays of one
    /// schedule, which breaks loom's exploration (tokio-rs/loom#177: it then fails with
    /// `assertion failed: state.notified`). Ids only grow, so inserts go to the end.
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
}

/// One watcher's waker: locked by its own task on poll and by `pull`, so uncontended.
#[derive(Debug)]
struct Slot {
    waker: Mutex<Option<Waker>>,
}

impl Default for Trigger {
    fn default() -> Self {
        Self::new()
    }
}

impl Trigger {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                pulled: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
                slots: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Set the flag and wake every watcher. Returns whether this call was the one that set
    /// it (later calls do nothing). Callable from any thread, no runtime needed.
    pub fn pull(&self) -> bool {
        if self.inner.pulled.swap(true, Ordering::SeqCst) {
            return false;
        }
        // Collect, then wake outside the registry lock: a waker runs arbitrary code, and
        // watchers created or dropped meanwhile should not wait for all of them.
        let slots: Vec<Arc<Slot>> = lock(&self.inner.slots).values().cloned().collect();
        for slot in slots {
            if let Some(waker) = lock(&slot.waker).take() {
                waker.wake();
            }
        }
        true
    }

    pub fn is_pulled(&self) -> bool {
        self.inner.pulled.load(Ordering::SeqCst)
    }

    /// A future that resolves once the flag is set (at once if it already is), and keeps
    /// resolving when polled again. Create one per long-lived task and poll it as often as
    /// needed.
    pub fn watch(&self) -> Watcher {
        // Relaxed: ids only need to be distinct, which fetch_add gives in any ordering.
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            waker: Mutex::new(None),
        });
        lock(&self.inner.slots).insert(id, Arc::clone(&slot));
        Watcher {
            inner: Arc::clone(&self.inner),
            id,
            slot,
        }
    }

    /// How many watchers are registered (live): a dropped watcher deregisters.
    pub fn watchers(&self) -> usize {
        lock(&self.inner.slots).len()
    }
}

/// See [`Trigger::watch`].
#[derive(Debug)]
pub struct Watcher {
    inner: Arc<Inner>,
    id: u64,
    slot: Arc<Slot>,
}

impl Future for Watcher {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.inner.pulled.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        {
            let mut waker = lock(&self.slot.waker);
            match &*waker {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        // The second check of the module doc's protocol.
        if self.inner.pulled.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        lock(&self.inner.slots).remove(&self.id);
    }
}
