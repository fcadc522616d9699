//! [`LoopWait`]: waits are timers of the lab's own event loop (`clab-event-loop`).

use std::future::Future;
use std::time::Duration;

use super::{Wait, cpu_pool};
use crate::CpuPolicy;

/// The `event-loop` model. `sleep` registers a deadline with the loop's timers and yields; the
/// loop's `epoll_wait` times out at it and the task runs on. Use on the loop's thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopWait {
    pub cpu_policy: CpuPolicy,
}

impl Wait for LoopWait {
    type Slots = super::TaskSlots;

    fn slots(&self, n: usize) -> Self::Slots {
        super::TaskSlots::new(n)
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        clab_event_loop::sleep(d)
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        clab_event_loop::spawn(task);
    }

    /// `Inline`: on the loop thread, which serves nobody else meanwhile (the chapter's "never
    /// block the loop", shown). `BlockingPool`: on the CPU pool (`cpu_pool.rs`); the result
    /// comes back through a oneshot whose waker, called on the pool thread, queues the task
    /// on the loop and pokes its eventfd, so `epoll_wait` returns and the task resumes.
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let policy = self.cpu_policy;
        async move {
            match policy {
                CpuPolicy::Inline => work(),
                CpuPolicy::BlockingPool => {
                    // tokio's oneshot is a plain channel with a waker: no runtime needed.
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    cpu_pool::submit(work, move |outcome| drop(tx.send(outcome)));
                    match rx.await.expect("every job sends its outcome") {
                        Ok(r) => r,
                        // The work panicked: continue the panic here, as inline would.
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
            }
        }
    }
}
