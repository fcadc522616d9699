//! [`MayWait`]: stackful coroutines (`may`); a wait parks the coroutine, not its carrier.

use std::future::{Future, ready};
use std::sync::Arc;
use std::time::Duration;

use super::{Wait, cpu_pool};
use crate::CpuPolicy;

/// Coroutine models on `may`. Like [`super::ThreadWait`], every wait happens in the call
/// body and the returned future is already complete, so a handler finishes on its first poll
/// under a trivial `block_on` run *inside a coroutine*. The difference: `may::coroutine::sleep`
/// parks only the coroutine, and its carrier thread runs other coroutines meanwhile. Called on
/// a plain thread (outside any coroutine), may falls back to `std::thread::sleep`.
///
/// `run_cpu`: `Inline` runs the work on the carrier (every coroutine on it stalls meanwhile,
/// the coroutine version of the §07 warning); `BlockingPool` hands it to a small dedicated
/// thread pool and parks the coroutine on a may channel until the result comes back.
///
/// # Soundness caveats of running handlers on may
/// may's `spawn` is `unsafe` because a coroutine is not a thread, and the caller (the model)
/// must keep these in mind; this type adds no `unsafe` of its own:
/// - **Thread-locals across yields**: every wait here is a yield, and a coroutine can resume
///   on a different carrier thread: another worker, or (briefly, inside `sleep`) may's timer
///   thread, even with a single worker. A `thread_local!`
///   reference, or a guard tied to its thread (`std::sync::MutexGuard`), held across a backend
///   call can then be used from the wrong thread. The handlers hold none across an `.await`.
/// - **Fixed stack size**: a coroutine's stack is allocated once (may's default 32 KiB) with a
///   guard page; overflowing it aborts the process. SQLite queries fit in the default, but
///   the sync `postgres` client behind [`crate::MayClients`] (a tokio runtime inside) does
///   not: it overflowed 32 KiB in this crate's tests, which give coroutines 512 KiB. Give
///   handler coroutines a generous stack (`may::config().set_stack_size(..)`, in words).
/// - **Blocking calls pin the carrier**: anything that blocks the OS thread (a std lock, a
///   blocking driver, `std::thread::sleep`) stalls every coroutine on that carrier; see
///   [`crate::MAY_PINNING_NOTE`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MayWait {
    pub cpu_policy: CpuPolicy,
}

/// Coroutines: may's semaphore parks the coroutine, not its carrier, while it waits.
#[derive(Debug)]
pub struct CoroutineSlots(Arc<may::sync::Semphore>);

/// A coroutine's slot: posted back on drop.
#[derive(Debug)]
pub struct CoroutineSlot(Arc<may::sync::Semphore>);

impl Drop for CoroutineSlot {
    fn drop(&mut self) {
        self.0.post();
    }
}

impl super::Slots for CoroutineSlots {
    type Held = CoroutineSlot;

    fn take(&self) -> impl Future<Output = CoroutineSlot> + Send {
        self.0.wait();
        ready(CoroutineSlot(Arc::clone(&self.0)))
    }
}

impl Wait for MayWait {
    type Slots = CoroutineSlots;

    fn slots(&self, n: usize) -> Self::Slots {
        CoroutineSlots(Arc::new(may::sync::Semphore::new(n)))
    }

    /// See [`Wait::cpu_clock_per_poll`]: a poll here spans yields and carrier changes.
    fn cpu_clock_per_poll(&self) -> bool {
        false
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        may::coroutine::sleep(d);
        // may's timer thread resumes a coroutine whose sleep expired *on itself* (it calls
        // `run_coroutine` from its timeout handler). Left there, the rest of the handler (the
        // query, the JSON) would run on that one thread and delay every other timer. A yield
        // from a non-worker thread re-queues the coroutine on a worker: back on a carrier.
        may::coroutine::yield_now();
        ready(())
    }

    /// A plain thread, not a coroutine: `block_on` parks its thread, which must not be a
    /// carrier; the owner's waits (may's sleep, the sync database clients) fall back to
    /// blocking that thread, which serves nobody else.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        super::thread::spawn_owner(task);
    }

    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        ready(match self.cpu_policy {
            CpuPolicy::Inline => work(),
            CpuPolicy::BlockingPool => cpu_pool::run(work),
        })
    }
}
