//! Drive a [`Conn`] over a `std::net::TcpStream` from one OS thread: the IO half of every
//! thread model (`sync`, `thread-per-request`, `thread-pool`).
//!
//! The socket is non-blocking and the thread sleeps in [`poll::wait`] on it and on the
//! shutdown eventfd, never on a tick: a busy keep-alive connection costs one `read` per
//! request (the next request is usually already there), an idle one costs nothing until its
//! client or the drain wakes it. The handler runs under [`clab_backend::block_on`] over a
//! blocking backend, so while a request waits on its database the thread sits in the kernel,
//! as the chapter's thread models do.
//!
//! A thread is the scarce thing here, so the driver defends it: when other connections wait
//! for it ([`Queue`]), a connection that would wait for input is parked
//! ([`super::parking`]) with everything it holds ([`Held`]) and the thread turns to the next
//! one; where nothing can be parked, the wait is cut short instead ([`Conn::others_wait`])
//! and the response in hand says `Connection: close`. A lingering close is handed to the
//! [`Reaper`]'s thread.
//!
//! Every decision (deadlines, what an expiry means, draining, lingering, how long a flush may
//! take) is the [`Conn`]'s; this file only makes syscalls.

use super::parking::Park;
use super::poll::{self, IN, NONE, OUT};
use super::reaper::Reaper;
use crate::Shared;
use crate::admission::ConnectionPass;
use crate::busy::Busy;
use crate::conn::{Conn, ConnConfig, Expiry, Grace, LINGER, Step};
use crate::debug::ConnGuard;
use crate::eventfd::EventFd;
use crate::idle::IdleMark;
use clab_backend::Backend;
use clab_backend::block_on;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A connection a thread model accepted and admitted (`--max-connections`), on its way to the
/// thread that will serve it.
#[derive(Debug)]
pub struct Accepted {
    pub stream: TcpStream,
    /// When it was accepted: its header clock starts here, however long it waits for a thread.
    pub at: Instant,
    pub pass: ConnectionPass,
}

impl Accepted {
    /// Admit a connection accepted just now, or answer it 503 (`--max-connections`).
    pub(crate) fn admit<B: Backend>(
        stream: TcpStream,
        shared: &Shared<B>,
        busy: &mut Busy,
    ) -> Option<Self> {
        let at = Instant::now();
        match shared.admit() {
            Some(pass) => Some(Self { stream, at, pass }),
            None => {
                busy.refuse(stream, crate::busy::AT_MAX_CONNECTIONS);
                None
            }
        }
    }
}

/// A connection a thread serves, with everything it holds, so that it can be parked whole
/// while it waits for input and resumed later (by another `thread-pool` worker, or by `sync`'s
/// thread after other requests).
#[derive(Debug)]
pub struct Held {
    /// First: fields drop in order, and the mark must leave the registry before the socket
    /// is closed (see [`crate::idle::IdleConns::register`]).
    pub(crate) mark: IdleMark,
    pub(crate) stream: TcpStream,
    pub(crate) conn: Conn,
    pass: ConnectionPass,
    _open: ConnGuard,
}

impl Held {
    /// A connection just accepted, set up to be served.
    fn new<B: Backend>(accepted: Accepted, shared: &Shared<B>) -> io::Result<Self> {
        let Accepted { stream, at, pass } = accepted;
        let open = shared.stats.connection();
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(Self {
            mark: shared.admission.idle.register(stream.as_raw_fd()),
            stream,
            conn: Conn::new(ConnConfig::from(&shared.opts), at),
            pass,
            _open: open,
        })
    }

    /// Answer 503 + `Retry-After` (`why`) and close: no thread will serve it.
    pub(crate) fn refuse(self, busy: &mut Busy, why: &str) {
        let Self { mark, stream, .. } = self;
        drop(mark);
        busy.refuse(stream, why);
    }

