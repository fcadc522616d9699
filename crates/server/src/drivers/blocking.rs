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
//! Every decision (deadlines, what an expiry means, draining, lingering, how long a flush may
//! take) is the [`Conn`]'s; this file only makes syscalls.

use super::poll::{self, IN, NONE, OUT};
use crate::Shared;
use crate::conn::{Conn, ConnConfig, Expiry, Step};
use clab_backend::Backend;
use clab_backend::block_on;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// Besides its client and the drain, what else may end an idle keep-alive connection early.
#[derive(Debug, Clone, Copy)]
pub enum Queue {
    /// Nothing: the thread owns this connection alone.
    None,
    /// The listening socket: when another client waits to be accepted (`sync` serves one
    /// connection at a time), an idle connection gets only [`QUEUE_IDLE_GRACE`] more.
    Listener(RawFd),
}

/// How long an idle keep-alive connection is kept once another client is waiting for the
/// thread: long enough for a closed-loop client's next request (it is sent microseconds after
/// the response is read), short enough that the waiting client is not starved (Apache's short
/// `KeepAliveTimeout` serves the same purpose).
pub const QUEUE_IDLE_GRACE: Duration = Duration::from_millis(5);

/// Serve one connection until it closes. Errors only end this connection.
pub fn serve_conn<B: Backend>(stream: TcpStream, shared: &Shared<B>, queue: Queue) {
    let _open = shared.stats.connection();
    if let Err(err) = drive(&stream, shared, queue) {
        tracing::debug!(%err, "connection ended with an error");
    }
}

fn drive<B: Backend>(mut stream: &TcpStream, shared: &Shared<B>, queue: Queue) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    stream.set_nodelay(true)?;
    let wake = shared.shutdown.wake_fd()?;
    let sock = stream.as_raw_fd();
    let mut conn = Conn::new(ConnConfig::from(&shared.opts));
    loop {
        let draining = shared.shutdown.is_triggered();
        match conn.next_step(draining) {
            Step::Handle(request) => {
                let response = block_on(shared.handle(request));
                // A one-at-a-time thread with clients waiting ends this connection after the
                // response (`Connection: close`, so the client knows to reconnect and no
                // request is lost), or one busy client would hold the thread forever.
                let close = shared.shutdown.is_triggered() || others_waiting(queue);
                conn.respond(response, close);
            }
            Step::Close { linger } => {
                flush(stream, &mut conn)?;
                if let Some(linger_for) = linger {
                    self::linger(stream, linger_for)?;
                }
                return Ok(());
            }
            Step::Read { until, expiry } => {
                if !flush(stream, &mut conn)? {
                    continue;
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
                // The listener too is level-triggered: watch it once per idle period.
                let queue_fd = match queue {
                    Queue::Listener(fd)
                        if expiry == Expiry::Idle
                            && conn.served() > 0
                            && !conn.idle_shortened() =>
                    {
                        fd
                    }
                    _ => NONE,
                };
                let [readable, _, others_waiting] =
                    poll::wait([(sock, IN), (wake, IN), (queue_fd, IN)], Some(until))?;
                if !readable && Instant::now() >= until {
                    conn.expire();
                } else if others_waiting && !readable {
                    conn.shorten_idle(QUEUE_IDLE_GRACE);
                }
                // Readable or woken by the drain: the loop reads or asks the Conn again.
            }
        }
    }
}

/// Whether a client waits in the accept queue of `queue` (a zero-timeout `poll`).
fn others_waiting(queue: Queue) -> bool {
    match queue {
        Queue::None => false,
        Queue::Listener(fd) => matches!(poll::wait([(fd, IN)], Some(Instant::now())), Ok([true])),
    }
}

/// Write everything in `conn.outgoing()`, by [`Conn::write_deadline`] at the latest. `false`:
/// the deadline passed and the `Conn` was told ([`Conn::write_expired`]).
fn flush(mut stream: &TcpStream, conn: &mut Conn) -> io::Result<bool> {
    while !conn.outgoing().is_empty() {
        match stream.write(conn.outgoing()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.wrote(n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let until = conn.write_deadline();
                let [writable] = poll::wait([(stream.as_raw_fd(), OUT)], Some(until))?;
                if !writable {
                    conn.write_expired();
                    return Ok(false);
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

/// Lingering close (see [`Step::Close`]): send FIN, then discard input until the client
/// closes or `linger_for` passes.
fn linger(mut stream: &TcpStream, linger_for: Duration) -> io::Result<()> {
    stream.shutdown(std::net::Shutdown::Write)?;
    let until = Instant::now() + linger_for;
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let [readable] = poll::wait([(stream.as_raw_fd(), IN)], Some(until))?;
                if !readable {
                    return Ok(());
                }
            }
            Err(_) => return Ok(()),
        }
    }
}
