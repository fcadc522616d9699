//! `event-loop`: the chapter's §07–08 event loop with every part in view: one OS thread,
//! epoll through `mio`, and the lab's own executor, timers and wakers (`crates/event-loop`),
//! no tokio runtime.
//!
//! # How it works
//! 1. `serve` creates a [`clab_event_loop::Runtime`] (an epoll instance and an eventfd; no
//!    thread) and runs everything inside its `block_on` on the calling thread, starting with
//!    a [`clab_backend::LoopBackend`]: its simulated round trips are the loop's timers, and
//!    PostgreSQL (`tokio-postgres` over `Config::connect_raw`), Redis and the upstream call
//!    speak over the loop's own sockets, their IO tasks on the loop's executor.
//! 2. `Listener`: the accept loop below is a task; every accepted connection becomes one
//!    more task (a slab entry and a boxed future).
//! 3. A `Conn` task reads through [`crate::drivers::nonblocking`], the same driver as the
//!    tokio models: when no bytes are ready it leaves its waker with the reactor and returns
//!    `Pending`.
//! 4. Handle: at each `.await` of a handler (a timer, a query's reply) the task yields; the
//!    loop runs the next woken task, fires due timers, then calls `epoll_wait` with the next
//!    deadline as its timeout, and wakes the tasks whose sockets became ready.
//! 5. Write, keep-alive loops to 3. A write that would block registers write interest until
//!    it goes through.
//!
//! # What it demonstrates
//! Concurrency without parallelism, with nothing hidden: thousands of connections and
//! overlapping waits on one thread; four requests that each wait 100 ms finish in about
//! 100 ms. `/debug/stats` shows the loop's turns and its busy fraction (time running tasks
//! against time inside `epoll_wait`). `--handler-style callbacks` serves `/users/{id}` from the
//! same handler written with raw callbacks (§07's first stage).
//!
//! # Where it breaks
//! One core at most, and any CPU work or blocking call freezes every connection ("never
//! block the loop"): with `--cpu-policy inline` a `/cpu?ms=200` request delays every other
//! request by 200 ms. SQLite queries run inline on the loop (microseconds of in-process CPU,
//! not a wait); a host *name* in a database URL is resolved by the system resolver on the loop
//! thread (an IP literal needs no lookup).
//!
//! # Knobs
//! [`ServeOptions`]: `limits`, `header_timeout`, `idle_timeout`, `drain_deadline`, `backend`,
//! `handler_style` (`--handler-style callbacks`: `/users/{id}` from the callback handler,
//! `crates/app/src/handlers/users_callbacks.rs`, on SQLite).
//! `workers` is always 1. `--cpu-policy blocking-pool` sends `/cpu` and `/hash` to a small
//! pool of CPU threads (one per core, started on first use) whose results wake the task
//! through the loop's eventfd: the only way this model runs more than one thread.
//! Bounds, as every model: `max_connections` (past it a new connection's task answers 503
//! with `Retry-After` and closes) and `max_inflight` (`docs/robustness.md`).
//!
//! # Shutdown
//! 1. The accept task's [`crate::shutdown::Watch`] resolves (the signal thread's wake reaches
//!    the loop through its eventfd); it stops accepting, serves the connections already in
//!    the accept queue ([`crate::listen::sweep_backlog`]) and drops the listener.
//! 2. Every `Conn` task also watches the trigger: an idle one gives a request on its way
//!    [`crate::conn::DRAIN_GRACE`], then closes; a busy one answers `Connection: close`.
//! 3. The accept task waits for the connection tasks (a [`clab_event_loop::Group`]), bounded
//!    by the drain deadline; tasks left then are dropped with the loop.
//!
//! It terminates: no task is spawned after step 1, each ends after at most one more response
//! or grace period, and step 3 is bounded.

use super::{Caps, Spec};
use crate::drivers::nonblocking::serve_conn;
use crate::listen::{ACCEPT_BACKOFF, sweep_backlog};
use crate::{HandlerStyle, Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown};
use clab_backend::{Backend, LoopBackend};
use clab_event_loop::{Group, TcpListener, TcpStream};
use std::rc::Rc;

pub const SPEC: Spec = Spec {
    name: "event-loop",
    summary: "the lab's own event loop: one thread, epoll (mio), our executor, timers and wakers",
    chapter: "§07–08",
    default_workers: || 1,
    serve,
    caps: Caps::ONE_LOOP,
};

fn serve(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    if opts.handler_style == HandlerStyle::Callbacks {
        LoopBackend::check_callbacks(&opts.backend)?;
    }
    let runtime =
        clab_event_loop::Runtime::new().map_err(ServerError::io("create the event loop"))?;
    let loop_stats = runtime.stats();
    runtime
        .block_on(async {
            let backend = LoopBackend::connect(&opts.backend).await?;
            let callbacks = match opts.handler_style {
                HandlerStyle::Callbacks => Some(backend.callback_queries()?),
                HandlerStyle::Async => None,
            };
            let listener = listen.announce(Model::EventLoop, 1, &backend, on_ready)?;
            let mut shared = Shared::new(Model::EventLoop, 1, backend, opts, shutdown);
            if let Some(queries) = callbacks {
                shared.app.use_callbacks(queries);
            }
            let shared = Rc::new(shared);
            shared.stats.add_event_loop(loop_stats);
            accept_loop(listener, shared).await
        })
        .map_err(ServerError::io("event loop (epoll_wait)"))?
}

/// Accept until shutdown, one task per connection; then serve the backlog and drain.
async fn accept_loop<B: Backend>(
    listener: std::net::TcpListener,
    shared: Rc<Shared<B>>,
) -> Result<(), ServerError> {
    let listener = TcpListener::from_std(listener).map_err(ServerError::io("register listener"))?;
    let conns = Group::new();
    let mut stop = shared.shutdown.watch();
    loop {
        // `biased`: no random branch order, so `select!` needs nothing of tokio's runtime.
        let accepted = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => spawn_conn(&conns, stream, &shared),
            Err(err) => {
                // EMFILE and friends: back off instead of spinning; the backlog waits.
                crate::accept_errors::accept_failed(&err, &shared.admission.idle);
                clab_event_loop::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    // Connections already in the accept queue are served (one request each, then closed),
    // not reset by dropping the listener. The sweep's short settle blocks the loop for
    // 20 ms, once, at shutdown.
    let listener = listener
        .into_std()
        .map_err(ServerError::io("deregister listener"))?;
    for stream in sweep_backlog(&listener, shared.opts.backlog_sweep) {
        if let Ok(stream) = TcpStream::from_std(stream) {
            spawn_conn(&conns, stream, &shared);
        }
    }
    drop(listener);

    if clab_event_loop::timeout(shared.opts.drain_deadline, conns.idle())
        .await
        .is_err()
    {
        tracing::warn!(
            left = conns.len(),
            "drain deadline passed; dropping connections"
        );
    }
    Ok(())
}

fn spawn_conn<B: Backend>(conns: &Group, stream: TcpStream, shared: &Rc<Shared<B>>) {
    conns.spawn(serve_conn(stream, Rc::clone(shared)));
}
