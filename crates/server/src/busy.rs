//! The 503 of a server at its limits, in one place: [`response`] (with `Retry-After`), and
//! [`Busy`], the thread models' way to send it on a connection no thread will serve (the
//! thread-pool queue or `sync`'s line is full, or the connection waited past
//! `--queue-timeout`;
//! `thread-per-request` is at `--max-threads`; any of them at `--max-connections`).
//!
//! A refused connection never reaches a `Conn` on a worker; the response is encoded by the
//! shared codec so it carries the same `Date`/`Server` headers as every other response. It
//! must be quick: the acceptor does it inline, and every client behind in the backlog waits
//! meanwhile. So it is written without waiting and the lingering close (see
//! [`crate::conn::Step::Close`]) is handed to the [`Reaper`].

use crate::conn::LINGER;
use crate::drivers::reaper::Reaper;
use clab_http::{HttpDate, Response, encode_response};
use std::io::Write;
use std::net::TcpStream;

/// The seconds a refused client is asked to wait before it tries again.
pub const RETRY_AFTER_SECS: u32 = 1;

/// Why a connection or request was refused: the 503's body says it.
pub const AT_MAX_CONNECTIONS: &str = "--max-connections connections are open";
pub const AT_MAX_INFLIGHT: &str = "--max-inflight requests are in flight";
pub const QUEUE_FULL: &str = "the queue of connections waiting for a thread is full";
pub const QUEUE_TIMEOUT: &str = "waited longer than --queue-timeout for a thread";

/// 503 + `Retry-After`, saying `why`. The caller decides whether the connection closes.
pub fn response(why: &str) -> Response {
    Response::text(503, format!("server busy: {why}\n"))
        .with_header("Retry-After", RETRY_AFTER_SECS.to_string())
}

/// Reused across refusals by one thread (one `Date` cache, one buffer).
#[derive(Debug)]
pub(crate) struct Busy {
    date: HttpDate,
    out: Vec<u8>,
    reaper: Reaper,
}

impl Busy {
    pub(crate) fn new(reaper: Reaper) -> Self {
        Self {
            date: HttpDate::new(),
            out: Vec::new(),
            reaper,
        }
    }

    /// Answer 503 + `Retry-After` + `Connection: close`, saying `why`, then close with a
    /// lingering close on the reaper's thread (request bytes that arrive after the 503 are
    /// read and dropped there: closing with unread input would make the kernel send RST,
    /// which can destroy the 503 before the client reads it).
    pub(crate) fn refuse(&mut self, mut stream: TcpStream, why: &str) {
        self.out.clear();
        encode_response(
            &response(why).closing(),
            false,
            false,
            &mut self.date,
            &mut self.out,
        );
        // A fresh socket's send buffer takes a few hundred bytes at once; if it does not,
        // the client is not worth waiting for.
        if stream.set_nonblocking(true).is_err() || stream.write_all(&self.out).is_err() {
            return;
        }
        self.reaper.linger(stream, LINGER, None);
    }
}
