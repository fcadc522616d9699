//! `thread-pool`: a fixed set of OS worker threads fed by a bounded queue of accepted
//! connections; the chapter's §05–06 (OS threads, and what they cost) with the usual cure for
//! thread-per-request's thread explosion.
//!
//! # How it works
//! 1. `Listener`: the thread that called `serve` accepts connections (it sleeps in `poll(2)`
//!    on the listener and the shutdown eventfd; the kernel hands over a connection only once
//!    its first bytes are in, `TCP_DEFER_ACCEPT`), admits each (`--max-connections`, else 503),
//!    notes when it was accepted and `try_send`s it into a bounded queue.
//! 2. Queue full: the acceptor itself answers a `503` with `Retry-After: 1` and
//!    `Connection: close` (`busy.rs`) instead of queueing without bound.
//! 3. `Worker` (N OS threads): takes a connection off the queue. If it waited longer than
//!    `--queue-timeout`, it answers 503 with `Retry-After` and takes the next; otherwise it
//!    owns the connection until it closes or is parked (step 6), driving the shared [`crate::conn::Conn`] through
//!    [`crate::drivers::blocking`]. The header clock started at accept: time in the queue
//!    counts against `--header-timeout`, as in a thread-per-connection server.
//! 4. Handle: runs the handler with [`clab_backend::block_on`] over a
//!    [`clab_backend::BlockingBackend`]; every database query or simulated round trip blocks
//!    this OS thread in the kernel, exactly as the chapter's thread models do.
//! 5. Write the response; keep-alive loops to 3. Close: the lingering close goes to the
//!    lingering thread ([`crate::drivers::reaper`]) and the worker returns to the queue at once;
//!    so does the rest of a response its client reads too slowly while others wait.
//! 6. Pressure: while more connections wait in the queue than workers are free to take them
//!    (an eventfd wakes the busy workers), a worker that would wait for input (an idle
//!    keep-alive connection, a head still arriving, a fresh connection that has sent nothing,
//!    or one that was just answered and whose next request is not buffered yet) *parks* the
//!    connection instead ([`crate::drivers::parking`]): one thread holds every parked socket on
//!    epoll with its own deadline and puts it back at the end of the queue when its input
//!    arrives; its timeouts are the usual ones (408 after `--header-timeout` from accept for
//!    a head, a quiet close after `--idle-timeout`). Without pressure a worker waits on its
//!    own connection as before, so light load pays no hand-over. Apache's event MPM and
//!    Tomcat's NIO connector do the same: the pool serves requests, not connections.
//!
//! # What it demonstrates
//! Blocking code is simple and each request gets a real thread, but concurrency is capped at
//! N: throughput is at most N / (time a request holds a thread), and waiting on IO holds it.
//!
//! # Where it breaks
//! A request holds its worker for as long as it is handled; the parking (step 6) only takes
//! workers back from connections that wait for *input*. So what remains:
//! - Waiting on IO holds the worker: N slow handlers (a slow database) and the queue waits,
//!   then 503 after `--queue-timeout`; raising N brings back thread-per-request's memory and
//!   context-switch costs (§06).
//! - Under pressure every request of a keep-alive connection after its first in a turn goes
//!   through the queue again (parked, then resumed): two hand-overs between threads more per
//!   request, a few tens of microseconds on this machine's cross-core wake-ups.
//! - A client that stops *reading* holds its worker while the flush waits, unless others wait
//!   for the thread: then the unwritten rest goes to the lingering thread.
//! - Slow and idle clients cost no worker but still hold a descriptor and a
//!   `--max-connections` place each until their timeouts, as in every model.
//!
//! # Knobs
//! [`ServeOptions`]: `workers` (default cores × 4), `queue_capacity`, `queue_timeout`,
//! `limits`, `header_timeout`, `idle_timeout`, `drain_deadline`, `max_connections`,
//! `max_inflight`, `backend`. `--cpu-policy` changes nothing here: the worker already is a
//! thread that may block, so CPU work runs inline on it and no other connection waits for it.
//!
//! # Shutdown
//! 1. The acceptor's `poll` wakes on the shutdown eventfd; it stops accepting, queues the
//!    connections already waiting in the accept queue (`sweep_backlog`: served, not reset),
//!    drops the listener (new connections are refused) and the queue's sender.
//! 2. Workers finish the request in hand and answer it with `Connection: close`; a worker
//!    waiting on an idle keep-alive connection wakes on the eventfd, gives a request already
//!    on its way [`crate::conn::DRAIN_GRACE`] to arrive, then closes; queued connections are
//!    served the same way, and no worker parks a connection any more. The parking thread
//!    gives its idle connections the same grace (a request that arrives is queued and
//!    answered with `Connection: close`); once nothing is parked it stops taking connections
//!    and drops its sender of the queue.
//! 3. A worker finds the queue empty and disconnected (the acceptor and the parking thread
//!    have both let go) and exits, reporting on a done channel.
//! 4. The acceptor waits for every worker's report, then for the lingering thread's closes,
//!    until the drain deadline, then returns.
//!
//! It terminates: no new connections enter after step 1, every connection closes after at
//! most one more response or one grace period, and step 4 is bounded by the deadline (a worker
//! stuck in a handler past it is left behind, detached, rather than waited for).

