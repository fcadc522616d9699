//! `coroutines`: stackful coroutines on an M:N scheduler (the `may` crate), one coroutine per
//! connection on `--workers` carrier threads; the chapter's §09–10 (goroutines: "a blocked
//! goroutine is parked, not its thread").
//!
//! # How it works
//! 1. `serve` configures may's scheduler (workers = carrier threads, the coroutine stack size)
//!    and starts it, connects a [`MayBackend`], and spawns the accept coroutine on a
//!    `may::net::TcpListener` made from the bound listener.
//! 2. The accept coroutine parks in `accept` (may's epoll) and spawns one coroutine per
//!    connection. A connection coroutine runs [`crate::drivers::may`]: plain `read`, handler,
//!    `write`, keep-alive loop, written like the thread models' code with no `async` in it.
//! 3. When a socket is not ready, or a simulated round trip (`may::coroutine::sleep`) or the
//!    upstream call (a may socket) waits, only the coroutine parks: its stack stays as it is
//!    and the carrier thread switches (in user space, no kernel involved) to the next ready
//!    coroutine. An event loop inside each carrier resumes parked coroutines when their socket
//!    or timer is ready; idle carriers steal ready coroutines from busy ones.
//! 4. The handler runs under the driver's `block_on`, whose waker parks and unparks the
//!    coroutine: the `MayBackend`'s futures are complete on their first poll because every
//!    wait happens, parked, inside the poll.
//!
//! OS threads: `--workers` carriers, plus may's one timer thread (it expires
//! `coroutine::sleep`s), all named [`MAY_THREAD_NAME`]; plus the thread that called `serve`
//! (it waits for the trigger); plus the CPU pool's threads (`clab-cpu-N`, one per core) once
//! `--cpu-policy blocking-pool` first offloads work. They do not grow with connections.
//!
//! # What it demonstrates
//! Blocking-style code with the thread count of an event loop: 1,000 open connections add no
//! thread, and four requests that each wait 100 ms finish in about 100 ms even on one carrier
//! (claim C06 without a thread per request). A coroutine costs a stack reservation (512 KiB of
//! virtual memory by default, a few pages touched) instead of a thread's 8 MiB and kernel task.
//!
//! # Where it breaks
//! - **Blocking calls pin the carrier.** PostgreSQL and Redis go through the *blocking*
//!   drivers ([`clab_backend::MAY_PINNING_NOTE`]): while a query waits on the network the
//!   carrier thread sits in the kernel and every coroutine queued on it waits too (a Java
//!   virtual thread pinned by `synchronized`; Go avoids it by giving every syscall a hand-off).
//!   SQLite queries and `--cpu-policy inline` CPU work also run on the carrier: with one
//!   worker, `/cpu?ms=200` delays every other request by 200 ms. `--cpu-policy blocking-pool`
//!   sends `/cpu` and `/hash` to a thread pool and parks the coroutine until the result comes.
//! - **Thread-locals across yields** (why may's `spawn` is `unsafe`): every wait is a yield,
//!   and a coroutine may resume on another carrier (work stealing; an IO event is handled by
//!   the carrier whose event loop owns that socket; a `sleep` expires on may's timer thread).
//!   A thread-local reference, a thread-bound guard (`std::sync::MutexGuard`, a thread-local
//!   waker such as [`clab_backend::block_on`]'s) held across a wait would be used from the wrong
//!   thread. The server and the handlers hold none across a wait (see the SAFETY comment in
//!   `spawn_conn`).
//! - **Fixed stack size.** A coroutine's stack is allocated once and never grows; overflowing
//!   it hits a guard page and kills the process. The default here is
//!   [`DEFAULT_STACK_SIZE`] (512 KiB), not may's 32 KiB, because the sync PostgreSQL client
//!   (a tokio runtime inside) overflows 32 KiB.
//! - **CPU time per request is not measurable** with the app's meter: the dashboard's
//!   `timing.cpu_us` sums the thread CPU clock over each poll, but one poll here spans yields
//!   during which the carrier runs other coroutines (and may end on another carrier), so the
//!   figure mixes requests and threads. Read it as unreliable under this model.
//! - **Drain wake-ups.** A parked read cannot be interrupted, so an idle connection looks at
//!   the shutdown flag once a second ([`crate::drivers::may::DRAIN_CHECK`]) instead of waking
//!   on the shutdown eventfd as the thread models do.
//!
//! # Knobs
//! [`ServeOptions`]: `workers` (carrier threads, default: the number of cores), `stack_size`
//! (bytes per coroutine stack, default [`DEFAULT_STACK_SIZE`]), `limits`, `header_timeout`,
//! `idle_timeout`, `drain_deadline`, `backlog_sweep`, `backend` (`--cpu-policy` as above).
//!
//! may's configuration is **process-global and fixed when its scheduler starts**: the first
//! `coroutines` server in a process sets the workers and the default stack size and starts
//! the scheduler; a later one (the test suite runs many in one process) shares those carriers
//! whatever its own `workers` say (it logs a warning and reports the real count in `Ready`
//! and `/debug/stats`). A different `stack_size` is still honoured per coroutine, at the cost
//! of a fresh stack allocation per connection instead of may's pool of reusable ones. may pins
//! its workers to cores by default; that is left as it ships.
//! Bounds, as every model: `max_connections` (past it a new connection's task answers 503
//! with `Retry-After` and closes) and `max_inflight` (`docs/robustness.md`).
//!
//! # Shutdown
//! 1. The calling thread waits on the shutdown eventfd. When it fires, it connects once to
//!    the listener itself, which wakes the accept coroutine out of `accept` (may cannot
//!    interrupt a parked accept otherwise); that coroutine serves what it accepted (that
//!    wake-up connection closes at once) and stops accepting.
//! 2. `sweep_backlog` takes the clients already in the accept queue and spawns coroutines for
//!    them; the listener is dropped (new connections are refused).
//! 3. Every connection coroutine finishes the request in hand and answers
//!    `Connection: close`; an idle one sees the flag within [`crate::drivers::may::DRAIN_CHECK`],
//!    gives a request on its way [`crate::conn::DRAIN_GRACE`], then closes.
//! 4. `serve` waits until every connection coroutine has ended, at most the drain deadline
//!    (coroutines still in a handler are left behind on the carriers).
//!
//! It terminates: nothing is accepted after step 2, every coroutine ends after at most one more
//! response or about a second and a grace period, and step 4 is bounded by the deadline.