    /// Its read deadline passed while it was parked: the `Conn` writes what that means (408
    /// for a partial request), and the close lingers on the reaper.
    pub(crate) fn expired(mut self, draining: bool, reaper: &Reaper) {
        self.conn.expire();
        match self.conn.next_step(draining) {
            Step::Close { linger } => {
                self.close(End::HandOff(linger.unwrap_or(Duration::ZERO)), reaper)
            }
            // An expired `Conn` only closes; anything else would be a bug in it.
            other => debug_assert!(false, "an expired connection asked for {other:?}"),
        }
    }

    /// End the connection as `end` says; its lingering close (and the rest of its output, for
    /// a hand-over) goes to the reaper, so the thread is free at once.
    fn close(self, end: End, reaper: &Reaper) {
        let Self {
            mark,
            stream,
            conn,
            pass,
            ..
        } = self;
        drop(mark);
        match end {
            End::Closed => {}
            End::Linger(linger_for) => reaper.linger(stream, linger_for, Some(pass)),
            End::HandOff(linger_for) => reaper.finish(
                stream,
                conn.outgoing().to_vec(),
                conn.write_deadline(),
                linger_for,
                Some(pass),
            ),
            End::Park { .. } => debug_assert!(false, "a parked connection is not closed"),
        }
    }
}

/// What a thread model's queue (or `sync`'s line) holds: a connection for a thread to take up.
#[derive(Debug)]
pub enum Job {
    /// Accepted just now; its clocks started at its accept.
    New(Accepted),
    /// Parked, and its input has arrived; queued at `queued`.
    Resumed { held: Box<Held>, queued: Instant },
}

impl Job {
    /// A parked connection whose input arrived just now, joining the queue or line.
    pub fn resumed(held: Box<Held>) -> Self {
        Job::Resumed {
            held,
            queued: Instant::now(),
        }
    }

    /// Since when it has waited for a worker.
    pub fn queued(&self) -> Instant {
        match self {
            Job::New(accepted) => accepted.at,
            Job::Resumed { queued, .. } => *queued,
        }
    }

    /// Answer 503 + `Retry-After` (`why`) and close: no thread will serve it.
    pub(crate) fn refuse(self, busy: &mut Busy, why: &str) {
        match self {
            Job::New(accepted) => busy.refuse(accepted.stream, why),
            Job::Resumed { held, .. } => held.refuse(busy, why),
        }
    }
}

/// Besides its client and the drain, what else may cut a connection's wait for input short:
/// other connections waiting for the thread it holds.
#[derive(Debug, Clone, Copy)]
pub enum Queue<'a> {
    /// Nothing: the thread owns this connection alone (`thread-per-request`).
    None,
    /// `sync`'s one thread: `fd` is readable when someone waits for it (its parking lot's
    /// epoll, which watches the listener and the parked connections), and with `queued`,
    /// connections already taken into its line wait for it; a connection that would wait for
    /// input is parked.
    Listener {
        fd: RawFd,
        queued: bool,
        parking: &'a dyn Park,
    },
    /// The thread-pool queue: while it has more connections than free workers, a connection
    /// that waits for input is parked.
    Pool {
        waiting: &'a Waiting,
        parking: &'a dyn Park,
    },
}

impl<'a> Queue<'a> {
    /// What becomes readable when someone starts waiting (level-triggered), or [`NONE`].
    fn fd(self) -> RawFd {
        match self {
            Queue::None => NONE,
            Queue::Listener { fd, .. } => fd,
            Queue::Pool { waiting, .. } => waiting.fd.raw(),
        }
    }

    fn parking(self) -> Option<&'a dyn Park> {
        match self {
            Queue::Pool { parking, .. } | Queue::Listener { parking, .. } => Some(parking),
            Queue::None => None,
        }
    }
}

