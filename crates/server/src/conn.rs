//! The per-connection HTTP/1.1 protocol, written once and shared by every model. Sans-IO.
//!
//! A [`Conn`] owns a read buffer, a write buffer and the connection's state. It never touches
//! a socket: a model (through one of the small drivers, [`crate::blocking_conn`] or
//! [`crate::async_conn`]) moves bytes in and out and decides *how to wait*. The protocol is:
//!
//! 1. [`Conn::next_step`] parses the next request from the bytes already read. Pipelined
//!    requests are answered in order: the driver calls it again after every response, so a
//!    buffer holding three requests yields three [`Step::Handle`]s before any new read.
//! 2. [`Step::Handle`]: the driver runs the handler (awaits it, or `block_on`s it) and passes
//!    the response to [`Conn::respond`], which encodes it (no body for `HEAD`) and decides
//!    keep-alive: the request's wish, the response's `close`, and whether the server drains.
//! 3. [`Step::Read`]: flush [`Conn::outgoing`] first (responses to pipelined requests go out
//!    in one write), then read more bytes into [`Conn::read_space`] and report them with
//!    [`Conn::did_read`]. [`Conn::read_deadline`] says how long to wait and what expiry means.
//! 4. [`Step::Close`]: flush what is left and close. A [`clab_http::ParseError`] is answered
//!    with its status and `Connection: close`, then the connection closes (RFC 9112 §9.6 lets
//!    a server close after any response; after a framing error it must, since it cannot know
//!    where the next request starts).
//!
//! No model may parse HTTP itself: every difference the experiments measure is then a
//! difference of scheduling, not of protocol handling.

use crate::ServeOptions;
use clab_http::{
    HttpDate, Limits, Method, ParseError, Parsed, Request, Response, Version, encode_response,
    encode_response_for, parse_request,
};
use std::time::{Duration, Instant};

/// Read at least this many bytes per read call (the buffer grows when less space is left).
const MIN_READ_SPACE: usize = 4 * 1024;
/// Initial read buffer: a typical request head fits several times over.
const INITIAL_BUFFER: usize = 8 * 1024;
/// When draining, a fresh connection (accepted just before the trigger) waits at most this
/// long for its first request before it is closed.
pub const DRAIN_GRACE: Duration = Duration::from_millis(200);
/// A lingering close discards input for at most this long (see [`Conn::should_linger`]).
pub const LINGER: Duration = Duration::from_secs(2);

/// The timeouts and limits one connection enforces, copied out of [`ServeOptions`].
#[derive(Debug, Clone, Copy)]
pub struct ConnConfig {
    pub limits: Limits,
    /// From the first byte of a request until it is complete. Expiry: 408 and close.
    pub header_timeout: Duration,
    /// Between requests on a keep-alive connection. Expiry: close quietly.
    pub idle_timeout: Duration,
}

impl From<&ServeOptions> for ConnConfig {
    fn from(opts: &ServeOptions) -> Self {
        Self {
            limits: opts.limits,
            header_timeout: opts.header_timeout,
            idle_timeout: opts.idle_timeout,
        }
    }
}

/// What the driver must do next.
#[derive(Debug)]
pub enum Step {
    /// A complete request: run the handler and pass its response to [`Conn::respond`].
    Handle(Request),
    /// Flush [`Conn::outgoing`], then read more bytes (waiting at most until
    /// [`Conn::read_deadline`]).
    Read,
    /// Flush [`Conn::outgoing`], then close the connection.
    Close,
}

/// What an expired read deadline means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No request started: an idle keep-alive connection. Close without a word.
    Idle,
    /// Part of a request arrived and then stalled: answer 408 and close.
    Header,
}

/// Where the connection is in its request/response cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between requests, or reading one.
    Reading,
    /// A request was handed out; waiting for [`Conn::respond`].
    InFlight {
        version: Version,
        head_only: bool,
        keep_alive: bool,
    },
    /// The last response said `Connection: close`: flush and close.
    Closing,
}

/// One connection's protocol state. See the module docs for the driving protocol.
#[derive(Debug)]
pub struct Conn {
    config: ConnConfig,
    /// Input bytes; `buf[start..filled]` is read but not yet parsed. `buf.len()` is the
    /// initialised capacity (zeroed once when grown, never per read).
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    /// Encoded responses not yet written.
    out: Vec<u8>,
    date: HttpDate,
    state: State,
    /// When the first byte of the unfinished request arrived (header timeout clock).
    request_started: Option<Instant>,
    /// When the connection last became idle (idle timeout clock).
    idle_since: Instant,
    /// Requests answered so far.
    served: u64,
    /// Closing after refusing a request: unread input may follow (see [`Conn::should_linger`]).
    linger: bool,
}

impl Conn {
    pub fn new(config: ConnConfig) -> Self {
        Self {
            config,
            buf: Vec::new(),
            start: 0,
            filled: 0,
            out: Vec::with_capacity(1024),
            date: HttpDate::new(),
            state: State::Reading,
            request_started: None,
            idle_since: Instant::now(),
            served: 0,
            linger: false,
        }
    }

