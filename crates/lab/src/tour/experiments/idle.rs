//! Idle keep-alive connections for the experiments that need a server holding many (C17, C22).

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::tour::ChildServer;
use crate::tour::server::read_response;

/// `n` keep-alive connections that each sent one `GET /plaintext`, read the answer, and sit.
pub(super) fn idle_connections(server: &ChildServer, n: usize) -> Result<Vec<TcpStream>, String> {
    // Our n ends plus the load runs' and the slack: raise the soft limit to the hard one if
    // needed (the server children started after it inherit it too).
    clab_load::ensure_fd_limit(n + 1_000).map_err(|e| e.to_string())?;
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let idle = |e: String| format!("idle connection {i}: {e}");
        let mut s = TcpStream::connect(server.addr).map_err(|e| idle(e.to_string()))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| idle(e.to_string()))?;
        s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: tour\r\n\r\n")
            .map_err(|e| idle(e.to_string()))?;
        read_response(&mut s).map_err(idle)?;
        conns.push(s);
    }
    Ok(conns)
}