use super::{Caps, Spec};
use crate::drivers::may::serve_conn;
use crate::listen::{ACCEPT_BACKOFF, sweep_backlog};
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown};
use clab_backend::{MAY_PINNING_NOTE, MayBackend};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub const SPEC: Spec = Spec {
    name: "coroutines",
    summary: "stackful may coroutines, one per connection, on --workers carriers (goroutines)",
    chapter: "§09–10",
    default_workers: crate::cores,
    serve,
    caps: Caps {
        cooperative: true,
        note: Some(MAY_PINNING_NOTE),
        ..Caps::DEFAULT
    },
};

/// A coroutine's stack when `--stack-size` is not given: the sync PostgreSQL client overflows
/// may's default 32 KiB; 512 KiB is what the backend's own may tests use.
pub const DEFAULT_STACK_SIZE: usize = 512 * 1024;

/// How long the wake-up connection of shutdown step 1 may take.
const WAKE_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// What may's process-global scheduler was started with (by the first server in the process).
#[derive(Debug, Clone, Copy)]
struct Scheduler {
    workers: usize,
    /// The default coroutine stack, in words (may's unit); coroutines of this size are pooled.
    stack_words: usize,
}

/// The name may's own threads (its carriers and its timer thread) carry: they inherit the
/// name of the thread that starts the scheduler, so it is started from a thread of this name.
pub const MAY_THREAD_NAME: &str = "clab-may";

