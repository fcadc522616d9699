//! `sync`: one thread accepts one connection and serves it, request after request, before it
//! accepts the next; the chapter's §01–02 and its Fig 1 (a synchronous server idles while it
//! waits on its database, and everyone else waits in line).
//!
//! # How it works
//! 1. `Listener`: the calling thread sleeps in `poll(2)` on the listener (and the shutdown
//!    eventfd) and accepts one connection.
//! 2. It drives that connection's [`crate::conn::Conn`] itself through
//!    [`crate::drivers::blocking`]: read, parse, handle with
//!    [`clab_backend::block_on`] over a [`clab_backend::BlockingBackend`] (every query and
//!    simulated round trip blocks the only thread), write.
//! 3. Keep-alive loops to 2. Meanwhile the next clients wait in the kernel's accept queue
//!    (the listen backlog): their connect succeeded, nobody reads them.
//! 4. When the connection closes, the thread takes every client waiting in the accept queue
//!    into its [`Line`] (bounded: `--queue` connections, each at most `--queue-timeout`;
//!    beyond either, 503 with `Retry-After` at once) and serves the first in line: back to 2.
//!    Only when the line is empty does it sleep in 1.
//!
//! # What it demonstrates
//! Throughput = 1 / (time of one request): four concurrent requests that each wait 100 ms on
//! the database take 400 ms, and the CPU is idle for almost all of it (claim C01).
//!
//! # Where it breaks
//! Everywhere concurrency matters: one slow client (a slow upload, a stalled head) stops
//! everyone. A keep-alive client would hold the only thread for as long as it likes, so
//! `sync` watches its listener: when another client waits to be accepted, the response in
//! hand goes out with `Connection: close` (the client reconnects and queues like everyone
//! else), and any wait for input is cut ([`crate::drivers::blocking::QUEUE_GRACE`], see
//! [`crate::conn::Conn::others_wait`]): a connection idle between requests is closed quietly
//! 100 ms into its idle period, one that has sent nothing 5 ms after its accept (the kernel
//! hands over a connection only once its first bytes are in, `TCP_DEFER_ACCEPT`, so that is
//! rare); a partial request whose next piece is more than 5 ms late gets 408. Every close
//! lingers on the lingering thread
//! ([`crate::drivers::reaper`]), not on the only thread, and so does the rest of a response
//! its client reads too slowly while others wait. So `sync` cannot keep two keep-alive
//! connections open at once (`Caps::concurrent_connections` is false), and what remains of
//! the slow-client weakness is its nature: each connection ahead in the accept queue holds the
//! thread for up to 5 ms, so a crowd of N slow clients makes every request wait about
//! N × 5 ms (tested: 400 silent and slowloris connections, a legitimate request answered
//! after about 2 s, none lost; `tests/limits.rs`).
//!
//! # Knobs
//! [`ServeOptions`]: `limits`, `header_timeout`, `idle_timeout`, `drain_deadline`,
//! `max_connections` (a lingering close still holds its place), `max_inflight` (never
//! reached: one request at a time), `queue_capacity` and `queue_timeout` (the line, as
//! thread-pool's queue), `backend`. `workers` is always 1 (`--workers` other than
//! 1 is refused). `--cpu-policy` changes nothing: the only thread runs everything, CPU work
//! included.
//!
//! # Shutdown
//! 1. The trigger makes the shutdown eventfd readable; the thread, waiting in `poll` either
//!    on the listener or on its connection, wakes.
//! 2. The connection in hand finishes its request and answers `Connection: close`, or, if
//!    idle, gets [`crate::conn::DRAIN_GRACE`] for a request already on its way, then closes.
//! 3. The loop sees the trigger and takes every client already waiting in the accept queue
//!    (their connect succeeded; their request may be sent), drops the listener (new clients
//!    are refused) and serves those in the line, then those, one request each, in order,
//!    until the drain deadline.
//!
//! It terminates: the sweep takes at most a backlog's worth, each connection ends after at
//! most one more response or one grace period, and step 3 stops at the deadline.

use super::{Caps, Spec};
use crate::busy::Busy;
use crate::drivers::blocking::{Accepted, Queue, serve_conn};
use crate::drivers::reaper::Reaper;
use crate::listen::{accept, sweep_backlog};
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown};
use clab_backend::BlockingBackend;
use std::collections::VecDeque;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

pub const SPEC: Spec = Spec {
    name: "sync",
    summary: "one thread, one connection at a time, request after request: the chapter's Fig 1",
    chapter: "§01–02",
    default_workers: || 1,
    serve,
    caps: Caps {
        concurrent_connections: false,
        configurable_workers: false,
        single_thread: true,
        ..Caps::DEFAULT
    },
};

