//! The **waker**: how a task that is waiting says "run me again".
//!
//! The chapter's event loop keeps "a queue of callbacks ready to run"; with futures, what is
//! queued is a task id, and a [`std::task::Waker`] is the handle that queues it. Every task
//! has one [`Header`] (behind an `Arc`, so wakers are cheap clones); waking it:
//!
//! 1. does nothing if the task has finished or was dropped (`done`): a late wake from a
//!    timer, a socket or another thread is harmless;
//! 2. does nothing if the task is already queued (`queued`): woken twice, it runs once;
//! 3. otherwise queues the id: on the loop's own thread straight onto the executor's local
//!    ready queue, from any other thread (a CPU pool, the signal thread) onto the
//!    [`Remote`] queue, then pokes the loop through a `mio::Waker` (an eventfd in the epoll
//!    set) so a loop asleep in `epoll_wait` wakes up and drains it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Wake;

use crate::context;

/// The shared part of one task: its id in the executor's slab and its two flags.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) id: usize,
    /// Set by a wake, cleared by the executor just before it polls the task. A task is polled
    /// only while this is set, so no task runs without having been woken.
    pub(crate) queued: AtomicBool,
    /// Set when the task completes or is dropped; wakes after that are ignored.
    pub(crate) done: AtomicBool,
    pub(crate) remote: Arc<Remote>,
}

impl Header {
    pub(crate) fn new(id: usize, remote: Arc<Remote>) -> Self {
        Self {
            id,
            // A new task is queued by `spawn` itself: its first poll needs no wake.
            queued: AtomicBool::new(true),
            done: AtomicBool::new(false),
            remote,
        }
    }
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.done.load(Ordering::Acquire) || self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        if !context::push_local(&self.remote, self.id) {
            self.remote.push(Arc::clone(self));
        }
    }
}

/// Wakes that come from other threads, and the `mio::Waker` that interrupts `epoll_wait`.
#[derive(Debug)]
pub(crate) struct Remote {
    /// Headers, not bare ids: the loop checks `done` when it drains them, because the slot of
    /// a task that ended in between may already hold another task.
    queue: Mutex<Vec<Arc<Header>>>,
    waker: mio::Waker,
}

impl Remote {
    pub(crate) fn new(waker: mio::Waker) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            waker,
        }
    }

    fn push(&self, header: Arc<Header>) {
        let first = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.push(header);
            queue.len() == 1
        };
        // One poke per batch: a loop that has not drained the queue yet was already poked.
        if first {
            // Failing means the eventfd is gone, i.e. the loop has shut down: nobody to wake.
            let _ = self.waker.wake();
        }
    }

    /// The wakes that arrived from other threads since the last call.
    pub(crate) fn take(&self) -> Vec<Arc<Header>> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