/// Configure may and start its scheduler, once per process; later calls get the first
/// configuration back (see the module docs, Knobs).
fn scheduler(workers: usize, stack_words: usize) -> Scheduler {
    static STARTED: OnceLock<Scheduler> = OnceLock::new();
    *STARTED.get_or_init(|| {
        may::config()
            .set_workers(workers)
            .set_stack_size(stack_words);
        // Start it now, with this configuration, rather than at whichever may call comes
        // first (connecting the backend's upstream socket would start it too), and from a
        // named thread, so `/proc/PID/task/*/comm` tells may's threads apart.
        let started = std::thread::Builder::new()
            .name(MAY_THREAD_NAME.into())
            .spawn(|| {
                // SAFETY: the coroutine does nothing (no thread-locals, no stack to speak of).
                if let Ok(handle) = unsafe { may::coroutine::Builder::new().spawn(|| ()) } {
                    let _ = handle.join();
                }
            })
            .map(|t| t.join());
        if !matches!(started, Ok(Ok(()))) {
            tracing::warn!("cannot start may's scheduler from a named thread; it starts unnamed");
        }
        Scheduler {
            workers,
            stack_words,
        }
    })
}

fn serve(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let wanted = Model::Coroutines.workers(&opts);
    let stack_bytes = opts.stack_size.unwrap_or(DEFAULT_STACK_SIZE);
    let stack_words = stack_bytes.div_ceil(size_of::<usize>());
    let sched = scheduler(wanted, stack_words);
    if sched.workers != wanted {
        tracing::warn!(
            wanted,
            running = sched.workers,
            "may's scheduler already runs in this process; sharing its carrier threads"
        );
    }
    // `None`: the pooled default stack; otherwise a stack of this server's own size.
    let stack = (stack_words != sched.stack_words).then_some(stack_words);

    let backend = MayBackend::connect(&opts.backend)?;
    let addr = listen.addr();
    let listener = listen.into_listener()?;
    // SAFETY: the fd comes from a `TcpListener` we own and give up here; may takes ownership.
    // (`from_raw_fd` panics only if the epoll registration fails, before anything is served.)
    let listener = Arc::new(unsafe { may::net::TcpListener::from_raw_fd(listener.into_raw_fd()) });
    on_ready(&Ready::new(Model::Coroutines, sched.workers, addr, &backend));
    let (drain_deadline, sweep) = (opts.drain_deadline, opts.backlog_sweep);
    let shared = Arc::new(Shared::new(
        Model::Coroutines,
        sched.workers,
        backend,
        opts,
        shutdown.clone(),
    ));
    // Every connection coroutine holds a clone of `live` until it ends (even by a panic); the
    // receiver sees "disconnected" once all are gone.
    let (live, all_ended) = crossbeam_channel::bounded::<()>(0);

    let acceptor = {
        let (listener, shared, live) = (Arc::clone(&listener), Arc::clone(&shared), live.clone());
        let accept = move || accept_loop(&listener, &shared, &live, stack);
        // SAFETY: see `spawn_conn`; the accept loop holds no thread-local or thread-bound
        // guard across `accept` (its only wait) and needs little stack.
        unsafe { may::coroutine::Builder::new().spawn(accept) }
            .map_err(ServerError::io("spawn the accept coroutine"))?
    };

    wait_for_trigger(&shutdown);
    match wake_acceptor(addr) {
        Ok(()) => {
            if acceptor.join().is_err() {
                tracing::error!("the accept coroutine panicked");
            }
        }
        // It stays parked in `accept` until the next client arrives, which it then serves
        // before it ends; meanwhile the listener stays open.
        Err(err) => tracing::warn!(%err, "cannot wake the accept coroutine"),
    }
    for stream in sweep_backlog(listener.inner(), sweep) {
        let stream = move || {
            let fd = stream.into_raw_fd();
            // SAFETY: `fd` is an accepted socket we owned and gave up on the line above.
            unsafe { may::net::TcpStream::from_raw_fd(fd) }
        };
        spawn_conn(stream, &shared, &live, stack);
    }
    drop(listener);
    drop(live);
    wait_for_connections(&all_ended, Instant::now() + drain_deadline, &shared);
    Ok(())
}

