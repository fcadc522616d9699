//! Drive a [`Conn`] over a tokio `TcpStream`: the IO half of every tokio model
//! (`async-single`, `async-multi`, `thread-per-core`).
//!
//! When no bytes are ready the task returns `Pending` and its worker runs another task; epoll
//! (inside tokio's IO driver) wakes it later. Before it waits, the connection hands its
//! buffers back ([`Conn::release_idle_buffers`]) and the handler's future is boxed only while
//! a request runs, so a parked connection task holds a few hundred bytes, not the largest
//! handler's state plus 9 KiB of buffers.
//!
//! Timeouts use one `Sleep` per connection that is *not* reset on every read: when it fires,
//! the driver compares the connection's current deadline and re-arms it only if that moved.
//! Keep-alive traffic then costs no timer-wheel operation per request. The shutdown
//! [`crate::shutdown::Watch`] is created once per connection and is lock-free to poll.
//!
//! Every decision is the [`Conn`]'s; this file only makes syscalls.

use crate::Shared;
use crate::conn::{Conn, ConnConfig, Step};
use clab_backend::Backend;
use std::io;
use std::pin::pin;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until};

/// Serve one connection until it closes. Errors only end this connection.
pub async fn serve_conn<B: Backend>(stream: TcpStream, shared: &Shared<B>) {
    let _open = shared.stats.connection();
    if let Err(err) = drive(stream, shared).await {
        tracing::debug!(%err, "connection ended with an error");
    }
}

async fn drive<B: Backend>(mut stream: TcpStream, shared: &Shared<B>) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = Conn::new(ConnConfig::from(&shared.opts));
    let mut timer = pin!(sleep_until(Instant::now() + shared.opts.header_timeout));
    let mut stop = shared.shutdown.watch();
    loop {
        let draining = shared.shutdown.is_triggered();
        match conn.next_step(draining) {
            Step::Handle(request) => {
                // Boxed: the connection future then does not reserve room for the largest
                // handler's state for its whole life, idle or not.
                let response = Box::pin(shared.handle(request)).await;
                conn.respond(response, shared.shutdown.is_triggered());
            }
            Step::Close { linger } => {
                flush(&mut stream, &mut conn).await?;
                if let Some(linger_for) = linger {
                    self::linger(&mut stream, linger_for).await;
                }
                return Ok(());
            }
            Step::Read { until, expiry: _ } => {
                flush(&mut stream, &mut conn).await?;
                match stream.try_read(conn.read_space()) {
                    Ok(n) => {
                        conn.did_read(n);
                        continue;
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => return Err(err),
                }
                conn.release_idle_buffers();
                let until = Instant::from_std(until);
                if until < timer.deadline() {
                    // A partial head's or the drain's deadline is earlier than the armed one.
                    timer.as_mut().reset(until);
                }
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
            }
        }
    }
}

/// Write everything in `conn.outgoing()`, by [`Conn::write_deadline`] at the latest. Usually
/// one non-blocking write finishes it; only a client that stops reading reaches the wait.
async fn flush(stream: &mut TcpStream, conn: &mut Conn) -> io::Result<()> {
    while !conn.outgoing().is_empty() {
        match stream.try_write(conn.outgoing()) {
            Ok(n) => conn.wrote(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                let until = Instant::from_std(conn.write_deadline());
                match tokio::time::timeout_at(until, stream.writable()).await {
                    Ok(ready) => ready?,
                    Err(_elapsed) => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "client stopped reading",
                        ));
                    }
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Lingering close (see [`Step::Close`]): send FIN, then discard input until the client
/// closes or `linger_for` passes.
async fn linger(stream: &mut TcpStream, linger_for: Duration) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let discard = async {
        loop {
            if stream.readable().await.is_err() {
                return;
            }
            match stream.try_read(&mut sink) {
                Ok(0) => return,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(linger_for, discard).await;
}
