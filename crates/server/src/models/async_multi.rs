//! `async-multi`: a tokio multi-thread runtime, one task per connection, work stealing across
//! one worker thread per core; the chapter's §09–10 (goroutines and the M:N scheduler) in Rust.
//!
//! # How it works
//! 1. [`serve`] builds the runtime (workers = cores by default) and, inside it, an
//!    [`clab_backend::AsyncBackend`] wrapped in `Arc<App<_>>`.
//! 2. `Listener`: an accept loop on the calling thread's `block_on` spawns one task per
//!    accepted connection (`Conn`); tasks land on the workers' run queues.
//! 3. A `Conn` task reads through [`crate::async_conn`]: when no bytes are ready the task
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
//! `drain_deadline`, `backend` (its `cpu_policy` decides where CPU work runs).
//!
//! # Shutdown
//! 1. The accept loop's `select!` sees its [`crate::shutdown::Watch`] resolve, stops accepting and drops
//!    the listener (new connections are refused).
//! 2. Every `Conn` task also watches the trigger: a task waiting on an idle keep-alive
//!    connection wakes and closes; a task handling a request finishes it and answers with
//!    `Connection: close`.
//! 3. The accept loop awaits every connection task (a `JoinSet`), bounded by the drain
//!    deadline; tasks still running then are cancelled when the runtime is dropped.
//!
//! It terminates: no task is spawned after step 1, every task ends after at most one more
//! response, and step 3 is bounded by the deadline.

use crate::async_conn::serve_conn;
use crate::{Model, Ready, ServeOptions, ServerError, Shutdown, cores};
use clab_app::App;
use clab_backend::AsyncBackend;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

pub const NAME: &str = "async-multi";
pub const SUMMARY: &str =
    "tokio multi-thread runtime, one task per connection, work stealing across cores (M:N)";

/// One worker per core: tasks never block (in theory), so more threads would only contend.
pub fn default_workers() -> usize {
    cores()
}

/// Tasks left after the drain deadline are cancelled; give blocking-pool work this long.
const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

pub fn serve(
    listener: TcpListener,
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
    let result = runtime.block_on(run(listener, opts, shutdown, workers, on_ready));
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

async fn run(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: Shutdown,
    workers: usize,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let backend = AsyncBackend::connect(&opts.backend).await?;
    let addr = crate::listener::make_nonblocking(&listener)?;
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(ServerError::io("register listener"))?;
    let app = Arc::new(App::new(backend));
    on_ready(&Ready::new(Model::AsyncMulti, workers, addr, app.backend()));
    let opts = Arc::new(opts);

    let mut conns = JoinSet::new();
    let mut stop = shutdown.watch();
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let (app, opts, shutdown) = (Arc::clone(&app), Arc::clone(&opts), shutdown.clone());
                    conns.spawn(async move { serve_conn(stream, &app, &opts, &shutdown).await });
                }
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning; the backlog waits.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
        // Reap finished connections so the set holds only live ones.
        while conns.try_join_next().is_some() {}
    }
    drop(listener);

    let drained = tokio::time::timeout(opts.drain_deadline, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = conns.len(),
            "drain deadline passed; cancelling connections"
        );
        conns.abort_all();
    }
    Ok(())
}