/// Accept until the shutdown trigger, one coroutine per connection.
fn accept_loop(
    listener: &may::net::TcpListener,
    shared: &Arc<Shared<MayBackend>>,
    live: &Sender<()>,
    stack: Option<usize>,
) {
    loop {
        match listener.accept() {
            Ok((stream, _peer)) => spawn_conn(move || stream, shared, live, stack),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(err) => {
                // EMFILE and friends: back off (parking this coroutine only); the backlog waits.
                crate::accept_errors::accept_failed(&err, &shared.admission.idle);
                may::coroutine::sleep(ACCEPT_BACKOFF);
            }
        }
        // Checked after every accept: the wake-up connection of shutdown step 1 lands here.
        if shared.shutdown.is_triggered() {
            return;
        }
    }
}

/// Spawn the coroutine that serves one connection; `stream` makes its socket inside it (a
/// swept std socket is registered with may there, so a failure ends only that connection).
fn spawn_conn(
    stream: impl FnOnce() -> may::net::TcpStream + Send + 'static,
    shared: &Arc<Shared<MayBackend>>,
    live: &Sender<()>,
    stack: Option<usize>,
) {
    let (shared, live) = (Arc::clone(shared), live.clone());
    let mut builder = may::coroutine::Builder::new();
    if let Some(words) = stack {
        builder = builder.stack_size(words);
    }
    // SAFETY: may's spawn is unsafe for two reasons, and this code guarantees both:
    // - Thread-local state accessed across a yield: the connection code (the driver, the
    //   `Conn`, `Shared::handle` and the app's handlers over `MayBackend`) holds no reference
    //   into a thread-local and no thread-bound guard across a wait. Thread-locals are used
    //   only within calls that do not yield (the buffer pool hands out owned `Vec`s; the
    //   waker is the coroutine's own, not `block_on`'s thread-local one), so moving carriers
    //   between two such calls is harmless.
    // - Stack overflow: the stack is `--stack-size` or 512 KiB, sized for the deepest path we
    //   know (the sync PostgreSQL client); a guard page turns an overflow into a crash, never
    //   into silent corruption.
    let spawned = unsafe {
        builder.spawn(move || {
            let _live = live;
            serve_conn(stream(), &shared);
        })
    };
    if let Err(err) = spawned {
        tracing::warn!(%err, "cannot spawn a connection coroutine");
    }
}

/// Block the calling (plain) thread until the trigger, in `poll(2)` on the shutdown eventfd.
fn wait_for_trigger(shutdown: &Shutdown) {
    let wake = match shutdown.wake_fd() {
        Ok(fd) => fd,
        Err(err) => {
            tracing::error!(%err, "cannot create the shutdown eventfd; shutting down now");
            return;
        }
    };
    while !shutdown.is_triggered() {
        if let Err(err) = crate::drivers::poll_wait([(wake, crate::drivers::POLL_IN)], None) {
            tracing::warn!(%err, "poll on the shutdown eventfd failed");
            std::thread::sleep(ACCEPT_BACKOFF);
        }
    }
}

/// Connect to our own listener once, so the accept coroutine's `accept` returns and it sees
/// the trigger. The connection is closed at once; its coroutine reads EOF and ends.
fn wake_acceptor(addr: SocketAddr) -> io::Result<()> {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    std::net::TcpStream::connect_timeout(&SocketAddr::new(ip, addr.port()), WAKE_CONNECT_TIMEOUT)
        .map(drop)
}

/// Wait until every connection coroutine has ended, or `deadline`.
fn wait_for_connections(all_ended: &Receiver<()>, deadline: Instant, shared: &Shared<MayBackend>) {
    match all_ended.recv_deadline(deadline) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
        Err(RecvTimeoutError::Timeout) => tracing::warn!(
            left = shared.stats.open_connections(),
            "drain deadline passed with requests still in flight"
        ),
    }
}
