//! The small dedicated thread pool behind the `BlockingPool` policy of the models that run no
//! tokio runtime: [`super::LoopWait`] (the event loop) and `MayWait` (coroutines).
//!
//! Why a pool of its own: tokio's `spawn_blocking` needs a tokio runtime, which neither model
//! runs, and computing on the model's own threads (the loop, a may carrier) stalls everything
//! else there, just as inline work does. So CPU work goes to plain std threads (one per core:
//! more would not make CPU work finish sooner), fed by a crossbeam channel; each caller says
//! how its result comes back ([`submit`] takes the whole job): over a `may` channel whose
//! `recv` parks only the coroutine, or a oneshot whose waker wakes the loop task through the
//! loop's eventfd.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use crossbeam_channel::Sender;

type Job = Box<dyn FnOnce() + Send>;

/// What a job hands back: its result, or the panic it caught.
pub(super) type Outcome<R> = std::thread::Result<R>;

/// Run `work` on a pool thread and pass its outcome to `deliver` (there).
pub(super) fn submit<R, F>(work: F, deliver: impl FnOnce(Outcome<R>) + Send + 'static)
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let job: Job = Box::new(move || deliver(catch_unwind(AssertUnwindSafe(work))));
    jobs().send(job).expect("cpu pool threads never exit");
}

/// Run `work` on the pool and wait for its result, parking the coroutine; a panic in `work`
/// continues here.
#[cfg(feature = "coroutines")]
pub(super) fn run<R, F>(work: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (done, result) = may::sync::mpsc::channel();
    // The receiver is gone only if the caller is; nothing is left to report to.
    submit(work, move |outcome| drop(done.send(outcome)));
    match result.recv().expect("every job sends its result") {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
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
