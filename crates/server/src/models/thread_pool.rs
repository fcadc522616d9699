//! `thread-pool`: a fixed set of OS worker threads fed by a bounded queue of accepted
//! connections; the chapter's §05–06 (OS threads, and what they cost) with the usual cure for
//! thread-per-request's thread explosion.
//!
//! # How it works
//! 1. `Listener`: the thread that called [`serve`] accepts connections (blocking, with a short
//!    poll so it sees shutdown) and `try_send`s each into a bounded crossbeam queue.
//! 2. Queue full: the acceptor itself writes a pre-encoded `503` with `Retry-After: 1` and
//!    `Connection: close` and drops the connection, instead of queueing without bound.
//! 3. `Worker` (N OS threads): takes a connection off the queue and owns it until it closes:
//!    reads with a blocking `read(2)`, parses through the shared [`crate::conn::Conn`].
//! 4. Handle: runs the handler with [`crate::block_on::block_on`] over a
//!    [`clab_backend::BlockingBackend`]; every database query or simulated round trip blocks
//!    this OS thread in the kernel, exactly as the chapter's thread models do.
//! 5. Write the response with a blocking `write(2)`; keep-alive loops to 3, close returns the
//!    worker to the queue.
//!
//! # What it demonstrates
//! Blocking code is simple and each request gets a real thread, but concurrency is capped at
//! N: throughput is at most N / (time a request holds a thread), and waiting on IO holds it.
//!
//! # Where it breaks
//! Keep-alive connections pin a worker while idle, so more open connections than workers
//! means the queue fills and clients see 503 (or wait in the queue) even with idle CPUs;
//! raising N brings back thread-per-request's memory and context-switch costs (§06).
//!
//! # Knobs
//! [`ServeOptions`]: `workers` (default cores × 4), `queue_capacity`, `limits`,
//! `header_timeout`, `idle_timeout`, `drain_deadline`, `backend`.
//!
//! # Shutdown
//! 1. The acceptor sees the trigger within one poll tick, stops accepting and drops the
//!    queue's sender.
//! 2. Workers finish the request in hand and answer it with `Connection: close`; a worker
//!    blocked reading an idle keep-alive connection wakes within one read-timeout tick and
//!    closes it; connections still queued are served one request each, then closed.
//! 3. A worker finds the queue empty and disconnected and exits, reporting on a done channel.
//! 4. The acceptor waits for every worker's report until the drain deadline, then returns.
//!
//! It terminates: no new connections enter after step 1, every connection closes after at
//! most one more response, and step 4 is bounded by the deadline (a worker stuck in a handler
//! past it is left behind, detached, rather than waited for).

use crate::blocking_conn::serve_conn;
use crate::listener::accept;
use crate::{Model, Ready, ServeOptions, ServerError, Shutdown, cores};
use clab_app::App;
use clab_backend::BlockingBackend;
use clab_http::{HttpDate, Response, encode_response};
use crossbeam_channel::{Receiver, TrySendError};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Instant;

pub const NAME: &str = "thread-pool";
pub const SUMMARY: &str =
    "N OS threads block on IO; a bounded queue of accepted connections, 503 when full";

/// Cores × 4: workers mostly wait on IO, so more threads than cores keeps the CPUs busy.
pub fn default_workers() -> usize {
    cores() * 4
}

/// What the workers share.
#[derive(Debug)]
struct Shared {
    app: Arc<App<BlockingBackend>>,
    opts: ServeOptions,
    shutdown: Shutdown,
}

pub fn serve(
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let workers = Model::ThreadPool.workers(&opts);
    let backend = BlockingBackend::connect(&opts.backend)?;
    let addr = crate::listener::make_nonblocking(&listener)?;
    let app = Arc::new(App::new(backend));
    on_ready(&Ready::new(Model::ThreadPool, workers, addr, app.backend()));

    let (queue_tx, queue_rx) = crossbeam_channel::bounded::<TcpStream>(opts.queue_capacity.max(1));
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(workers);
    let drain_deadline = opts.drain_deadline;
    let shared = Arc::new(Shared {
        app,
        opts,
        shutdown: shutdown.clone(),
    });
    for i in 0..workers {
        let (shared, queue_rx, done_tx) = (Arc::clone(&shared), queue_rx.clone(), done_tx.clone());
        std::thread::Builder::new()
            .name(format!("clab-worker-{i}"))
            .spawn(move || {
                worker(&shared, &queue_rx);
                let _ = done_tx.send(());
            })
            .map_err(ServerError::io("spawn worker thread"))?;
    }
    drop((queue_rx, done_tx));

    // Listener: this thread accepts until shutdown.
    let mut busy = Busy::default();
    while let Some(stream) = accept(&listener, &shutdown) {
        match queue_tx.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(stream)) => busy.refuse(stream),
            Err(TrySendError::Disconnected(_)) => break,
        }
    }
    drop(listener);
    drop(queue_tx);

    let deadline = Instant::now() + drain_deadline;
    for _ in 0..workers {
        if done_rx.recv_deadline(deadline).is_err() {
            tracing::warn!("drain deadline passed with requests still in flight");
            break;
        }
    }
    Ok(())
}

/// A `Worker`: serve queued connections, one at a time, until the queue is closed and empty.
fn worker(shared: &Shared, queue: &Receiver<TcpStream>) {
    while let Ok(stream) = queue.recv() {
        serve_conn(stream, &*shared.app, &shared.opts, &shared.shutdown);
    }
}

/// The acceptor's answer when the queue is full. The request is never parsed (the
/// connection never reaches a `Conn`); the response is encoded by the shared codec so it
/// carries the same `Date`/`Server` headers as every other response.
#[derive(Debug, Default)]
struct Busy {
    date: HttpDate,
    out: Vec<u8>,
}

impl Busy {
    /// Answer 503 + `Retry-After: 1` + `Connection: close`. Request bytes that already
    /// arrived are read and discarded first: closing a socket with unread input makes the
    /// kernel send RST, which can destroy the 503 before the client reads it.
    fn refuse(&mut self, mut stream: TcpStream) {
        let resp = Response::text(503, "server busy: queue is full\n")
            .with_header("Retry-After", "1")
            .closing();
        self.out.clear();
        encode_response(&resp, false, false, &mut self.date, &mut self.out);
        let _ = stream.set_nonblocking(true);
        discard_input(&mut stream);
        let _ = stream.write_all(&self.out);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        discard_input(&mut stream);
    }
}

/// Read and drop whatever input is already buffered, without waiting.
fn discard_input(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}
