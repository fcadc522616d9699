//! The tasks world's driver: `workers` tokio tasks on a multi-thread runtime, started
//! together, each incrementing.

use crate::AsyncCounter;
use std::sync::Arc;
use tokio::sync::Barrier;

/// A multi-thread runtime with one worker per core (tokio's default): tasks on different
/// workers run in parallel, as threads do.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Run `workers` tasks of `increments` increments each on `counter` and wait for all. Call
/// inside the runtime. Spawning a task cannot fail, so a barrier is safe here (unlike
/// threads, see `threads::run`).
pub(crate) async fn run<C: AsyncCounter>(counter: &Arc<C>, workers: u64, increments: u64) {
    let n = usize::try_from(workers).expect("worker count fits in usize");
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (counter, barrier) = (Arc::clone(counter), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                for _ in 0..increments {
                    counter.increment().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a worker task never panics");
    }
}
