//! `thread-per-core`: share-nothing. One OS thread per core, each running its own tokio
//! current-thread runtime with its own `SO_REUSEPORT` listener and its own backend, as nginx
//! workers, actix-web and glommio do; beyond the chapter (claim B04), the other answer to
//! "how do I use every core" besides a work-stealing M:N scheduler.
//!
//! # How it works
//! 1. `serve` starts one `Shard` thread per worker. Shard 0 takes the listener the caller
//!    bound; every other shard binds a sibling on the same address (`SO_REUSEPORT`), so each
//!    has its own accept queue and the kernel spreads new connections over them by a hash of
//!    the connection's addresses.
//! 2. Each shard builds a current-thread runtime and, inside it, its own
//!    [`clab_backend::AsyncBackend`] (its own database pool, cache and upstream client), then
//!    runs the shared tokio accept loop: one task per connection, as in `async-single`.
//! 3. A connection lives and dies on the shard that accepted it; no task ever moves, no
//!    queue is shared, nothing is stolen.
//! 4. `serve` reports ready once every shard has connected its backend, then waits for them.
//!
//! # What it demonstrates
//! Locality: no cross-core wake-ups, no shared run queue, no locks on the hot path (the lab's
//! `/debug/stats` counters are the one shared thing, relaxed atomics on padded lines).
//!
//! # Where it breaks
//! Balance: a shard that got the slow or CPU-heavy connections stays behind while another is
//! idle (work stealing would rebalance; here nothing does). Each shard blocks like
//! `async-single` on CPU work with `--cpu-policy inline`. With `sqlite::memory:` each shard
//! has its own in-memory database, so a write on one is invisible to the others; use a file
//! or PostgreSQL when state must be shared.
//!
//! # Knobs
//! [`ServeOptions`]: `workers` (shards, default cores), `limits`, `header_timeout`,
//! `idle_timeout`, `drain_deadline`, `backend` (`pool_size` is per shard).
//! `--cpu-policy blocking-pool` sends `/cpu` and `/hash` to each shard's tokio blocking pool.
//! Bounds, as every model: `max_connections` (past it a new connection's task answers 503
//! with `Retry-After` and closes) and `max_inflight` (`docs/robustness.md`).
//!
//! # Shutdown
//! 1. Every shard's accept loop watches the trigger; each stops accepting and drops its
//!    listener.
//! 2. Its connection tasks drain as in `async-single` (an idle one after
//!    [`crate::conn::DRAIN_GRACE`], a busy one after its response with `Connection: close`).
//! 3. Each accept loop waits for its connections, bounded by the drain deadline; `serve`
//!    joins every shard thread.
//!
//! It terminates: each shard terminates by `async-single`'s argument, independently.

use crate::tokio_accept::RUNTIME_SHUTDOWN;
use super::{Caps, Spec};
use crate::admission::Admission;
use crate::debug::Stats;
use crate::tokio_accept::accept_loop;
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown, cores};
use clab_backend::{AsyncBackend, Backend};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;

pub const SPEC: Spec = Spec {
    name: "thread-per-core",
    summary: "share-nothing: a current-thread runtime per core, each with its own SO_REUSEPORT listener and backend",
    chapter: "beyond (B04)",
    default_workers: cores,
    serve,
    caps: Caps {
        reuse_port: true,
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
    let shards = Model::ThreadPerCore.workers(&opts);
    let addr = listen.addr();
    let mut listeners = Vec::with_capacity(shards);
    for _ in 1..shards {
        listeners.push(
            listen
                .bind_sibling()
                .map_err(ServerError::io("bind a SO_REUSEPORT listener"))?,
        );
    }
    listeners.insert(0, listen.into_listener()?);
    let stats = Arc::new(Stats::new(Model::ThreadPerCore, shards));
    // One bound for the whole server, not one per shard.
    let admission = Admission::new(&opts);
    // Each shard reports its backend (or why it failed) once, then serves.
    let (ready_tx, ready_rx) = mpsc::channel::<Result<String, ServerError>>();
    let mut threads = Vec::with_capacity(shards);
    for (i, listener) in listeners.into_iter().enumerate() {
        let (opts, shutdown, stats, ready_tx) =
            (opts.clone(), shutdown.clone(), Arc::clone(&stats), ready_tx.clone());
        let admission = Arc::clone(&admission);
        let thread = std::thread::Builder::new()
            .name(format!("clab-shard-{i}"))
            .spawn(move || shard(listener, opts, shutdown, (stats, admission), &ready_tx))
            .map_err(ServerError::io("spawn shard thread"))?;
        threads.push(thread);
    }
    drop(ready_tx);
    let mut backend = None;
    for _ in 0..shards {
        match ready_rx.recv() {
            Ok(Ok(described)) => backend = Some(described),
            Ok(Err(err)) => {
                shutdown.trigger();
                let _ = join_all(threads);
                return Err(err);
            }
            Err(_) => break,
        }
    }
    if let Some(backend) = backend {
        on_ready(&Ready {
            model: Model::ThreadPerCore,
            workers: shards,
            addr,
            backend,
        });
    }
    join_all(threads)
}

/// One `Shard`: its own runtime, backend and listener.
fn shard(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: Shutdown,
    (stats, admission): (Arc<Stats>, Arc<Admission>),
    ready: &mpsc::Sender<Result<String, ServerError>>,
) -> Result<(), ServerError> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .thread_name("clab-shard-blocking")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            let _ = ready.send(Err(ServerError::io("build tokio runtime")(err)));
            return Ok(());
        }
    };
    let result = runtime.block_on(async {
        let backend = match AsyncBackend::connect(&opts.backend).await {
            Ok(b) => b,
            Err(err) => {
                let _ = ready.send(Err(err.into()));
                return Ok(());
            }
        };
        let _ = ready.send(Ok(backend.describe()));
        stats.add_runtime(tokio::runtime::Handle::current());
        let shared = Arc::new(Shared::with_stats(stats, admission, backend, opts, shutdown));
        accept_loop(listener, shared).await
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

fn join_all(
    threads: Vec<std::thread::JoinHandle<Result<(), ServerError>>>,
) -> Result<(), ServerError> {
    let mut first_err = None;
    for t in threads {
        if let Ok(Err(err)) = t.join() {
            first_err.get_or_insert(err);
        }
    }
    first_err.map_or(Ok(()), Err)
}