    /// Parse what has been read and say what to do next. Call again after every
    /// [`Conn::respond`] and every read.
    pub fn next_step(&mut self) -> Step {
        match self.state {
            State::Closing => return Step::Close,
            // A driver bug, not a client's: never parse ahead of an unanswered request.
            State::InFlight { .. } => {
                debug_assert!(false, "next_step called before respond");
                return Step::Close;
            }
            State::Reading => {}
        }
        if self.start == self.filled {
            return Step::Read;
        }
        match parse_request(&self.buf[self.start..self.filled], &self.config.limits) {
            Ok(Parsed::Complete { request, consumed }) => {
                self.start += consumed;
                // Pipelined bytes already here start the next request's header clock now.
                self.request_started = (self.start < self.filled).then(Instant::now);
                self.state = State::InFlight {
                    version: request.version,
                    head_only: request.method == Method::Head,
                    keep_alive: request.keep_alive,
                };
                Step::Handle(request)
            }
            Ok(Parsed::Partial) => Step::Read,
            Err(err) => self.refuse(&err),
        }
    }

    /// Encode the response to the request last handed out. `draining` forces
    /// `Connection: close` (the server is shutting down gracefully).
    pub fn respond(&mut self, resp: Response, draining: bool) {
        let State::InFlight {
            version,
            head_only,
            keep_alive,
        } = self.state
        else {
            debug_assert!(false, "respond without a request in flight");
            return;
        };
        let keep_alive = keep_alive && !resp.close && !draining;
        encode_response_for(
            &resp,
            version,
            head_only,
            keep_alive,
            &mut self.date,
            &mut self.out,
        );
        self.served += 1;
        if keep_alive {
            self.state = State::Reading;
            self.idle_since = Instant::now();
        } else {
            self.close_after_flush();
        }
    }

    /// Bytes to write before the next read or before closing.
    pub fn outgoing(&self) -> &[u8] {
        &self.out
    }

    /// The driver wrote `n` bytes of [`Conn::outgoing`].
    pub fn wrote(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// Space to read into: at least [`MIN_READ_SPACE`] bytes, growing the buffer if a large
    /// request needs it (the codec's limits bound how far a client can grow it).
    pub fn read_space(&mut self) -> &mut [u8] {
        if self.start == self.filled {
            self.start = 0;
            self.filled = 0;
        }
        if self.buf.len() - self.filled < MIN_READ_SPACE {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.filled, 0);
                self.filled -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.filled < MIN_READ_SPACE {
                let grown = (self.buf.len() * 2).max(INITIAL_BUFFER);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.filled..]
    }

    /// The driver read `n > 0` bytes into [`Conn::read_space`].
    pub fn did_read(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.buf.len());
        if n > 0 && self.request_started.is_none() {
            self.request_started = Some(Instant::now());
        }
    }

    /// How long the next read may wait, and what it means when that time passes.
    pub fn read_deadline(&self) -> (Instant, Expiry) {
        match self.request_started {
            Some(started) => (started + self.config.header_timeout, Expiry::Header),
            // A fresh connection that sends nothing is held no longer than a slow head would
            // be (a thread model pins a worker to it meanwhile); then it is closed quietly.
            None if self.served == 0 => {
                (self.idle_since + self.config.header_timeout, Expiry::Idle)
            }
            None => (self.idle_since + self.config.idle_timeout, Expiry::Idle),
        }
    }

    /// The read deadline passed: answer 408 if a request had started, then close.
    pub fn expire(&mut self) {
        if self.state == State::Reading && self.request_started.is_some() {
            let resp = Response::text(408, "request timeout\n").closing();
            encode_response(&resp, false, false, &mut self.date, &mut self.out);
            self.linger = true;
        }
        self.close_after_flush();
    }

    /// Nothing read, nothing in flight, nothing to write: safe to close when draining.
    pub fn is_idle(&self) -> bool {
        self.state == State::Reading && self.start == self.filled && self.out.is_empty()
    }

    /// Whether to close "lingering": after a refused request the client may still be sending
    /// (a body over the limit, the rest of a huge head). Closing a socket with unread input
    /// makes the kernel send RST, which can destroy the error response before the client
    /// reads it; so the driver shuts down its write side and discards input for a moment
    /// (as nginx's `lingering_close` does) before closing.
    pub fn should_linger(&self) -> bool {
        self.linger
    }

    /// Requests answered on this connection so far.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Answer a refused request with its status and `Connection: close`.
    fn refuse(&mut self, err: &ParseError) -> Step {
        let resp = Response::text(err.status(), format!("{err}\n")).closing();
        encode_response(&resp, false, false, &mut self.date, &mut self.out);
        self.linger = true;
        self.close_after_flush();
        Step::Close
    }

    fn close_after_flush(&mut self) {
        self.state = State::Closing;
        self.start = 0;
        self.filled = 0;
        self.request_started = None;
    }
}
