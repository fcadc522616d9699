//! Drive a [`Conn`] as a task over a non-blocking socket: the IO half of every tokio model
//! (`async-single`, `async-multi`, `thread-per-core`) and of `event-loop`, written once over
//! [`Socket`] (a tokio `TcpStream` with tokio's timer, or the event loop's with its own).
//!
//! When no bytes are ready the task returns `Pending` and its thread runs another task; epoll
//! (inside tokio's IO driver, or the event loop's reactor) wakes it later. Before it waits, the connection hands its
//! buffers back ([`Conn::release_idle_buffers`]) and the handler's future is boxed only while
//! a request runs, so a parked connection task holds a few hundred bytes, not the largest
//! handler's state plus 9 KiB of buffers.
//!
//! Timeouts use one timer per connection that is *not* reset on every read: when it fires,
//! the driver compares the connection's current deadline and re-arms it only if that moved.
//! Keep-alive traffic then costs no timer-wheel operation per request. The shutdown
//! [`crate::shutdown::Watch`] is created once per connection and is lock-free to poll.
//!
//! Every decision is the [`Conn`]'s; this file only makes syscalls.

use crate::Shared;
use crate::conn::{Conn, ConnConfig, Expiry, Step};
use clab_backend::Backend;
use std::future::Future;
use std::io;
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::pin::{Pin, pin};
use std::time::{Duration, Instant};

/// What the driver needs of a runtime's socket and timer. Each method is the runtime's own
/// (see the two impls at the bottom); nothing here adds a layer at run time.
pub trait Socket: Send + AsRawFd {
    /// The runtime's re-armable timer.
    type Timer: Timer;
    fn set_nodelay(&self, on: bool) -> io::Result<()>;
    /// Read without waiting (`WouldBlock` if nothing is there).
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Write without waiting (`WouldBlock` if the kernel takes nothing).
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send;
    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send;
    /// Send FIN.
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send;
}

/// A timer that fires at its deadline and can be moved.
pub trait Timer: Future<Output = ()> + Send {
    fn at(deadline: Instant) -> Self;
    fn deadline(&self) -> Instant;
    fn reset(self: Pin<&mut Self>, deadline: Instant);
}

/// Serve one connection until it closes. Errors only end this connection.
///
/// `shared` is any handle to the server's [`Shared`] (an `Arc`, an `Rc`, a reference), taken
/// by value so a task can be this future itself: wrapping it in `async move { serve_conn(s,
/// &shared).await }` would make the task reserve room for this future twice (an async block
/// keeps the future it captured and the one it awaits).
pub async fn serve_conn<B: Backend, S: Socket, H: Deref<Target = Shared<B>>>(stream: S, shared: H) {
    let _open = shared.stats.connection();
    // Held until the socket is closed (after the lingering close).
    let admitted = shared.admit();
    if let Err(err) = drive(stream, &shared, admitted.is_some()).await {
        tracing::debug!(%err, "connection ended with an error");
    }
}

