//! [`ThreadWait`]: the calling OS thread sits in the kernel for every wait.

use std::future::{Future, ready};
use std::time::Duration;

use super::Wait;

/// Thread models: `std::thread::sleep` in the call, then an already-completed future, so the
/// thread really blocks as in the chapter's thread-per-request and pool models.
///
/// There is no `cpu_policy`: CPU work always runs inline. A blocking pool exists to keep an
/// event loop's few workers free; a thread model's caller is already a thread that may block,
/// so handing the work to another thread and blocking on it would only add a hand-off.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadWait;

impl Wait for ThreadWait {
    type Slots = super::ThreadSlots;

    fn slots(&self, n: usize) -> Self::Slots {
        super::ThreadSlots::new(n)
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        std::thread::sleep(d);
        ready(())
    }

    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        ready(work())
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        spawn_owner(task);
    }
}

/// A background task of a world whose waits block in the call: its own OS thread, polling
/// with [`crate::block_on`]. If the thread cannot start, `task` is dropped, and with it
/// whatever it would have served (the bank's mailbox closes: its requests fail, not hang).
pub(crate) fn spawn_owner(task: impl Future<Output = ()> + Send + 'static) {
    let started = std::thread::Builder::new()
        .name("clab-owner".into())
        .spawn(move || crate::block_on(task));
    if let Err(e) = started {
        tracing::warn!("could not start a background thread: {e}");
    }
}
