//! [`Busy`]: the acceptor's own answer when a model has no room for another connection
//! (`thread-pool`'s queue is full, `thread-per-request` is at `--max-threads`).
//!
//! The request is never parsed (the connection never reaches a `Conn`); the response is
//! encoded by the shared codec so it carries the same `Date`/`Server` headers as every other
//! response. It must be quick: the acceptor does it inline, and every client behind in the
//! backlog waits meanwhile.

use clab_http::{HttpDate, Response, encode_response};
use std::io::{Read, Write};
use std::net::TcpStream;

/// Reused across refusals by one acceptor (one `Date` cache, one buffer).
#[derive(Debug, Default)]
pub(crate) struct Busy {
    date: HttpDate,
    out: Vec<u8>,
}

impl Busy {
    /// Answer 503 + `Retry-After: 1` + `Connection: close`, saying `why`. Request bytes that
    /// already arrived are read and discarded first: closing a socket with unread input
    /// makes the kernel send RST, which can destroy the 503 before the client reads it.
    pub(crate) fn refuse(&mut self, mut stream: TcpStream, why: &str) {
        let resp = Response::text(503, format!("server busy: {why}\n"))
            .with_header("Retry-After", "1")
            .closing();
        self.out.clear();
        encode_response(&resp, false, false, &mut self.date, &mut self.out);
        let _ = stream.set_nonblocking(true);
        discard_input(&mut stream);
        let _ = stream.write_all(&self.out);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        discard_input(&mut stream);
    }
}

/// Read and drop whatever input is already buffered, without waiting.
fn discard_input(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}
