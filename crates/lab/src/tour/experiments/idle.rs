//! Idle keep-alive connections for the experiments that need a server holding many (C17, C22).

use std::io::{self, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::tour::server::read_response;
use crate::tour::{ChildServer, Context, LimitHit};

/// Up to `n` keep-alive connections that each sent one `GET /plaintext`, read the answer, and
/// sit. A machine limit that stops it short is recorded on `ctx` with the knob that moves it,
/// and the experiment goes on with the connections it got; failing on the first is an error.
pub(super) fn idle_connections(
    ctx: &mut Context,
    server: &ChildServer,
    n: usize,
) -> Result<Vec<TcpStream>, String> {
    // Our n ends plus the load runs' and the slack: raise the soft limit to the hard one if
    // needed (the server children started after it inherit it too).
    clab_load::ensure_fd_limit(n + 1_000).map_err(|e| e.to_string())?;
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        match open(server) {
            Ok(s) => conns.push(s),
            Err(e) if i > 0 => {
                let (limit, knob) = limit_of(&e);
                ctx.limit_hit(LimitHit {
                    what: "idle keep-alive connections".into(),
                    wanted: n as u64,
                    reached: i as u64,
                    limit: format!("{limit} ({e})"),
                    knob: knob.into(),
                });
                break;
            }
            Err(e) => return Err(format!("idle connection {i}: {e}")),
        }
    }
    Ok(conns)
}

fn open(server: &ChildServer) -> io::Result<TcpStream> {
    let mut s = TcpStream::connect(server.addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: tour\r\n\r\n")?;
    read_response(&mut s).map_err(io::Error::other)?;
    Ok(s)
}

/// The limit behind a failed connection, by its error, and the knob that moves it.
fn limit_of(e: &io::Error) -> (&'static str, &'static str) {
    match e.raw_os_error() {
        Some(libc::EMFILE) => (
            "open files per process (the tour's)",
            "ulimit -n (RLIMIT_NOFILE)",
        ),
        Some(libc::ENFILE) => ("open files on the machine", "sysctl fs.file-max"),
        Some(libc::EADDRNOTAVAIL) => (
            "ephemeral ports per destination",
            "sysctl net.ipv4.ip_local_port_range",
        ),
        Some(libc::ECONNREFUSED) | Some(libc::ETIMEDOUT) => {
            ("the server's accept backlog", "sysctl net.core.somaxconn")
        }
        // The server closed or reset: most likely its own fd limit (it inherits ours).
        _ => (
            "the server stopped answering (its open files limit?)",
            "ulimit -n (RLIMIT_NOFILE) of the server",
        ),
    }
}
