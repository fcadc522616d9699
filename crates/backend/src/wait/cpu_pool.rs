//! The small dedicated thread pool behind [`super::MayWait`]'s `BlockingPool` policy.
//!
//! Why a pool of its own: tokio's `spawn_blocking` needs a tokio runtime, which a coroutine
//! model does not run, and a second may coroutine would compute on a carrier thread, stalling
//! the coroutines there just as inline work does. So CPU work goes to plain std threads (one
//! per core: more would not make CPU work finish sooner), fed by a crossbeam channel, and the
//! result comes back over a `may` channel: `recv` parks only the calling coroutine (or blocks
//! a plain thread), so its carrier keeps running other coroutines while the work computes.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::OnceLock;

use crossbeam_channel::Sender;

type Job = Box<dyn FnOnce() + Send>;

/// Run `work` on the pool and wait for its result; a panic in `work` continues here.
pub(super) fn run<R, F>(work: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (done, result) = may::sync::mpsc::channel();
    let job: Job = Box::new(move || {
        // The receiver is gone only if the caller is; nothing is left to report to.
        let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
    });
    jobs().send(job).expect("cpu pool threads never exit");
    match result.recv().expect("every job sends its result") {
        Ok(r) => r,
        Err(panic) => resume_unwind(panic),
    }
}

/// The pool's queue, its threads started on first use (a process that never offloads starts
/// none).
fn jobs() -> &'static Sender<Job> {
    static JOBS: OnceLock<Sender<Job>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("clab-cpu-{i}"))
                // A job cannot unwind out (it catches its panic), so a thread serves forever.
                .spawn(move || rx.iter().for_each(|job| job()))
                .expect("spawn a cpu pool thread");
        }
        tx
    })
}
