//! `async-multi`: a tokio multi-thread runtime, one task per connection, work stealing across
//! one worker thread per core; the chapter's §09–10 (goroutines and the M:N scheduler) in Rust.
//!
//! # How it works
//! 1. `serve` builds the runtime (workers = cores by default) and, inside it, an
//!    [`clab_backend::AsyncBackend`] wrapped in `Arc<App<_>>`.
//! 2. `Listener`: the shared tokio accept loop (`tokio_accept.rs`) on the calling thread's
//!    `block_on` spawns one task per accepted connection; tasks land on the workers' queues.
//! 3. A `Conn` task reads through [`crate::drivers::nonblocking`]: when no bytes are ready the task
//!    returns `Pending` and its worker runs another task; epoll wakes it later.
//! 4. Handle: the handler future is polled on the worker; every database query, cache lookup,
//!    upstream call or simulated round trip is a real `.await` (a tokio timer or socket), so
//!    waiting costs a parked task (a few hundred bytes), not a thread.
//! 5. Write the response; keep-alive loops to 3. An idle worker steals tasks from busy ones.
//!
//! # What it demonstrates
//! M:N scheduling: thousands of concurrent connections, each waiting on IO, served by as
//! many threads as cores; a wait costs a task switch (~100 ns) instead of a context switch.
//!
//! # Where it breaks
//! Cooperative scheduling: CPU work or a blocking call inside a handler stalls its worker
//! and every task queued behind it (`/cpu` and `/hash` with `--cpu-policy inline`); the cure
//! is `--cpu-policy blocking-pool`. Tasks are `Send` and may move between threads, so shared
//! state needs `Arc` and locks, unlike the single-threaded models.
//!
//! # Knobs
//! [`ServeOptions`]: `workers` (default cores), `limits`, `header_timeout`, `idle_timeout`,
//! `drain_deadline`, `backend`. `--cpu-policy inline` runs `/cpu` and `/hash` on the worker
//! (stalling the tasks queued behind it); `blocking-pool` sends them to tokio's blocking pool
//! (`spawn_blocking`, threads created on demand), so the workers keep serving.
//! Bounds, as every model: `max_connections` (past it a new connection's task answers 503
//! with `Retry-After` and closes) and `max_inflight` (`docs/robustness.md`).
//!
//! # Shutdown
//! 1. The accept loop's `select!` sees its [`crate::shutdown::Watch`] resolve, stops accepting and drops
//!    the listener (new connections are refused).
//! 2. Every `Conn` task also watches the trigger: a task waiting on an idle keep-alive
//!    connection wakes, gives a request already on its way [`crate::conn::DRAIN_GRACE`] to
//!    arrive, then closes; a task handling a request finishes it and answers with
//!    `Connection: close`.
//! 3. The accept loop awaits every connection task (a `JoinSet`), bounded by the drain
//!    deadline; tasks still running then are cancelled when the runtime is dropped.
//!
//! It terminates: no task is spawned after step 1, every task ends after at most one more
//! response, and step 3 is bounded by the deadline.

use super::{Caps, Spec};
use crate::tokio_accept::serve_on_runtime;
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shutdown, cores};

pub const SPEC: Spec = Spec {
    name: "async-multi",
    summary: "tokio multi-thread runtime, one task per connection, work stealing across cores (M:N)",
    chapter: "§08–10",
    default_workers: cores,
    serve,
    caps: Caps {
        cooperative: true,
        ..Caps::DEFAULT
    },
};


fn serve(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let workers = Model::AsyncMulti.workers(&opts);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("clab-async-worker")
        .enable_all()
        .build()
        .map_err(ServerError::io("build tokio runtime"))?;
    serve_on_runtime(runtime, Model::AsyncMulti, workers, listen, opts, shutdown, on_ready)
}