use super::{Caps, Spec};
use crate::busy::{self, Busy};
use crate::drivers::blocking::{Accepted, Held, Job, Queue, Waiting, serve_job};
use crate::drivers::parking::Parking;
use crate::drivers::reaper::Reaper;
use crate::listen::connections;
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown, cores};
use clab_backend::BlockingBackend;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::sync::Arc;
use std::time::Instant;

pub const SPEC: Spec = Spec {
    name: "thread-pool",
    summary: "N OS threads block on IO; a bounded queue of accepted connections, 503 when full",
    chapter: "§05–06",
    default_workers,
    serve,
    caps: Caps::DEFAULT,
};

/// Cores × 4: workers mostly wait on IO, so more threads than cores keeps the CPUs busy.
fn default_workers() -> usize {
    cores() * 4
}

fn serve(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let workers = Model::ThreadPool.workers(&opts);
    let backend = BlockingBackend::connect(&opts.backend)?;
    listen.defer_accept(opts.header_timeout);
    let listener = listen.announce(Model::ThreadPool, workers, &backend, on_ready)?;

    let (queue_tx, queue_rx) = crossbeam_channel::bounded::<Job>(opts.queue_capacity.max(1));
    let waiting = Arc::new(Waiting::new().map_err(ServerError::io("create the queue's eventfd"))?);
    let (reaper, lingering) =
        Reaper::start().map_err(ServerError::io("start the lingering thread"))?;
    // A parked connection whose input arrived goes to the back of the queue, like a new one.
    let resume = {
        let (tx, waiting) = (queue_tx.clone(), Arc::clone(&waiting));
        let mut busy = Busy::new(reaper.clone());
        move |held: Box<Held>| {
            enqueue(&tx, &waiting, Job::resumed(held), &mut busy);
        }
    };
    let (parking, parking_thread) = Parking::start(&shutdown, reaper.clone(), resume)
        .map_err(ServerError::io("start the parking thread"))?;
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(workers);
    let drain_deadline = opts.drain_deadline;
    let shared = Arc::new(Shared::new(
        Model::ThreadPool,
        workers,
        backend,
        opts,
        shutdown.clone(),
    ));
    for i in 0..workers {
        let (shared, queue_rx, done_tx) = (Arc::clone(&shared), queue_rx.clone(), done_tx.clone());
        let (waiting, parking, reaper) =
            (Arc::clone(&waiting), Arc::clone(&parking), reaper.clone());
        std::thread::Builder::new()
            .name(format!("clab-worker-{i}"))
            .spawn(move || {
                worker(&shared, &queue_rx, &waiting, &parking, &reaper);
                let _ = done_tx.send(());
            })
            .map_err(ServerError::io("spawn worker thread"))?;
    }
    drop((queue_rx, done_tx, parking));

    // Listener: this thread accepts until shutdown, then hands over the connections already
    // waiting in the accept queue (served, not reset: `listen::connections`).
    let mut busy = Busy::new(reaper);
    for stream in connections(
        &listener,
        &shutdown,
        &shared.admission.idle,
        shared.opts.backlog_sweep,
    ) {
        let Some(accepted) = Accepted::admit(stream, &shared, &mut busy) else {
            continue;
        };
        if !enqueue(&queue_tx, &waiting, Job::New(accepted), &mut busy) {
            break;
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
    // The parking thread has ended when every worker has (it lets go of the queue last); if
    // the deadline passed first it is left behind with them.
    if parking_thread.is_finished() {
        let _ = parking_thread.join();
    }
    // The closes handed to the lingering thread finish before `serve` returns (the workers
    // that ended dropped their handles).
    drop(busy);
    lingering.wait(deadline);
    Ok(())
}

/// Put `job` in the queue, or answer it 503 if the queue is full. `false`: the workers are
/// gone.
fn enqueue(tx: &Sender<Job>, waiting: &Waiting, job: Job, busy: &mut Busy) -> bool {
    // Counted before it is queued, so no worker takes it off the queue uncounted.
    waiting.arrived();
    match tx.try_send(job) {
        Ok(()) => true,
        Err(TrySendError::Full(job)) => {
            waiting.left();
            job.refuse(busy, busy::QUEUE_FULL);
            true
        }
        Err(TrySendError::Disconnected(_)) => {
            waiting.left();
            false
        }
    }
}

/// A `Worker`: serve queued connections, one at a time, until the queue is closed and empty.
/// A connection that waited past `--queue-timeout` is answered 503 instead: its client has
/// waited long enough, and serving it late would only make everyone behind it late too.
fn worker(
    shared: &Shared<BlockingBackend>,
    queue: &Receiver<Job>,
    waiting: &Waiting,
    parking: &Parking,
    reaper: &Reaper,
) {
    let mut busy = Busy::new(reaper.clone());
    let pool = Queue::Pool { waiting, parking };
    loop {
        waiting.worker_free();
        let Ok(job) = queue.recv() else { break };
        waiting.took();
        if job.queued().elapsed() > shared.opts.queue_timeout {
            job.refuse(&mut busy, busy::QUEUE_TIMEOUT);
            continue;
        }
        serve_job(job, shared, pool, reaper);
    }
}