/// How long a connection may keep its thread waiting for input once others wait for that
/// thread (see [`Conn::others_wait`]), short enough that the waiting clients are not starved
/// (Apache's short `KeepAliveTimeout` serves the same purpose):
/// - `input`: a fresh connection that has sent nothing since its accept (the listener defers
///   accepts until data arrives, so it really is silent), and the gap between two pieces of a
///   request, whose pieces a legitimate client sends back to back;
/// - `idle`: a keep-alive connection between requests: a closed-loop client sends its next
///   request microseconds after it read the response, but on a loaded machine it may be
///   scheduled late, and a close that crosses its request loses it, so it gets longer.
pub const QUEUE_GRACE: Grace = Grace {
    idle: Duration::from_millis(100),
    input: Duration::from_millis(5),
};

/// The thread-pool queue's pressure: connections waiting in the queue, counted against the
/// workers free to take them, with an eventfd that is readable exactly while more wait than
/// there are free workers, so a worker asleep in `poll(2)` on an idle connection wakes when a
/// connection would otherwise have to wait for a worker.
///
/// Why against the free workers, not just "the queue is not empty": every new connection
/// passes through the queue, for the microseconds until a free worker takes it. Counted as
/// pressure, each arrival would cut every idle keep-alive connection in the pool to its
/// 100 ms grace, so 100 workers would hold one idle connection, not 100.
#[derive(Debug)]
pub struct Waiting {
    /// Changed only under the lock, so the eventfd's state always matches it.
    count: Mutex<Count>,
    /// Whether there is pressure now, for lock-free reads on every response.
    now: AtomicBool,
    fd: EventFd,
}

#[derive(Debug, Default)]
struct Count {
    /// Connections in the queue.
    queued: usize,
    /// Workers waiting on the queue for a connection.
    free: usize,
}

impl Count {
    fn pressure(&self) -> bool {
        self.queued > self.free
    }
}

impl Waiting {
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            count: Mutex::new(Count::default()),
            now: AtomicBool::new(false),
            fd: EventFd::new()?,
        })
    }

    /// A connection joins the queue.
    pub fn arrived(&self) {
        self.change(|c| c.queued += 1);
    }

    /// A connection left the queue without a worker (it was refused).
    pub fn left(&self) {
        self.change(|c| c.queued = c.queued.saturating_sub(1));
    }

    /// A worker waits on the queue for its next connection.
    pub fn worker_free(&self) {
        self.change(|c| c.free += 1);
    }

    /// A free worker took a connection off the queue. One change for both counts: apart, the
    /// moment between them would look like a connection with no worker and cut every idle
    /// connection in the pool.
    pub fn took(&self) {
        self.change(|c| {
            c.queued = c.queued.saturating_sub(1);
            c.free = c.free.saturating_sub(1);
        });
    }

    /// Apply `f` and make the eventfd and the flag say whether there is pressure now.
    fn change(&self, f: impl FnOnce(&mut Count)) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        let was = count.pressure();
        f(&mut count);
        let is = count.pressure();
        self.now.store(is, Ordering::Relaxed);
        match (was, is) {
            (false, true) => self.fd.signal(),
            (true, false) => self.fd.drain(),
            _ => {}
        }
    }

    fn any(&self) -> bool {
        self.now.load(Ordering::Relaxed)
    }
}

/// Serve one connection just accepted until it closes (or until it is parked, where the queue
/// parks); its lingering close goes to `reaper`, so the thread is free as soon as the last
/// response is written. Errors only end this connection.
pub fn serve_conn<B: Backend>(
    accepted: Accepted,
    shared: &Shared<B>,
    queue: Queue<'_>,
    reaper: &Reaper,
) {
    match Held::new(accepted, shared) {
        Ok(held) => serve_held(Box::new(held), shared, queue, reaper),
        Err(err) => tracing::debug!(%err, "could not set up a connection"),
    }
}

/// Serve a job of a thread model's queue: a new connection, or a parked one whose input
/// arrived.
pub fn serve_job<B: Backend>(job: Job, shared: &Shared<B>, queue: Queue<'_>, reaper: &Reaper) {
    match job {
        Job::New(accepted) => serve_conn(accepted, shared, queue, reaper),
        Job::Resumed { held, .. } => serve_held(held, shared, queue, reaper),
    }
}

