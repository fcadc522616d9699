//! Drive a [`Conn`] over a `may::net::TcpStream` from one stackful coroutine: the IO half of
//! the `coroutines` model.
//!
//! The code reads like [`super::blocking`]'s (plain `read`/`write` calls, no `async`), but
//! may's socket calls park the *coroutine* on may's epoll when the socket is not ready, and its
//! carrier thread runs other coroutines meanwhile. A read parks on a small stack buffer with
//! the connection's buffers handed back ([`Conn::release_idle_buffers`]), so a waiting
//! connection holds none. may tries the socket before it parks, so a request already there
//! costs one `read`; trying it ourselves first as well cost a second, failing `read` per
//! request (in interleaved runs here, 0.76× may_minihttp's `/plaintext` with it, 0.82–0.95×
//! without).
//!
//! # Deadlines and the drain
//! A parked read's deadline is may's per-socket read timeout, a timer in the event loop of the
//! carrier that owns the socket; when it fires the coroutine resumes there with `TimedOut`.
//! The timeout is set only when it changes (it is a `setsockopt` as well), so a keep-alive
//! connection sets it once per idle period, not once per request.
//!
//! Unlike the thread models, nothing can wake a parked read early: the blocking driver also
//! polls the shutdown eventfd, but a may coroutine waits on one event source at a time, and
//! may's `WaitIoWaker` (the one "wake this coroutine" handle for IO) only works with
//! `wait_io`, which has no timeout, and cannot interrupt a parked `read` (the read re-arms
//! itself). So an idle connection waits at most [`DRAIN_CHECK`] at a time and then looks at
//! the shutdown flag: a drain reaches it within a second (plus [`crate::conn::DRAIN_GRACE`]),
//! and a server at rest with N idle connections makes N timer wake-ups per second (each two
//! `read`s that find nothing), where the thread and tokio models make none. That is a
//! departure from the other drivers, stated here rather than hidden. (`WaitIoWaker::wakeup`
//! from another thread also takes the socket's timer slot, a `RefCell` its event loop uses
//! unsynchronised, so it would not be sound to call at shutdown anyway.)
//!
//! # Running the handler
//! The driver's own `block_on` polls the handler with a waker bound to *this coroutine*: the
//! `MayBackend`'s futures are complete on their first poll (every wait parks the coroutine
//! inside the poll), and should one return `Pending` anyway the coroutine parks on a may
//! [`Blocker`] until woken, never its carrier. [`clab_backend::block_on`] must not be
//! used here: its waker is a thread-local bound to the OS thread that first built it, and it
//! parks that thread. A
//! thread-local waker held across a yield belongs to whichever carrier the coroutine ran on
//! when it was read, not the one it resumes on.
//!
//! Thread-locals are touched only in calls that do not yield: the buffer pool
//! ([`Conn::read_space`], [`Conn::release_idle_buffers`]) takes and gives an owned `Vec` from
//! the current carrier's pool, so a coroutine that moved carriers between the two only moves a
//! buffer from one pool to another (as a migrated tokio task does).
//!
//! Every decision is the [`Conn`]'s; this file only makes syscalls.

use crate::Shared;
use crate::conn::{Conn, ConnConfig, Expiry, Step};
use clab_backend::Backend;
use may::net::TcpStream;
use may::sync::Blocker;
use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// The longest a parked read waits before the coroutine looks at the shutdown flag again.
pub const DRAIN_CHECK: Duration = Duration::from_secs(1);

/// may rounds an IO timer to milliseconds; never ask for less.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// Serve one connection until it closes. Errors only end this connection. Call it inside a
/// may coroutine.
pub fn serve_conn<B: Backend>(stream: TcpStream, shared: &Shared<B>) {
    let _open = shared.stats.connection();
    // Held until the socket is closed (after the lingering close).
    let admitted = shared.admit();
    if let Err(err) = drive(stream, shared, admitted.is_some()) {
        tracing::debug!(%err, "connection ended with an error");
    }
}

