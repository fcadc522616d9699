//! Non-blocking sockets on the loop: [`TcpListener`] and [`TcpStream`].
//!
//! Each is a `mio` socket plus its token in the [`crate::reactor`]. `try_read`/`try_write`
//! make the syscall only while the reactor says the socket is ready, and report `WouldBlock`
//! (clearing that readiness) otherwise; `readable`/`writable` wait for the next epoll event.
//! A partial write is the caller's to continue (`try_write` returns how much went); a read
//! returns what the kernel had, and a read of 0 is the peer's FIN.
//!
//! `TcpStream` implements tokio's `AsyncRead`/`AsyncWrite` *traits* (no tokio runtime is
//! involved), which is what lets `tokio-postgres` (`Config::connect_raw`) and the `redis`
//! crate speak their protocols over this loop's sockets.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use std::os::fd::{AsFd, AsRawFd};

use mio::event::Source;
use mio::unix::SourceFd;

use crate::context;
use crate::reactor::Direction;

/// A socket registered with this thread's loop, deregistered when dropped.
#[derive(Debug)]
struct Registered<S: Source + AsRawFd> {
    io: S,
    token: usize,
}

impl<S: Source + AsRawFd> Registered<S> {
    fn new(mut io: S, writable: bool) -> io::Result<Self> {
        let token = context::with(|core| core.reactor.borrow_mut().register(&mut io, writable))?;
        Ok(Self { io, token })
    }

    fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<()> {
        context::with(|core| core.reactor.borrow_mut().poll_ready(self.token, dir, cx))
    }

    /// Run `op` if the socket is ready in `dir`; on `WouldBlock` clear the readiness.
    fn attempt<R>(&self, dir: Direction, op: impl FnOnce(&S) -> io::Result<R>) -> io::Result<R> {
        context::with(|core| {
            if !core.reactor.borrow().is_ready(self.token, dir) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let result = op(&self.io);
            // Re-registering needs only the fd (mio's `SourceFd`), not `&mut` of the socket.
            let fd = self.io.as_raw_fd();
            let mut source = SourceFd(&fd);
            let mut reactor = core.reactor.borrow_mut();
            match &result {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    reactor.clear(&mut source, self.token, dir)?;
                }
                Ok(_) if dir == Direction::Write => reactor.wrote(&mut source, self.token)?,
                _ => {}
            }
            result
        })
    }
}

impl<S: Source + AsRawFd> Drop for Registered<S> {
    fn drop(&mut self) {
        let token = self.token;
        let io = &mut self.io;
        context::try_with(|core| core.reactor.borrow_mut().deregister(io, token));
    }
}

/// A listening socket on the loop.
#[derive(Debug)]
pub struct TcpListener {
    inner: Registered<mio::net::TcpListener>,
}

impl TcpListener {
    /// Take over a bound, listening std socket (made non-blocking here).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        Ok(Self {
            inner: Registered::new(mio::net::TcpListener::from_std(listener), false)?,
        })
    }

    /// Accept the next connection, waiting for one if the queue is empty.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            match self
                .inner
                .attempt(Direction::Read, mio::net::TcpListener::accept)
            {
                Ok((stream, peer)) => return Ok((TcpStream::accepted(stream)?, peer)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    poll_fn(|cx| self.inner.poll_ready(Direction::Read, cx)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Give the socket back (deregistered, still non-blocking), e.g. to sweep its backlog.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        // A duplicate of the fd outlives the registered original, which deregisters.
        let fd = self.inner.io.as_fd().try_clone_to_owned()?;
        drop(self);
        // Still non-blocking: a sweep's `accept` ends at `WouldBlock` instead of waiting.
        Ok(std::net::TcpListener::from(fd))
    }
}

/// A connected stream on the loop: an accepted client or an outgoing connection.
#[derive(Debug)]
pub struct TcpStream {
    inner: Registered<mio::net::TcpStream>,
}

/// The socket's descriptor, for what works on any socket (a server shedding idle connections
/// shuts the socket down from another task).
impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.io.as_raw_fd()
    }
}

impl TcpStream {
    fn accepted(stream: mio::net::TcpStream) -> io::Result<Self> {
        Ok(Self {
            inner: Registered::new(stream, true)?,
        })
    }

    /// Take over a connected std socket (made non-blocking here).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Self::accepted(mio::net::TcpStream::from_std(stream))
    }

    /// Connect to `addr` without blocking the loop: the SYN goes out, the task yields, and
    /// epoll reports the socket writable once the handshake is done (or failed).
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = Self {
            inner: Registered::new(mio::net::TcpStream::connect(addr)?, false)?,
        };
        poll_fn(|cx| stream.inner.poll_ready(Direction::Write, cx)).await;
        if let Some(err) = stream.inner.io.take_error()? {
            return Err(err);
        }
        // Writable without an error can still be "not connected" (mio's documented caveat);
        // `peer_addr` tells them apart.
        stream.inner.io.peer_addr()?;
        Ok(stream)
    }

    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.io.set_nodelay(nodelay)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// Read what is there; `WouldBlock` if nothing is (see the module docs).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .attempt(Direction::Read, |mut io: &mio::net::TcpStream| io.read(buf))
    }

    /// Write what the kernel takes; `WouldBlock` if it takes nothing now.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .attempt(Direction::Write, |mut io: &mio::net::TcpStream| {
                io.write(buf)
            })
    }

    /// Wait until epoll reports the socket readable (or closed).
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.inner.poll_ready(Direction::Read, cx)).await;
        Ok(())
    }

    /// Wait until epoll reports the socket writable (or closed).
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.inner.poll_ready(Direction::Write, cx)).await;
        Ok(())
    }

    /// Send FIN: no more writes from this side.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.inner.io.shutdown(Shutdown::Write)
    }

    /// This socket's token in the reactor, for [`crate::callbacks`].
    pub(crate) fn token(&self) -> usize {
        self.inner.token
    }
}

impl tokio::io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match self.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.inner.poll_ready(Direction::Read, cx));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl tokio::io::AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.inner.poll_ready(Direction::Write, cx));
                }
                other => return Poll::Ready(other),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // No user-space buffer: a write that returned went to the kernel.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Runtime, spawn};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn an_echo_over_loop_sockets_with_a_write_bigger_than_the_socket_buffer() {
        let rt = Runtime::new().unwrap();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        // 8 MiB: far beyond the kernel's socket buffers, so writes go partial and block.
        let payload: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
        let expected = payload.clone();
        let got = rt
            .block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                spawn(async move {
                    let (mut conn, _) = listener.accept().await.unwrap();
                    let mut buf = vec![0u8; 64 << 10];
                    loop {
                        let n = conn.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        conn.write_all(&buf[..n]).await.unwrap();
                    }
                    conn.shutdown().await.unwrap();
                });
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut rd, mut wr) = tokio::io::split(stream);
                spawn(async move {
                    wr.write_all(&payload).await.unwrap();
                    wr.shutdown().await.unwrap();
                });
                let mut got = Vec::new();
                rd.read_to_end(&mut got).await.unwrap();
                got
            })
            .unwrap();
        assert!(
            got == expected,
            "echoed {} of {} bytes",
            got.len(),
            expected.len()
        );
    }

    #[test]
    fn connecting_to_a_closed_port_fails_without_blocking() {
        let rt = Runtime::new().unwrap();
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = rt
            .block_on(async { TcpStream::connect(addr).await.unwrap_err() })
            .unwrap();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    }
}