/// [`serve_conn`] for a connection already under way (a parked one whose input arrived).
fn serve_held<B: Backend>(
    mut held: Box<Held>,
    shared: &Shared<B>,
    queue: Queue<'_>,
    reaper: &Reaper,
) {
    let mut parking = queue.parking();
    loop {
        match drive(&mut held, shared, queue, parking.is_some()) {
            Ok(End::Park { until, expiry }) => {
                let Some(lot) = parking else { return };
                match lot.park(held, until, expiry) {
                    Ok(()) => return,
                    // The parking thread has drained: wait on it here, as without it.
                    Err(back) => {
                        held = back;
                        parking = None;
                    }
                }
            }
            Ok(end) => return held.close(end, reaper),
            Err(err) => return tracing::debug!(%err, "connection ended with an error"),
        }
    }
}

/// How [`drive`] left the connection.
enum End {
    /// Closed already (the client's EOF, nothing to protect).
    Closed,
    /// To be closed lingering this long.
    Linger(Duration),
    /// Its client reads slowly while others wait for the thread (or its deadline passed while
    /// parked): the reaper writes the rest of its output by the write deadline, then closes it
    /// lingering this long.
    HandOff(Duration),
    /// It waits for input while others wait for the thread: park it (`thread-pool`, `sync`) until
    /// input arrives or `until` passes, meaning `expiry`.
    Park { until: Instant, expiry: Expiry },
}

/// What [`flush`] got done.
enum Flushed {
    /// Everything written.
    All,
    /// The write deadline passed and the `Conn` was told ([`Conn::write_expired`]).
    Expired,
    /// The client takes no more now and others wait for this thread: hand the rest over.
    HandOff,
}

