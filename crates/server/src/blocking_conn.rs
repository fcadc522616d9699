//! Drive a [`Conn`] over a blocking `std::net::TcpStream`: the IO half of every thread model.
//!
//! The thread waits in `read(2)` with a socket read timeout. The timeout is a short constant
//! tick, [`DRAIN_GRACE`] (so `setsockopt` runs once per connection, not per read); each time
//! it fires the driver checks the connection's real deadline and the shutdown flag. A fresh
//! connection accepted just before shutdown so gets one tick for its first request.

use crate::block_on::block_on;
use crate::conn::{Conn, ConnConfig, DRAIN_GRACE, LINGER, Step};
use crate::{ServeOptions, Shutdown};
use clab_app::App;
use clab_backend::Backend;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// Serve one connection until it closes. Errors only end this connection.
pub fn serve_conn<B: Backend>(
    mut stream: TcpStream,
    app: &App<B>,
    opts: &ServeOptions,
    shutdown: &Shutdown,
) {
    if let Err(err) = drive(&mut stream, app, ConnConfig::from(opts), shutdown) {
        tracing::debug!(%err, "connection ended with an error");
    }
}

fn drive<B: Backend>(
    stream: &mut TcpStream,
    app: &App<B>,
    config: ConnConfig,
    shutdown: &Shutdown,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    // A client that stops reading cannot pin this thread for longer than the idle timeout.
    stream.set_write_timeout(Some(config.idle_timeout))?;
    let mut tick = DRAIN_GRACE;
    stream.set_read_timeout(Some(tick))?;
    let mut conn = Conn::new(config);
    loop {
        match conn.next_step() {
            Step::Handle(request) => {
                let response = block_on(app.handle(request));
                conn.respond(response, shutdown.is_triggered());
            }
            Step::Close => {
                flush(stream, &mut conn)?;
                if conn.should_linger() {
                    linger(stream)?;
                }
                return Ok(());
            }
            Step::Read => {
                flush(stream, &mut conn)?;
                let (deadline, _expiry) = conn.read_deadline();
                let now = Instant::now();
                if now >= deadline {
                    conn.expire();
                    continue;
                }
                if shutdown.is_triggered() && conn.is_idle() && conn.served() > 0 {
                    // Draining: an idle keep-alive connection has nothing left to finish.
                    return Ok(());
                }
                // Never sleep past the deadline; otherwise wake every tick to look around.
                let want = (deadline - now).min(DRAIN_GRACE);
                if want != tick {
                    tick = want.max(std::time::Duration::from_millis(1));
                    stream.set_read_timeout(Some(tick))?;
                }
                match stream.read(conn.read_space()) {
                    Ok(0) => return Ok(()),
                    Ok(n) => conn.did_read(n),
                    Err(err)
                        if matches!(
                            err.kind(),
                            io::ErrorKind::WouldBlock
                                | io::ErrorKind::TimedOut
                                | io::ErrorKind::Interrupted
                        ) =>
                    {
                        // A fresh connection whose request has not arrived by now is also
                        // closed when draining; this tick gave it the chance to send.
                        if shutdown.is_triggered() && conn.is_idle() {
                            return Ok(());
                        }
                    }
                    Err(err) => return Err(err),
                }
            }
        }
    }
}

fn flush(stream: &mut TcpStream, conn: &mut Conn) -> io::Result<()> {
    let out = conn.outgoing();
    if out.is_empty() {
        return Ok(());
    }
    let n = out.len();
    let result = stream.write_all(out);
    conn.wrote(n);
    result
}

/// Lingering close: send FIN, then discard input until the client closes or [`LINGER`]
/// passes (see [`Conn::should_linger`]).
fn linger(stream: &mut TcpStream) -> io::Result<()> {
    stream.shutdown(std::net::Shutdown::Write)?;
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 8192];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        stream.set_read_timeout(Some(left.max(std::time::Duration::from_millis(1))))?;
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}
