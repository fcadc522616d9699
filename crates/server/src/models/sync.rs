//! `sync`: one thread serves one request at a time, request after request; the chapter's
//! §01–02 and its Fig 1 (a synchronous server idles while it waits on its database, and
//! everyone else waits in line).
//!
//! # How it works
//! 1. `Listener`: the calling thread sleeps in one epoll set ([`crate::drivers::parking::Lot`])
//!    over the listener, the shutdown eventfd and the connections it parked (3), and takes
//!    every client waiting in the accept queue into its [`Line`] (bounded: `--queue`
//!    connections, each at most `--queue-timeout`; beyond either, 503 with `Retry-After` at
//!    once). The kernel hands over a connection only once its first bytes are in
//!    (`TCP_DEFER_ACCEPT`).
//! 2. It takes the first in line and drives its [`crate::conn::Conn`] itself through
//!    [`crate::drivers::blocking`]: read, parse, handle with [`clab_backend::block_on`] over a
//!    [`clab_backend::BlockingBackend`] (every query and simulated round trip blocks the only
//!    thread), write. Keep-alive loops here while nobody else waits.
//! 3. When someone else waits (the epoll set has an event: a new client, or a parked
//!    connection whose input arrived; or the line is not empty) and this connection would
//!    wait for input (idle between requests, a head still arriving, its next request not
//!    buffered yet), the thread parks it in the lot with its own deadline (408 after
//!    `--header-timeout` from accept for a head, a quiet close after `--idle-timeout`) and
//!    goes back to 1. A parked connection whose input arrives joins the end of the line.
//!
//! # What it demonstrates
//! Throughput = 1 / (time of one request): four concurrent requests that each wait 100 ms on
//! the database take 400 ms, and the CPU is idle for almost all of it (claim C01).
//!
//! # Where it breaks
//! Everywhere concurrency matters: while one request waits on the database, nothing else
//! happens; a slow handler stops everyone. What the parking (3) takes away is the weakness to
//! slow and idle *clients*: waiting for a client's bytes never holds the thread while others
//! wait, so a slowloris crowd costs a descriptor and a `--max-connections` place each, and an
//! epoll event when a byte comes (measured with 1,000 slow connections: see
//! `docs/robustness.md`). Until 2026-12-07 `sync` cut those waits instead (a connection idle
//! 100 ms or silent 5 ms was closed, a stalled head answered 408), and a crowd that reconnects
//! at once made every request wait behind its reconnections (`QUEUE_GRACE`, which
//! `drivers/blocking.rs` still applies where nothing can be parked). A client that stops
//! *reading* while others wait hands the rest of its response to the lingering thread
//! ([`crate::drivers::reaper`]), and every close lingers there, not on the only thread.
//!
//! # Knobs
//! [`ServeOptions`]: `limits`, `header_timeout`, `idle_timeout`, `drain_deadline`,
//! `max_connections` (a parked connection and a lingering close hold their place),
//! `max_inflight` (never reached: one request at a time), `queue_capacity` and
//! `queue_timeout` (the line, as thread-pool's queue), `backend`. `workers` is always 1
//! (`--workers` other than 1 is refused). `--cpu-policy` changes nothing: the only thread runs
//! everything, CPU work included.
//!
//! # Shutdown
//! 1. The trigger makes the shutdown eventfd readable; the thread, waiting in `poll` on its
//!    connection or in the lot's epoll, wakes.
//! 2. The connection in hand finishes its request and answers `Connection: close`, or, if
//!    idle, gets [`crate::conn::DRAIN_GRACE`] for a request already on its way, then closes;
//!    parked idle connections get the same grace in the lot.
//! 3. The loop sees the trigger and takes every client already waiting in the accept queue
//!    (their connect succeeded; their request may be sent), drops the listener (new clients
//!    are refused) and serves those in the line, then those, one request each, in order, then
//!    the parked ones whose request arrives within the grace, until the drain deadline.
//!
//! It terminates: the sweep takes at most a backlog's worth, each connection ends after at
//! most one more response or one grace period, and step 3 stops at the deadline.

use super::{Caps, Spec};
use crate::busy::Busy;
use crate::drivers::blocking::{Accepted, Held, Job, Queue, serve_job};
use crate::drivers::parking::{Lot, Woke};
use crate::drivers::reaper::Reaper;
use crate::listen::{ACCEPT_BACKOFF, sweep_backlog};
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown};
use clab_backend::BlockingBackend;
use mio::Events;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