/// Drive the connection until it closes, or, with `can_park`, until it would wait for input
/// while others wait for the thread.
fn drive<B: Backend>(
    held: &mut Held,
    shared: &Shared<B>,
    queue: Queue<'_>,
    can_park: bool,
) -> io::Result<End> {
    let Held {
        mark, stream, conn, ..
    } = held;
    let mut stream: &TcpStream = stream;
    let wake = shared.shutdown.wake_fd()?;
    let sock = stream.as_raw_fd();
    if let (Queue::Listener { queued: true, .. }, false) = (queue, can_park) {
        // Others are in line already: no listener wake-up will say so. (Where connections can
        // be parked, no wait is cut: the connection is parked instead, with its own deadline.)
        conn.others_wait(QUEUE_GRACE);
    }
    // Responses written in this turn on the thread: once it has had one, a connection whose
    // next request is not buffered yet goes to the back of the line when others wait, even
    // if that request is already in the socket (so one pipelining client cannot keep a worker).
    let mut answered = 0u32;
    loop {
        let draining = shared.shutdown.is_triggered();
        let park = can_park && !draining;
        match conn.next_step(draining) {
            Step::Handle(request) => {
                let response = block_on(shared.handle(request));
                // A thread others wait for ends this connection after the response
                // (`Connection: close`, so the client knows to reconnect and no request is
                // lost), or one busy keep-alive client would hold the thread forever; where
                // connections can be parked, it parks it instead (below).
                let close = shared.shutdown.is_triggered() || (!park && others_waiting(queue));
                conn.respond(response, close);
                answered += 1;
            }
            Step::Close { linger } => {
                return Ok(match flush(stream, conn, queue)? {
                    Flushed::HandOff => End::HandOff(linger.unwrap_or(Duration::ZERO)),
                    Flushed::All | Flushed::Expired => linger.map_or(End::Closed, End::Linger),
                });
            }
            Step::Read { until, expiry } => {
                match flush(stream, conn, queue)? {
                    Flushed::All => {}
                    Flushed::Expired => continue,
                    // The response in hand is its last: the reaper closes it once written.
                    Flushed::HandOff => return Ok(End::HandOff(LINGER)),
                }
                if park && answered > 0 && others_waiting(queue) {
                    conn.release_idle_buffers();
                    return Ok(End::Park { until, expiry });
                }
                match stream.read(conn.read_space()) {
                    Ok(n) => {
                        conn.did_read(n);
                        continue;
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                }
                conn.release_idle_buffers();
                if park && others_waiting(queue) {
                    return Ok(End::Park { until, expiry });
                }
                // The eventfd stays readable once triggered: only watch it until draining.
                let wake = if draining { NONE } else { wake };
                // The queue's fd is level-triggered too: watch it until it cut this wait.
                let queue_fd = if conn.pressed() { NONE } else { queue.fd() };
                mark.idle(expiry == Expiry::Idle && conn.served() > 0);
                let [readable, _, others_waiting] =
                    poll::wait([(sock, IN), (wake, IN), (queue_fd, IN)], Some(until))?;
                mark.idle(false);
                if !readable && Instant::now() >= until {
                    conn.expire();
                } else if others_waiting && !readable {
                    if park {
                        return Ok(End::Park { until, expiry });
                    }
                    conn.others_wait(QUEUE_GRACE);
                }
                // Readable or woken by the drain: the loop reads or asks the Conn again.
            }
        }
    }
}

/// Whether a connection waits for this thread (for the listener, a zero-timeout `poll`).
fn others_waiting(queue: Queue<'_>) -> bool {
    match queue {
        Queue::None => false,
        Queue::Listener { fd, queued, .. } => {
            queued || matches!(poll::wait([(fd, IN)], Some(Instant::now())), Ok([true]))
        }
        Queue::Pool { waiting, .. } => waiting.any(),
    }
}

/// Write everything in `conn.outgoing()`, by [`Conn::write_deadline`] at the latest. A client
/// that takes no more for now keeps the thread waiting only while nobody else waits for it.
fn flush(mut stream: &TcpStream, conn: &mut Conn, queue: Queue<'_>) -> io::Result<Flushed> {
    while !conn.outgoing().is_empty() {
        match stream.write(conn.outgoing()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.wrote(n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                if others_waiting(queue) {
                    return Ok(Flushed::HandOff);
                }
                let until = conn.write_deadline();
                // Woken as well when others start waiting (then the next turn hands over).
                let [writable, _] =
                    poll::wait([(stream.as_raw_fd(), OUT), (queue.fd(), IN)], Some(until))?;
                if !writable && Instant::now() >= until {
                    conn.write_expired();
                    return Ok(Flushed::Expired);
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(Flushed::All)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(waiting: &Waiting) -> bool {
        matches!(
            poll::wait([(waiting.fd.raw(), IN)], Some(Instant::now())),
            Ok([true])
        )
    }

    #[test]
    fn the_queue_fd_is_readable_exactly_while_connections_wait() {
        let waiting = Waiting::new().unwrap();
        assert!(!readable(&waiting) && !waiting.any());
        waiting.arrived();
        waiting.arrived();
        assert!(readable(&waiting) && waiting.any());
        waiting.left();
        assert!(readable(&waiting), "one still waits");
        waiting.left();
        assert!(!readable(&waiting) && !waiting.any());
    }

    #[test]
    fn a_connection_a_free_worker_will_take_is_no_pressure() {
        let waiting = Waiting::new().unwrap();
        waiting.worker_free();
        waiting.worker_free();
        waiting.arrived();
        waiting.arrived();
        assert!(
            !readable(&waiting) && !waiting.any(),
            "two free workers take two"
        );
        waiting.arrived();
        assert!(readable(&waiting) && waiting.any(), "the third waits");
        waiting.took();
        assert!(readable(&waiting), "two queued, one free worker");
        waiting.took();
        assert!(
            readable(&waiting),
            "the third still waits, no worker is free"
        );
        waiting.worker_free();
        assert!(
            !readable(&waiting) && !waiting.any(),
            "a worker came free for it"
        );
        waiting.took();
        assert!(!readable(&waiting) && !waiting.any());
    }
}