/// `admitted`: within `--max-connections`; if not, the `Conn` answers 503 and closes.
async fn drive<B: Backend, S: Socket>(
    mut stream: S,
    shared: &Shared<B>,
    admitted: bool,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = Conn::new(ConnConfig::from(&shared.opts), Instant::now());
    if !admitted {
        conn.refuse_busy(crate::busy::AT_MAX_CONNECTIONS);
    }
    let mut timer = pin!(S::Timer::at(Instant::now() + shared.opts.header_timeout));
    let mut stop = shared.shutdown.watch();
    // Dropped when this returns, before the socket is (the caller owns it).
    let mark = shared.admission.idle.register(stream.as_raw_fd());
    loop {
        let draining = shared.shutdown.is_triggered();
        // The `Step` is turned into `Next` before anything is awaited: a `Step` held across an
        // await (as a `match` scrutinee is, to the end of the match) would make every idle
        // connection's future reserve room for a whole `Request`.
        let next = match conn.next_step(draining) {
            // Boxed: the connection future then does not reserve room for the largest
            // handler's state for its whole life, idle or not.
            Step::Handle(request) => Next::Handle(Box::pin(shared.handle(request))),
            Step::Close { linger } => Next::Close(linger),
            Step::Read { until, expiry } => {
                Next::Read(until, expiry == Expiry::Idle && conn.served() > 0)
            }
        };
        match next {
            Next::Handle(handling) => {
                let response = handling.await;
                conn.respond(response, shared.shutdown.is_triggered());
            }
            Next::Close(linger) => {
                // Boxed, like the handler: a close happens once, and its waits (a stuck
                // flush, the lingering reads) would otherwise be reserved in every idle
                // connection's future.
                return Box::pin(close(&mut stream, &mut conn, linger, timer.as_mut())).await;
            }
            Next::Read(until, idle) => {
                // Usually the kernel takes the whole response at once; only a client that
                // stops reading reaches the (boxed, rare) wait.
                if !write_now(&stream, &mut conn)?
                    && !Box::pin(flush(&mut stream, &mut conn, timer.as_mut())).await?
                {
                    continue;
                }
                match stream.try_read(conn.read_space()) {
                    Ok(n) => {
                        conn.did_read(n);
                        continue;
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => return Err(err),
                }
                conn.release_idle_buffers();
                if until < timer.deadline() {
                    // A partial head's or the drain's deadline is earlier than the armed one.
                    timer.as_mut().reset(until);
                }
                mark.idle(idle);
                tokio::select! {
                    biased;
                    ready = stream.readable() => ready?,
                    () = timer.as_mut() => {
                        if Instant::now() >= until {
                            conn.expire();
                        } else {
                            timer.as_mut().reset(until);
                        }
                    }
                    // Polled only until it fires once: it never resolves twice.
                    () = &mut stop, if !draining => {}
                }
                mark.idle(false);
            }
        }
    }
}

/// What [`drive`] does next, taken from a [`Step`] (see there for why).
enum Next<H> {
    Handle(Pin<Box<H>>),
    Close(Option<Duration>),
    /// Read by the deadline; `true`: idle on keep-alive meanwhile (may be shed).
    Read(Instant, bool),
}

/// Write what the kernel takes now; `true` once `conn.outgoing()` is empty.
fn write_now<S: Socket>(stream: &S, conn: &mut Conn) -> io::Result<bool> {
    while !conn.outgoing().is_empty() {
        match stream.try_write(conn.outgoing()) {
            Ok(n) => conn.wrote(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

/// [`Step::Close`]: flush what is left, then linger if the `Conn` says so.
async fn close<S: Socket>(
    stream: &mut S,
    conn: &mut Conn,
    linger: Option<Duration>,
    mut timer: Pin<&mut S::Timer>,
) -> io::Result<()> {
    flush(stream, conn, timer.as_mut()).await?;
    if let Some(linger_for) = linger {
        self::linger(stream, linger_for, timer).await;
    }
    Ok(())
}

/// Write everything in `conn.outgoing()`, by [`Conn::write_deadline`] at the latest. Usually
/// one non-blocking write finishes it; only a client that stops reading reaches the wait. The
/// wait borrows the connection's one timer (a timer of its own would grow every connection's
/// future by its size). `false`: the deadline passed and the `Conn` was told
/// ([`Conn::write_expired`]).
async fn flush<S: Socket>(
    stream: &mut S,
    conn: &mut Conn,
    mut timer: Pin<&mut S::Timer>,
) -> io::Result<bool> {
    while !conn.outgoing().is_empty() {
        match stream.try_write(conn.outgoing()) {
            Ok(n) => conn.wrote(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let until = conn.write_deadline();
                if timer.deadline() != until {
                    timer.as_mut().reset(until);
                }
                tokio::select! {
                    biased;
                    ready = stream.writable() => ready?,
                    () = timer.as_mut() => {
                        conn.write_expired();
                        return Ok(false);
                    }
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(true)
}

/// Lingering close (see [`Step::Close`]): send FIN, then discard input until the client
/// closes or `linger_for` passes.
async fn linger<S: Socket>(stream: &mut S, linger_for: Duration, mut timer: Pin<&mut S::Timer>) {
    if stream.shutdown().await.is_err() {
        return;
    }
    timer.as_mut().reset(Instant::now() + linger_for);
    // On the heap, and only while lingering: an array here would make every connection's
    // future reserve 4 KiB for the rare moment it lingers.
    let mut sink = vec![0u8; 4096];
    loop {
        tokio::select! {
            biased;
            ready = stream.readable() => if ready.is_err() { return },
            () = timer.as_mut() => return,
        }
        match stream.try_read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

impl Socket for tokio::net::TcpStream {
    type Timer = tokio::time::Sleep;

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        tokio::net::TcpStream::set_nodelay(self, on)
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        tokio::net::TcpStream::try_read(self, buf)
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        tokio::net::TcpStream::try_write(self, buf)
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send {
        tokio::net::TcpStream::readable(self)
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send {
        tokio::net::TcpStream::writable(self)
    }

    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        tokio::io::AsyncWriteExt::shutdown(self)
    }
}

impl Timer for tokio::time::Sleep {
    fn at(deadline: Instant) -> Self {
        tokio::time::sleep_until(deadline.into())
    }

    fn deadline(&self) -> Instant {
        tokio::time::Sleep::deadline(self).into_std()
    }

    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        tokio::time::Sleep::reset(self, deadline.into());
    }
}

impl Socket for clab_event_loop::TcpStream {
    type Timer = clab_event_loop::Sleep;

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        clab_event_loop::TcpStream::set_nodelay(self, on)
    }

    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        clab_event_loop::TcpStream::try_read(self, buf)
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        clab_event_loop::TcpStream::try_write(self, buf)
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send {
        clab_event_loop::TcpStream::readable(self)
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> + Send {
        clab_event_loop::TcpStream::writable(self)
    }

    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        std::future::ready(self.shutdown_write())
    }
}

impl Timer for clab_event_loop::Sleep {
    fn at(deadline: Instant) -> Self {
        clab_event_loop::sleep_until(deadline)
    }

    fn deadline(&self) -> Instant {
        clab_event_loop::Sleep::deadline(self)
    }

    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        // The loop's `Sleep` is `Unpin`.
        clab_event_loop::Sleep::reset(self.get_mut(), deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Model, ServeOptions, Shutdown};
    use clab_backend::{AsyncBackend, BackendConfig, DatabaseUrl};

    fn tiny_config() -> BackendConfig {
        BackendConfig {
            database: DatabaseUrl::SqliteMemory,
            seed_users: 10,
            seed_orders_per_user: 1,
            pool_size: 1,
            ..BackendConfig::default()
        }
    }

    fn shared<B: clab_backend::Backend>(model: Model, backend: B, cfg: BackendConfig) -> Shared<B> {
        Shared::new(model, 1, backend, ServeOptions::new(cfg), Shutdown::new())
    }

    /// An idle connection costs its task's future: keep it small (the handler is boxed only
    /// while it runs, the linger buffer is on the heap only while lingering).
    #[test]
    fn a_connection_future_is_small() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let cfg = tiny_config();
            let backend = AsyncBackend::connect(&cfg).await.unwrap();
            let shared = shared(Model::AsyncSingle, backend, cfg);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let stream = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let fut = serve_conn::<_, tokio::net::TcpStream, _>(stream, &shared);
            let size = std::mem::size_of_val(&fut);
            eprintln!(
                "connection future: {size} bytes, Conn {} bytes",
                std::mem::size_of::<Conn>()
            );
            assert!(size <= 1024, "connection future is {size} bytes");
        });
    }

    /// The same on the event loop, whose socket and timer are smaller than tokio's.
    #[test]
    fn a_loop_connection_future_is_smaller() {
        let rt = clab_event_loop::Runtime::new().unwrap();
        rt.block_on(async {
            let cfg = tiny_config();
            let backend = clab_backend::LoopBackend::connect(&cfg).await.unwrap();
            let shared = shared(Model::EventLoop, backend, cfg);
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let stream = clab_event_loop::TcpStream::from_std(std_stream).unwrap();
            let fut = serve_conn(stream, &shared);
            let size = std::mem::size_of_val(&fut);
            eprintln!("loop connection future: {size} bytes");
            assert!(size <= 640, "loop connection future is {size} bytes");
        })
        .unwrap();
    }
}