fn serve(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let backend = BlockingBackend::connect(&opts.backend)?;
    listen.defer_accept(opts.header_timeout);
    let listener = listen.announce(Model::Sync, 1, &backend, on_ready)?;
    let shared = Shared::new(Model::Sync, 1, backend, opts, shutdown.clone());
    let (reaper, lingering) =
        Reaper::start().map_err(ServerError::io("start the lingering thread"))?;
    let mut busy = Busy::new(reaper.clone());
    let fd = listener.as_raw_fd();
    let mut line = Line::new(&shared);
    while !shutdown.is_triggered() {
        if line.is_empty() {
            // Nothing to do: sleep in `accept` until a client comes (or the trigger).
            let Some(stream) = accept(&listener, &shutdown, &shared.admission.idle) else {
                break;
            };
            line.join(stream, &mut busy);
        }
        line.take_waiting(&listener, &mut busy);
        if let Some(next) = line.next(&mut busy) {
            let queue = Queue::Listener {
                fd,
                queued: !line.is_empty(),
            };
            serve_conn(next, &shared, queue, &reaper);
        }
    }
    // Clients in the line and those already in the accept queue connected before the trigger:
    // serve each one request (draining), in order, instead of resetting them
    // (`sweep_backlog`), until the drain deadline.
    let deadline = std::time::Instant::now() + shared.opts.drain_deadline;
    let swept = sweep_backlog(&listener, shared.opts.backlog_sweep);
    drop(listener);
    let mut waiting: Vec<Accepted> = line.into_waiting();
    waiting.extend(
        swept
            .into_iter()
            .filter_map(|stream| Accepted::admit(stream, &shared, &mut busy)),
    );
    for accepted in waiting {
        if std::time::Instant::now() >= deadline {
            tracing::warn!("drain deadline passed with clients still waiting");
            break;
        }
        serve_conn(accepted, &shared, Queue::None, &reaper);
    }
    // The closes handed to the lingering thread finish before `serve` returns.
    drop((busy, reaper));
    lingering.wait(deadline);
    Ok(())
}

/// `sync`'s waiting line: connections taken off the kernel's accept queue, in arrival order,
/// bounded like thread-pool's queue (`--queue` connections, `--queue-timeout` each). The
/// kernel's queue alone is bounded only by the backlog (4,096 here), and a client at its end
/// waits 4,096 requests' time; taking the waiting clients in between two connections lets
/// the one thread refuse the excess with 503 at once instead, and refuse one that waited too
/// long rather than serve it late.
struct Line<'a> {
    shared: &'a Shared<BlockingBackend>,
    waiting: VecDeque<Accepted>,
}

impl<'a> Line<'a> {
    fn new(shared: &'a Shared<BlockingBackend>) -> Self {
        Self {
            shared,
            waiting: VecDeque::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Admit a connection (`--max-connections`) and put it at the end of the line, or answer
    /// 503 if the line is full.
    fn join(&mut self, stream: TcpStream, busy: &mut Busy) {
        let Some(accepted) = Accepted::admit(stream, self.shared, busy) else {
            return;
        };
        if self.waiting.len() >= self.shared.opts.queue_capacity.max(1) {
            busy.refuse(accepted.stream, crate::busy::QUEUE_FULL);
        } else {
            self.waiting.push_back(accepted);
        }
    }

    /// Take every client waiting in the accept queue now into the line, without waiting.
    fn take_waiting(&mut self, listener: &TcpListener, busy: &mut Busy) {
        loop {
            match listener.accept() {
                Ok((stream, _peer)) => self.join(stream, busy),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) => {
                    // EMFILE and friends: serve the line; `accept` backs off when it is empty.
                    crate::accept_errors::accept_failed(&err, &self.shared.admission.idle);
                    return;
                }
            }
        }
    }

    /// The first in line that has not waited past `--queue-timeout` (those that have get
    /// 503: served now, they would only make everyone behind them late too).
    fn next(&mut self, busy: &mut Busy) -> Option<Accepted> {
        while let Some(accepted) = self.waiting.pop_front() {
            if accepted.at.elapsed() <= self.shared.opts.queue_timeout {
                return Some(accepted);
            }
            busy.refuse(accepted.stream, crate::busy::QUEUE_TIMEOUT);
        }
        None
    }

    fn into_waiting(self) -> Vec<Accepted> {
        self.waiting.into()
    }
}
