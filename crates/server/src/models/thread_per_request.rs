//! `thread-per-request`: a new OS thread for every accepted connection, which serves it and
//! exits; the chapter's §05–06 (its Python `threading.Thread(target=handle_request)` loop),
//! and the model the C10k problem is about.
//!
//! # How it works
//! 1. `Listener`: the calling thread sleeps in `poll(2)` on the listener and the shutdown
//!    eventfd, and accepts.
//! 2. It spawns a thread (`std::thread::Builder`, stack `--stack-size` or the platform's
//!    default) that owns the connection: [`crate::drivers::blocking`] reads, parses through
//!    the shared [`crate::conn::Conn`], handles with [`clab_backend::block_on`] over a
//!    [`clab_backend::BlockingBackend`] (a query blocks this thread in the kernel; the OS
//!    runs another, with no `async` anywhere), writes, loops on keep-alive.
//! 3. When the connection closes the thread exits (its lingering close goes to the lingering
//!    thread). OS threads = open connections + 2 (the acceptor and the lingering thread).
//!
//! # What it demonstrates
//! Blocking code with real concurrency: N concurrent requests that each wait 100 ms finish in
//! about 100 ms, not N × 100 ms (claim C06), and the kernel does the scheduling.
//!
//! # Where it breaks
//! Each connection costs a thread: a stack reservation (8 MiB of virtual memory by default,
//! touched pages of RSS), a kernel stack, two or more memory maps, a pid, and a context switch
//! per wait. Enough connections hit a kernel limit (`kernel.pid_max`, `vm.max_map_count`,
//! `ulimit -u`, memory): the spawn fails, and that connection gets a 503 naming the error
//! while the server keeps serving the others. `--max-connections` (default: the fd limit less
//! headroom) and `--max-threads` turn that into a 503 before the spawn. Slow and idle clients
//! hold only their own threads: a silent or slowloris connection until `--header-timeout`
//! from its accept, an idle keep-alive one until `--idle-timeout`, one that stops reading
//! until the write timeout; a lingering close goes to the lingering thread
//! ([`crate::drivers::reaper`]) and the connection's thread exits at once. So a hostile crowd
//! costs threads and memory, not other clients' latency (tested with 400 such connections,
//! `tests/limits.rs`), until it reaches those limits.
//!
//! # Knobs
//! [`ServeOptions`]: `stack_size`, `max_threads` (past it new connections get 503 at once;
//! default no cap, so C10k can show where it really breaks), `max_connections`,
//! `max_inflight`, `limits`, `header_timeout`, `idle_timeout`, `drain_deadline`, `backend`.
//! `workers` is not used (threads follow the connections). `--cpu-policy` changes nothing:
//! each request already has its own thread.
//!
//! # Shutdown
//! 1. The acceptor's `poll` wakes on the shutdown eventfd; it stops accepting, spawns threads
//!    for the connections already waiting in the accept queue (`sweep_backlog`: served, not
//!    reset) and drops the listener (new connections are refused).
//! 2. Every connection thread finishes the request in hand and answers `Connection: close`,
//!    or, if idle, wakes on the eventfd, gives a request already on its way
//!    [`crate::conn::DRAIN_GRACE`], then closes and exits.
//! 3. The acceptor waits until the live-thread count reaches zero, at most the drain
//!    deadline, then returns (threads still in a handler are left behind, detached).
//!
//! It terminates: nothing is spawned after step 1, every thread ends after at most one more
//! response or grace period, and step 3 is bounded by the deadline.

use super::{Caps, Spec};
use crate::busy::Busy;
use crate::drivers::blocking::{Accepted, Queue, serve_conn};
use crate::drivers::reaper::Reaper;
use crate::listen::connections;
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown};
use clab_backend::BlockingBackend;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

pub const SPEC: Spec = Spec {
    name: "thread-per-request",
    summary: "a new OS thread per connection, blocking calls park it; up to --max-connections (or --max-threads)",
    chapter: "§05–06",
    default_workers: || 1,
    serve,
    caps: Caps {
        configurable_workers: false,
        thread_per_connection: true,
        ..Caps::DEFAULT
    },
};

/// Connection threads alive, and a condvar the acceptor waits on while draining.
#[derive(Debug, Default)]
struct Live {
    count: Mutex<usize>,
    changed: Condvar,
}

impl Live {
    fn add(&self) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }
    fn remove(&self) {
        let mut n = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *n = n.saturating_sub(1);
        self.changed.notify_all();
    }
    fn get(&self) -> usize {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Decrements the live count when the connection thread ends, even by a panic.
struct Leave(Arc<Live>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.remove();
    }
}

fn serve(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let backend = BlockingBackend::connect(&opts.backend)?;
    listen.defer_accept(opts.header_timeout);
    let listener = listen.announce(Model::ThreadPerRequest, 1, &backend, on_ready)?;
    let (stack_size, max_threads, drain_deadline) =
        (opts.stack_size, opts.max_threads, opts.drain_deadline);
    let shared = Arc::new(Shared::new(
        Model::ThreadPerRequest,
        1,
        backend,
        opts,
        shutdown.clone(),
    ));
    let live = Arc::new(Live::default());
    let (reaper, lingering) =
        Reaper::start().map_err(ServerError::io("start the lingering thread"))?;
    let mut busy = Busy::new(reaper.clone());
    // After the trigger, the clients already waiting in the accept queue go through the same
    // spawn (`listen::connections`).
    for stream in connections(
        &listener,
        &shutdown,
        &shared.admission.idle,
        shared.opts.backlog_sweep,
    ) {
        if max_threads.is_some_and(|max| live.get() >= max) {
            busy.refuse(stream, "--max-threads reached");
            continue;
        }
        let Some(accepted) = Accepted::admit(stream, &shared, &mut busy) else {
            continue;
        };
        let mut builder = std::thread::Builder::new().name("clab-conn".into());
        if let Some(size) = stack_size {
            builder = builder.stack_size(size);
        }
        live.add();
        let (shared, leave) = (Arc::clone(&shared), Leave(Arc::clone(&live)));
        let reaper = reaper.clone();
        // The stream moves into the closure; if the spawn fails the closure (and the stream)
        // comes back inside the error only as a drop, so keep a clone to answer the 503 on.
        let reply = accepted.stream.try_clone();
        let spawned = builder.spawn(move || {
            let _leave = leave;
            serve_conn(accepted, &shared, Queue::None, &reaper);
        });
        if let Err(err) = spawned {
            // A kernel limit (pid_max, max_map_count, RLIMIT_NPROC, memory): say which.
            tracing::warn!(%err, live = live.get(), "cannot spawn a connection thread");
            if let Ok(stream) = reply {
                busy.refuse(stream, &format!("cannot create a thread: {err}"));
            }
        }
    }
    drop(listener);

    let deadline = Instant::now() + drain_deadline;
    let mut n = live.count.lock().unwrap_or_else(PoisonError::into_inner);
    while *n > 0 {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            tracing::warn!(left = *n, "drain deadline passed with requests still in flight");
            break;
        };
        n = live
            .changed
            .wait_timeout(n, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    drop(n);
    // The closes handed to the lingering thread finish before `serve` returns.
    drop((busy, reaper));
    lingering.wait(deadline);
    Ok(())
}
