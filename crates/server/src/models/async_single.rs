//! `async-single`: a tokio current-thread runtime, one OS thread, one task per connection;
//! the chapter's §07 event loop (asyncio, Node) built on a production runtime.
//!
//! # How it works
//! 1. `serve` builds a current-thread runtime on the calling thread: its scheduler, its
//!    timer and its epoll-based IO driver all run on that one thread.
//! 2. `Listener`: the shared tokio accept loop (`tokio_accept.rs`) spawns one task per
//!    accepted connection; with one thread, "spawn" only queues the task.
//! 3. A `Conn` task reads through [`crate::drivers::nonblocking`]; when nothing is ready it yields
//!    and the thread runs the next ready task or, when none is, sleeps in `epoll_wait` until
//!    a socket or a timer is due.
//! 4. Handle: the handler future's awaits (a tokio timer for the simulated round trip,
//!    tokio-postgres, async Redis) are the yield points; between them it runs to the next
//!    await without interruption.
//! 5. Write, keep-alive loops to 3.
//!
//! # What it demonstrates
//! Concurrency without parallelism: thousands of connections and overlapping waits on one
//! thread, no context switches between them, no locks needed for correctness (only `Send` for
//! the shared code); four requests that each wait 100 ms finish in about 100 ms.
//!
//! # Where it breaks
//! One core at most, and any CPU work or blocking call freezes everything ("never block the
//! loop", §07): with `--cpu-policy inline` a `/cpu?ms=200` request delays every other request
//! by 200 ms. SQLite queries run inline too (microseconds of in-process CPU, not a wait).
//!
//! # Knobs
//! [`ServeOptions`]: `limits`, `header_timeout`, `idle_timeout`, `drain_deadline`,
//! `backend`. `workers` is always 1. `--cpu-policy blocking-pool` sends `/cpu` and `/hash`
//! to tokio's blocking pool (extra threads created on demand, named
//! `clab-async-single-blocking`), so the loop keeps serving: the one way this model ever runs
//! more than one thread. (An upstream URL naming a host, not an IP, also resolves it there.)
//! Bounds, as every model: `max_connections` (past it a new connection's task answers 503
//! with `Retry-After` and closes) and `max_inflight` (`docs/robustness.md`).
//!
//! # Shutdown
//! 1. The accept loop's shutdown watch resolves; it stops accepting and drops the listener.
//! 2. Every `Conn` task also watches the trigger: an idle one gives a request on its way
//!    [`crate::conn::DRAIN_GRACE`], then closes; a busy one answers `Connection: close`.
//! 3. The accept loop awaits its connection tasks, bounded by the drain deadline; the
//!    runtime is then shut down (left-over tasks cancelled).
//!
//! It terminates: no task is spawned after step 1, each ends after at most one more response
//! or grace period, and step 3 is bounded.

use super::{Caps, Spec};
use crate::tokio_accept::serve_on_runtime;
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shutdown};

pub const SPEC: Spec = Spec {
    name: "async-single",
    summary: "tokio current-thread runtime: one OS thread, one task per connection (asyncio, Node)",
    chapter: "§07",
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .thread_name("clab-async-single-blocking")
        .enable_all()
        .build()
        .map_err(ServerError::io("build tokio runtime"))?;
    serve_on_runtime(runtime, Model::AsyncSingle, 1, listen, opts, shutdown, on_ready)
}
