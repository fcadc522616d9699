//! The blocking `Listener`: accept connections until shutdown, for the thread models.
//!
//! A thread blocked in `accept(2)` cannot see a shutdown flag, so the listener first waits in
//! `poll(2)` on the listening socket with a short timeout: a new connection wakes it at once,
//! and a shutdown is noticed within [`SHUTDOWN_POLL`].

use crate::{ServerError, Shutdown};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// How long a blocking acceptor may take to notice a shutdown.
pub(crate) const SHUTDOWN_POLL: Duration = Duration::from_millis(50);

/// Put the listening socket in non-blocking mode (tokio needs it; the blocking acceptor
/// must never hang in `accept(2)` after `poll` said ready) and return its address.
pub(crate) fn make_nonblocking(listener: &TcpListener) -> Result<SocketAddr, ServerError> {
    let addr = listener
        .local_addr()
        .map_err(ServerError::io("listener address"))?;
    listener
        .set_nonblocking(true)
        .map_err(ServerError::io("listener non-blocking"))?;
    Ok(addr)
}

/// The next accepted connection, or `None` once shutdown is triggered.
pub(crate) fn accept(listener: &TcpListener, shutdown: &Shutdown) -> Option<TcpStream> {
    loop {
        if shutdown.is_triggered() {
            return None;
        }
        match wait_readable(listener, SHUTDOWN_POLL) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(err) => {
                tracing::warn!(%err, "poll on listener failed");
                std::thread::sleep(SHUTDOWN_POLL);
                continue;
            }
        }
        match listener.accept() {
            Ok((stream, _peer)) => return Some(stream),
            // Another acceptor won the race, or the client gave up: poll again.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(err) => {
                // EMFILE and friends: back off instead of spinning; the backlog keeps waiting.
                tracing::warn!(%err, "accept failed");
                std::thread::sleep(SHUTDOWN_POLL);
            }
        }
    }
}

/// Wait until the socket is readable (a connection is pending) or `timeout` passes.
fn wait_readable(listener: &TcpListener, timeout: Duration) -> io::Result<bool> {
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fd` is a valid, initialised pollfd living across the call, and nfds is 1.
    let rc = unsafe { libc::poll(&mut fd, 1, millis) };
    match rc {
        -1 => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(err)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}
