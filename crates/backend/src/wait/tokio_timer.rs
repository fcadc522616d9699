//! [`TokioWait`]: waits are tokio timers; the worker runs other tasks meanwhile.

use std::future::Future;
use std::time::Duration;

use super::Wait;
use crate::CpuPolicy;

/// Async models on tokio. `sleep` must be awaited inside a tokio runtime (it registers with
/// the runtime's timer driver).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioWait {
    pub cpu_policy: CpuPolicy,
}

impl Wait for TokioWait {
    type Slots = super::TaskSlots;

    fn slots(&self, n: usize) -> Self::Slots {
        super::TaskSlots::new(n)
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        drop(tokio::spawn(task));
    }

    /// `Inline`: run it in the task (blocking this worker meanwhile, the chapter's §07
    /// warning). `BlockingPool`: `spawn_blocking`, so the async workers keep serving.
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let policy = self.cpu_policy;
        async move {
            match policy {
                CpuPolicy::Inline => work(),
                CpuPolicy::BlockingPool => match tokio::task::spawn_blocking(work).await {
                    Ok(r) => r,
                    // The work panicked: let the panic continue in the caller, as inline would.
                    Err(e) => match e.try_into_panic() {
                        Ok(panic) => std::panic::resume_unwind(panic),
                        Err(_) => panic!("the blocking pool shut down under run_cpu"),
                    },
                },
            }
        }
    }
}
