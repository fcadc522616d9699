//! Drive a [`Conn`] over a tokio `TcpStream`: the IO half of every tokio model.
//!
//! Timeouts use one `Sleep` per connection that is *not* reset on every read: when it fires,
//! the driver compares the connection's real deadline and re-arms it only if that deadline
//! moved. Keep-alive traffic then costs no timer-wheel operation per request, which matters at
//! hundreds of thousands of requests per second. The shutdown [`crate::shutdown::Watch`] is
//! created once per connection and is lock-free to poll, for the same reason.

use crate::conn::{Conn, ConnConfig, DRAIN_GRACE, LINGER, Step};
use crate::{ServeOptions, Shutdown};
use clab_app::App;
use clab_backend::Backend;
use std::io;
use std::pin::pin;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until};

/// Serve one connection until it closes. Errors only end this connection.
pub async fn serve_conn<B: Backend>(
    mut stream: TcpStream,
    app: &App<B>,
    opts: &ServeOptions,
    shutdown: &Shutdown,
) {
    if let Err(err) = drive(&mut stream, app, ConnConfig::from(opts), shutdown).await {
        tracing::debug!(%err, "connection ended with an error");
    }
}

async fn drive<B: Backend>(
    stream: &mut TcpStream,
    app: &App<B>,
    config: ConnConfig,
    shutdown: &Shutdown,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut conn = Conn::new(config);
    let mut timer = pin!(sleep_until(Instant::from_std(conn.read_deadline().0)));
    let mut stop = shutdown.watch();
    loop {
        match conn.next_step() {
            Step::Handle(request) => {
                let response = app.handle(request).await;
                conn.respond(response, shutdown.is_triggered());
            }
            Step::Close => {
                flush(stream, &mut conn, &config).await?;
                if conn.should_linger() {
                    linger(stream).await?;
                }
                return Ok(());
            }
            Step::Read => {
                flush(stream, &mut conn, &config).await?;
                let deadline = Instant::from_std(conn.read_deadline().0);
                if deadline < timer.deadline() {
                    // Rare: a partial head arrived and its header deadline is earlier.
                    timer.as_mut().reset(deadline);
                }
                if shutdown.is_triggered() && conn.is_idle() {
                    // Draining: an idle keep-alive connection has nothing left to finish; a
                    // fresh one accepted just before the trigger gets a moment for its first
                    // request to arrive.
                    if conn.served() > 0 {
                        return Ok(());
                    }
                    match tokio::time::timeout(DRAIN_GRACE, stream.read(conn.read_space())).await {
                        Ok(Ok(0)) | Err(_) => return Ok(()),
                        Ok(Ok(n)) => {
                            conn.did_read(n);
                            continue;
                        }
                        Ok(Err(err)) => return Err(err),
                    }
                }
                let draining = shutdown.is_triggered();
                tokio::select! {
                    biased;
                    read = stream.read(conn.read_space()) => match read? {
                        0 => return Ok(()),
                        n => conn.did_read(n),
                    },
                    () = timer.as_mut() => {
                        let now = Instant::now();
                        let deadline = Instant::from_std(conn.read_deadline().0);
                        if now >= deadline {
                            conn.expire();
                        } else {
                            timer.as_mut().reset(deadline);
                        }
                    }
                    // Polled only until it fires once: it never resolves twice.
                    () = &mut stop, if !draining => {}
                }
            }
        }
    }
}

/// Write everything in `conn.outgoing()`. Usually one non-blocking write finishes it; only a
/// client that stops reading reaches the timed wait.
async fn flush(stream: &mut TcpStream, conn: &mut Conn, config: &ConnConfig) -> io::Result<()> {
    let out = conn.outgoing();
    if out.is_empty() {
        return Ok(());
    }
    let mut written = match stream.try_write(out) {
        Ok(n) => n,
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => 0,
        Err(err) => return Err(err),
    };
    if written < out.len() {
        let rest = &out[written..];
        match tokio::time::timeout(config.idle_timeout, stream.write_all(rest)).await {
            Ok(result) => result?,
            Err(_elapsed) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client stopped reading",
                ));
            }
        }
        written = out.len();
    }
    conn.wrote(written);
    Ok(())
}

/// Lingering close: send FIN, then discard input until the client closes or [`LINGER`]
/// passes (see [`Conn::should_linger`]).
async fn linger(stream: &mut TcpStream) -> io::Result<()> {
    stream.shutdown().await?;
    let mut sink = [0u8; 8192];
    let discard = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(LINGER, discard).await;
    Ok(())
}