/// `admitted`: within `--max-connections`; if not, the `Conn` answers 503 and closes.
fn drive<B: Backend>(mut stream: TcpStream, shared: &Shared<B>, admitted: bool) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let waker = CoroutineWaker::current();
    let mut timeouts = Timeouts::default();
    // Dropped when this returns, before the socket is.
    let mark = shared.admission.idle.register(stream.as_raw_fd());
    let mut conn = Conn::new(ConnConfig::from(&shared.opts), Instant::now());
    if !admitted {
        conn.refuse_busy(crate::busy::AT_MAX_CONNECTIONS);
    }
    loop {
        let draining = shared.shutdown.is_triggered();
        match conn.next_step(draining) {
            Step::Handle(request) => {
                let response = block_on(&waker, shared.handle(request));
                conn.respond(response, shared.shutdown.is_triggered());
            }
            Step::Close { linger } => {
                flush(&mut stream, &mut conn, &mut timeouts)?;
                if let Some(linger_for) = linger {
                    self::linger(&mut stream, linger_for, &mut timeouts)?;
                }
                return Ok(());
            }
            Step::Read { until, expiry } => {
                if !flush(&mut stream, &mut conn, &mut timeouts)? {
                    continue;
                }
                let now = Instant::now();
                if now >= until {
                    conn.expire();
                    continue;
                }
                let wait = (until - now).min(DRAIN_CHECK);
                timeouts.read(&stream, wait)?;
                mark.idle(expiry == Expiry::Idle && conn.served() > 0);
                let read = if conn.has_partial_request() {
                    // The rest of a request (a large body): straight into the Conn's buffer.
                    stream.read(conn.read_space())
                } else {
                    // Between requests: park on a small stack buffer, so a waiting connection
                    // holds no pooled buffer (10,000 idle ones would otherwise pin 80 MB); what
                    // arrives is copied into the Conn's. 1 KiB: zeroing it costs next to
                    // nothing per wait (4 KiB showed up as 2% of a /plaintext profile) and a
                    // request head usually fits; the rest of a bigger one is read above.
                    conn.release_idle_buffers();
                    let mut first = [0u8; 1024];
                    stream.read(&mut first).map(|n| {
                        if n == 0 {
                            return 0;
                        }
                        let space = conn.read_space();
                        let n = n.min(space.len());
                        space[..n].copy_from_slice(&first[..n]);
                        n
                    })
                };
                mark.idle(false);
                match read {
                    Ok(n) => conn.did_read(n),
                    Err(err) if is_timeout(&err) => {
                        if Instant::now() >= until {
                            conn.expire();
                        }
                        // Otherwise a drain check: the loop asks the Conn again.
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                }
            }
        }
    }
}

/// The read and write timeouts last set on the socket (each `set_*_timeout` is a syscall).
#[derive(Debug, Default)]
struct Timeouts {
    read: Option<Duration>,
    write: Option<Duration>,
}

impl Timeouts {
    fn read(&mut self, stream: &TcpStream, wait: Duration) -> io::Result<()> {
        Self::set(&mut self.read, wait, |t| stream.set_read_timeout(t))
    }

    fn write(&mut self, stream: &TcpStream, wait: Duration) -> io::Result<()> {
        Self::set(&mut self.write, wait, |t| stream.set_write_timeout(t))
    }

    fn set(
        last: &mut Option<Duration>,
        wait: Duration,
        apply: impl FnOnce(Option<Duration>) -> io::Result<()>,
    ) -> io::Result<()> {
        let wait = Some(wait.max(MIN_TIMEOUT));
        if *last != wait {
            apply(wait)?;
            *last = wait;
        }
        Ok(())
    }
}

fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Write everything in `conn.outgoing()`, by [`Conn::write_deadline`] at the latest. The
/// first write goes straight to the non-blocking socket (usually it finishes the flush); only
/// a client that stops reading makes the coroutine park, with the time left as its timeout.
/// `false`: the deadline passed and the `Conn` was told ([`Conn::write_expired`]).
fn flush(stream: &mut TcpStream, conn: &mut Conn, timeouts: &mut Timeouts) -> io::Result<bool> {
    while !conn.outgoing().is_empty() {
        match stream.inner().write(conn.outgoing()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                conn.wrote(n);
                continue;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
        let Some(left) = conn
            .write_deadline()
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
        else {
            conn.write_expired();
            return Ok(false);
        };
        timeouts.write(stream, left)?;
        match stream.write(conn.outgoing()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.wrote(n),
            Err(err) if is_timeout(&err) => {
                conn.write_expired();
                return Ok(false);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

/// Lingering close (see [`Step::Close`]): send FIN, then discard input until the client
/// closes or `linger_for` passes.
fn linger(stream: &mut TcpStream, linger_for: Duration, timeouts: &mut Timeouts) -> io::Result<()> {
    stream.shutdown(std::net::Shutdown::Write)?;
    let until = Instant::now() + linger_for;
    let mut sink = [0u8; 4096];
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if left.is_zero() {
            break;
        }
        timeouts.read(stream, left)?;
        match stream.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// Wakes the coroutine that built it, wherever it runs by then (a may [`Blocker`] made inside a
/// coroutine parks and unparks that coroutine, not a thread).
struct CoroutineWake(Blocker);

impl Wake for CoroutineWake {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The calling coroutine's waker and the blocker it unparks, built once per connection (not
/// per request, and not a thread-local: see the module docs).
struct CoroutineWaker {
    blocker: Arc<CoroutineWake>,
    waker: Waker,
}

impl CoroutineWaker {
    /// Call inside the coroutine that will [`block_on`] with it.
    fn current() -> Self {
        let blocker = Arc::new(CoroutineWake(Blocker::new(false)));
        let waker = Waker::from(Arc::clone(&blocker));
        Self { blocker, waker }
    }

    /// Park the coroutine until the waker is woken. An unpark that came first makes this
    /// return at once, like `std::thread::park`; a spurious return costs one more poll.
    fn park(&self) {
        if let Err(err) = self.blocker.0.park(None) {
            tracing::debug!(?err, "coroutine park returned early");
        }
    }
}

/// Run `fut` to completion inside the calling coroutine, parking the coroutine (not its
/// carrier) whenever the future is `Pending`.
fn block_on<F: Future>(waker: &CoroutineWaker, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(&waker.waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        waker.park();
    }
}