pub const SPEC: Spec = Spec {
    name: "sync",
    summary: "one thread, one request at a time, request after request: the chapter's Fig 1",
    chapter: "§01–02",
    default_workers: || 1,
    serve,
    caps: Caps {
        concurrent_requests: false,
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
    let lot = Lot::new(&shutdown, reaper.clone())
        .and_then(|lot| lot.watch_listener(listener.as_raw_fd()).map(|()| lot))
        .map_err(ServerError::io("set up the parking lot"))?;
    let lot = RefCell::new(lot);
    let lot_fd = lot.borrow().fd();
    let mut busy = Busy::new(reaper.clone());
    let mut line = Line::new(&shared);
    let mut events = Events::with_capacity(1024);
    // Clients may have arrived before the listener joined the epoll set (no edge for them).
    let mut accept_at = Some(Instant::now());
    while !shutdown.is_triggered() {
        // Take what has arrived (parked connections whose input came, new clients); sleep
        // only when there is nobody to serve.
        let timeout = if line.is_empty() {
            accept_at.map(|at| at.saturating_duration_since(Instant::now()))
        } else {
            Some(Duration::ZERO)
        };
        lot.borrow_mut().turn(&mut events, timeout, |woke| match woke {
            Woke::Resumed(held) => line.resume(held, &mut busy),
            Woke::Listener => accept_at = Some(Instant::now()),
        });
        if accept_at.is_some_and(|at| at <= Instant::now()) {
            accept_at = line.take_waiting(&listener, &mut busy);
        }
        if let Some(job) = line.next(&mut busy) {
            let queue = Queue::Listener {
                fd: lot_fd,
                queued: !line.is_empty(),
                parking: &lot,
            };
            serve_job(job, &shared, queue, &reaper);
        }
    }
    // Clients in the line and those already in the accept queue connected before the trigger:
    // serve each one request (draining), in order, instead of resetting them
    // (`sweep_backlog`), until the drain deadline; then the parked ones whose request comes
    // within the drain grace.
    let deadline = Instant::now() + shared.opts.drain_deadline;
    let swept = sweep_backlog(&listener, shared.opts.backlog_sweep);
    drop(listener);
    let mut waiting: Vec<Job> = line.into_waiting();
    waiting.extend(
        swept
            .into_iter()
            .filter_map(|stream| Accepted::admit(stream, &shared, &mut busy).map(Job::New)),
    );
    let mut lot = lot.into_inner();
    while !(waiting.is_empty() && lot.is_empty()) {
        let now = Instant::now();
        if now >= deadline {
            tracing::warn!("drain deadline passed with clients still waiting");
            break;
        }
        for job in waiting.drain(..) {
            if Instant::now() >= deadline {
                break;
            }
            serve_job(job, &shared, Queue::None, &reaper);
        }
        if !lot.is_empty() {
            lot.turn(&mut events, Some(deadline - now), |woke| {
                if let Woke::Resumed(held) = woke {
                    waiting.push(Job::resumed(held));
                }
            });
        }
    }
    // The closes handed to the lingering thread finish before `serve` returns.
    drop((busy, reaper, lot));
    lingering.wait(deadline);
    Ok(())
}

/// `sync`'s waiting line: connections taken off the kernel's accept queue and parked ones
/// whose input arrived, in arrival order, bounded like thread-pool's queue (`--queue`
/// connections, `--queue-timeout` each). The kernel's queue alone is bounded only by the
/// backlog (4,096 here), and a client at its end waits 4,096 requests' time; taking the
/// waiting clients in between two requests lets the one thread refuse the excess with 503 at
/// once instead, and refuse one that waited too long rather than serve it late.
struct Line<'a> {
    shared: &'a Shared<BlockingBackend>,
    waiting: VecDeque<Job>,
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

    /// Put `job` at the end of the line, or answer it 503 if the line is full.
    fn push(&mut self, job: Job, busy: &mut Busy) {
        if self.waiting.len() >= self.shared.opts.queue_capacity.max(1) {
            job.refuse(busy, crate::busy::QUEUE_FULL);
        } else {
            self.waiting.push_back(job);
        }
    }

    /// Admit a new connection (`--max-connections`) into the line.
    fn join(&mut self, stream: TcpStream, busy: &mut Busy) {
        if let Some(accepted) = Accepted::admit(stream, self.shared, busy) {
            self.push(Job::New(accepted), busy);
        }
    }

    /// A parked connection's input arrived: it joins the line.
    fn resume(&mut self, held: Box<Held>, busy: &mut Busy) {
        self.push(Job::resumed(held), busy);
    }

    /// Take every client waiting in the accept queue now into the line, without waiting.
    /// `Some(when)` to try again: `accept` failed (out of descriptors), so clients are still
    /// waiting and no new edge of the listener will say so.
    fn take_waiting(&mut self, listener: &TcpListener, busy: &mut Busy) -> Option<Instant> {
        loop {
            match listener.accept() {
                Ok((stream, _peer)) => self.join(stream, busy),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return None,
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning; serve the line.
                    crate::accept_errors::accept_failed(&err, &self.shared.admission.idle);
                    return Some(Instant::now() + ACCEPT_BACKOFF);
                }
            }
        }
    }

    /// The first in line that has not waited past `--queue-timeout` (those that have get
    /// 503: served now, they would only make everyone behind them late too).
    fn next(&mut self, busy: &mut Busy) -> Option<Job> {
        while let Some(job) = self.waiting.pop_front() {
            if job.queued().elapsed() <= self.shared.opts.queue_timeout {
                return Some(job);
            }
            job.refuse(busy, crate::busy::QUEUE_TIMEOUT);
        }
        None
    }

    fn into_waiting(self) -> Vec<Job> {
        self.waiting.into()
    }
}
