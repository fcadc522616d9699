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
//! for it ([`Queue`]), a wait for input is cut short ([`Conn::others_wait`]) and the response
//! in hand says `Connection: close`; a lingering close is handed to the [`Reaper`]'s thread.
//!
//! Every decision (deadlines, what an expiry means, draining, lingering, how long a flush may
//! take) is the [`Conn`]'s; this file only makes syscalls.

use super::poll::{self, IN, NONE, OUT};
use super::reaper::Reaper;
use crate::Shared;
use crate::admission::ConnectionPass;
use crate::busy::Busy;
use crate::conn::{Conn, ConnConfig, Expiry, Grace, LINGER, Step};
use crate::eventfd::EventFd;
use clab_backend::Backend;
use clab_backend::block_on;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Besides its client and the drain, what else may cut a connection's wait for input short:
/// other connections waiting for the thread it holds.
#[derive(Debug, Clone, Copy)]
pub enum Queue<'a> {
    /// Nothing: the thread owns this connection alone (`thread-per-request`).
    None,
    /// `sync`'s one thread: clients in the accept queue (the listening socket `fd`) and, with
    /// `queued`, connections already taken into its line wait for it.
    Listener { fd: RawFd, queued: bool },
    /// The thread-pool queue of accepted connections.
    Pool(&'a Waiting),
}

impl Queue<'_> {
    /// What becomes readable when someone starts waiting (level-triggered), or [`NONE`].
    fn fd(self) -> RawFd {
        match self {
            Queue::None => NONE,
            Queue::Listener { fd, .. } => fd,
            Queue::Pool(waiting) => waiting.fd.raw(),
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

/// The connections waiting in the thread-pool queue, counted, with an eventfd that is
/// readable exactly while the count is above zero, so a worker asleep in `poll(2)` on an idle
/// connection wakes when a connection starts waiting for a worker.
#[derive(Debug)]
pub struct Waiting {
    /// Changed only under the lock, so the eventfd's state always matches it.
    count: Mutex<usize>,
    /// A copy of the count for lock-free reads on every response.
    now: AtomicUsize,
    fd: EventFd,
}

impl Waiting {
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            count: Mutex::new(0),
            now: AtomicUsize::new(0),
            fd: EventFd::new()?,
        })
    }

    /// A connection joins the queue.
    pub fn arrived(&self) {
        let mut n = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *n += 1;
        self.now.store(*n, Ordering::Relaxed);
        if *n == 1 {
            self.fd.signal();
        }
    }

    /// A connection left the queue (a worker took it, or it was refused).
    pub fn left(&self) {
        let mut n = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *n = n.saturating_sub(1);
        self.now.store(*n, Ordering::Relaxed);
        if *n == 0 {
            self.fd.drain();
        }
    }

    fn any(&self) -> bool {
        self.now.load(Ordering::Relaxed) > 0
    }
}

/// Serve one connection until it closes; its lingering close goes to `reaper`, so the thread
/// is free as soon as the last response is written. Errors only end this connection.
pub fn serve_conn<B: Backend>(
    accepted: Accepted,
    shared: &Shared<B>,
    queue: Queue<'_>,
    reaper: &Reaper,
) {
    let _open = shared.stats.connection();
    let Accepted { stream, at, pass } = accepted;
    match drive(&stream, at, shared, queue) {
        Ok(End::Closed) => {}
        Ok(End::Linger(linger_for)) => reaper.linger(stream, linger_for, Some(pass)),
        Ok(End::HandOff {
            unsent,
            write_until,
            linger_for,
        }) => reaper.finish(stream, unsent, write_until, linger_for, Some(pass)),
        Err(err) => tracing::debug!(%err, "connection ended with an error"),
    }
}

/// How [`drive`] left the connection.
enum End {
    /// Closed already (the client's EOF, nothing to protect).
    Closed,
    /// To be closed lingering this long.
    Linger(Duration),
    /// Its client reads slowly while others wait for the thread: the reaper writes the rest
    /// by the write deadline, then closes it lingering.
    HandOff {
        unsent: Vec<u8>,
        write_until: Instant,
        linger_for: Duration,
    },
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

/// Drive the connection to its close.
fn drive<B: Backend>(
    mut stream: &TcpStream,
    accepted: Instant,
    shared: &Shared<B>,
    queue: Queue<'_>,
) -> io::Result<End> {
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let wake = shared.shutdown.wake_fd()?;
    let sock = stream.as_raw_fd();
    // Dropped when this returns, before the socket is closed or handed to the reaper.
    let mark = shared.admission.idle.register(sock);
    let mut conn = Conn::new(ConnConfig::from(&shared.opts), accepted);
    if let Queue::Listener { queued: true, .. } = queue {
        // Others are in line already: no listener wake-up will say so.
        conn.others_wait(QUEUE_GRACE);
    }
    loop {
        let draining = shared.shutdown.is_triggered();
        match conn.next_step(draining) {
            Step::Handle(request) => {
                let response = block_on(shared.handle(request));
                // A thread others wait for ends this connection after the response
                // (`Connection: close`, so the client knows to reconnect and no request is
                // lost), or one busy keep-alive client would hold the thread forever.
                let close = shared.shutdown.is_triggered() || others_waiting(queue);
                conn.respond(response, close);
            }
            Step::Close { linger } => {
                return Ok(match flush(stream, &mut conn, queue)? {
                    Flushed::HandOff => hand_off(&conn, linger.unwrap_or(Duration::ZERO)),
                    Flushed::All | Flushed::Expired => linger.map_or(End::Closed, End::Linger),
                });
            }
            Step::Read { until, expiry } => {
                match flush(stream, &mut conn, queue)? {
                    Flushed::All => {}
                    Flushed::Expired => continue,
                    // The response in hand is its last: the reaper closes it once written.
                    Flushed::HandOff => return Ok(hand_off(&conn, LINGER)),
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
        Queue::Listener { fd, queued } => {
            queued || matches!(poll::wait([(fd, IN)], Some(Instant::now())), Ok([true]))
        }
        Queue::Pool(waiting) => waiting.any(),
    }
}

/// The rest of `conn`'s output, for the reaper to write (then linger `linger_for`).
fn hand_off(conn: &Conn, linger_for: Duration) -> End {
    End::HandOff {
        unsent: conn.outgoing().to_vec(),
        write_until: conn.write_deadline(),
        linger_for,
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
}
