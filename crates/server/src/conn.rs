//! The per-connection HTTP/1.1 protocol, written once and shared by every model. Sans-IO.
//!
//! A [`Conn`] owns a read buffer, a write buffer and the connection's state, and makes
//! **every decision** about the connection: keep-alive, pipelining, how long a read may wait
//! and what its expiry means, how long a flush may take, when a drain closes an idle
//! connection and whether a close lingers. It never touches a socket. A driver (one per way of
//! moving bytes, under [`crate::drivers`]) only performs the syscalls it is told to, so every
//! model behaves the same at its edges and differs only in how it waits (hyper's `proto/h1`
//! keeps these decisions in its sans-IO `Conn` the same way). The protocol:
//!
//! 1. [`Conn::next_step`] parses the next request from the bytes already read. Pipelined
//!    requests are answered in order: the driver calls it again after every response, so a
//!    buffer holding three requests yields three [`Step::Handle`]s before any new read.
//! 2. [`Step::Handle`]: the driver runs the handler (awaits it, or `block_on`s it) and passes
//!    the response to [`Conn::respond`], which encodes it (no body for `HEAD`) and decides
//!    keep-alive: the request's wish, the response's `close`, and whether the server drains.
//! 3. [`Step::Read`]: flush [`Conn::outgoing`] first (responses to pipelined requests go out
//!    in one write; the whole flush must finish by [`Conn::write_deadline`]), then read into
//!    [`Conn::read_space`] and report it with [`Conn::did_read`] (`0` = the peer closed). If
//!    nothing arrives by `until`, call [`Conn::expire`]; `expiry` says what that will mean.
//! 4. [`Step::Close`]: flush what is left and close. With `linger: Some(d)` the driver first
//!    shuts down its write side and discards input for at most `d` (see [`Step::Close`]).
//!
//! A [`clab_http::ParseError`] is answered with its status and `Connection: close`, then the
//! connection closes (RFC 9112 §9.6 lets a server close after any response; after a framing
//! error it must, since it cannot know where the next request starts).
//!
//! No model may parse HTTP itself: every difference the experiments measure is then a
//! difference of scheduling, not of protocol handling.

use crate::ServeOptions;
use crate::buffers;
use clab_http::{
    HttpDate, Limits, Method, ParseError, Parsed, Request, Response, Version, encode_response,
    encode_response_for, parse_request,
};
use std::time::{Duration, Instant};

/// Read at least this many bytes per read call (the buffer grows when less space is left).
const MIN_READ_SPACE: usize = 4 * 1024;
/// When draining, an idle connection (between requests, or accepted just before the trigger)
/// waits at most this long for a request that may already be on its way before it is closed.
/// A closed-loop client sends its next request microseconds after reading a response, so a
/// request "in flight" at the trigger arrives well within it.
pub const DRAIN_GRACE: Duration = Duration::from_millis(200);
/// A lingering close discards input for at most this long (see [`Step::Close`]).
pub const LINGER: Duration = Duration::from_secs(2);

/// The timeouts and limits one connection enforces, copied out of [`ServeOptions`].
#[derive(Debug, Clone, Copy)]
pub struct ConnConfig {
    pub limits: Limits,
    /// From the first byte of a request until it is complete. Expiry: 408 and close.
    pub header_timeout: Duration,
    /// Between requests on a keep-alive connection. Expiry: close quietly.
    pub idle_timeout: Duration,
    /// How long one flush of responses may take (a client that stops reading). Expiry: close.
    pub write_timeout: Duration,
}

impl From<&ServeOptions> for ConnConfig {
    fn from(opts: &ServeOptions) -> Self {
        Self {
            limits: opts.limits,
            header_timeout: opts.header_timeout,
            idle_timeout: opts.idle_timeout,
            write_timeout: opts.idle_timeout,
        }
    }
}

/// How far [`Conn::others_wait`] cuts a wait for input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace {
    /// An idle keep-alive connection, from the start of its idle period. Longer than `input`:
    /// a client about to send its next request is not silent, and a close that crosses its
    /// request loses it.
    pub idle: Duration,
    /// A fresh connection that has sent nothing, from its accept; a partial request, from its
    /// last piece.
    pub input: Duration,
}

/// What the driver must do next.
#[derive(Debug)]
pub enum Step {
    /// A complete request: run the handler and pass its response to [`Conn::respond`].
    Handle(Request),
    /// Flush [`Conn::outgoing`], then read more bytes, waiting at most until `until`; if it
    /// passes with nothing read, call [`Conn::expire`].
    Read { until: Instant, expiry: Expiry },
    /// Flush [`Conn::outgoing`], then close the connection.
    ///
    /// `linger: Some(d)`: shut down the write side (FIN) and discard input until the peer
    /// closes or `d` passes, then close. Closing a socket with unread input makes the kernel
    /// send RST, and an RST makes the peer's kernel discard data it has received but the
    /// client has not read yet: responses already written would be destroyed (nginx's
    /// `lingering_close` exists for this). Every close lingers except one after the peer's
    /// own EOF, when no more input can come.
    Close { linger: Option<Duration> },
}

/// What an expired read deadline means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No request started: an idle keep-alive connection, a silent fresh one, or one the
    /// drain is closing. Close without a word.
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
    /// The last response said `Connection: close`, or the read side is done: flush and close.
    Closing,
}

/// One connection's protocol state. See the module docs for the driving protocol.
#[derive(Debug)]
pub struct Conn {
    config: ConnConfig,
    /// Input bytes; `buf[start..filled]` is read but not yet parsed. `buf.len()` is the
    /// initialised capacity. Empty (no allocation) while the connection is idle: see
    /// [`Conn::release_idle_buffers`].
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    /// Encoded responses not yet written.
    out: Vec<u8>,
    date: HttpDate,
    state: State,
    /// When the header clock of the unfinished request started: for the first request, when
    /// the connection was accepted (time a thread model's queue kept it is the client's, as
    /// in a thread-per-connection server); for later ones their first byte, or, for bytes
    /// pipelined behind an earlier request, when that request's response was written.
    request_started: Option<Instant>,
    /// When input last arrived (or a pipelined request's clock restarted): under pressure a
    /// partial request must keep coming, each piece within the grace of the last.
    last_read: Instant,
    /// When the connection last became idle (idle timeout clock); at first, when accepted.
    idle_since: Instant,
    /// When the current unwritten output was produced (write timeout clock).
    out_since: Instant,
    /// When this connection first saw the server draining.
    drain_seen: Option<Instant>,
    /// Others wait for this connection's thread: the current wait for input (idle, fresh, or
    /// in the middle of a request) is cut; see [`Conn::others_wait`].
    pressed: Option<Grace>,
    /// Requests answered so far.
    served: u64,
    /// The peer sent EOF: answer what is complete, then close without lingering.
    peer_closed: bool,
}

impl Conn {
    /// A connection accepted at `accepted` (its header clock starts there).
    pub fn new(config: ConnConfig, accepted: Instant) -> Self {
        let now = accepted;
        Self {
            config,
            buf: Vec::new(),
            start: 0,
            filled: 0,
            out: Vec::new(),
            date: HttpDate::new(),
            state: State::Reading,
            request_started: None,
            last_read: now,
            idle_since: now,
            out_since: now,
            drain_seen: None,
            pressed: None,
            served: 0,
            peer_closed: false,
        }
    }

    /// Parse what has been read and say what to do next. Call again after every
    /// [`Conn::respond`], read and expiry. `draining`: the server is shutting down gracefully.
    pub fn next_step(&mut self, draining: bool) -> Step {
        if draining && self.drain_seen.is_none() {
            self.drain_seen = Some(Instant::now());
        }
        match self.state {
            State::Closing => return self.close(),
            // A driver bug, not a client's: never parse ahead of an unanswered request.
            State::InFlight { .. } => {
                debug_assert!(false, "next_step called before respond");
                return self.close();
            }
            State::Reading => {}
        }
        if self.start < self.filled {
            match parse_request(&self.buf[self.start..self.filled], &self.config.limits) {
                Ok(Parsed::Complete { request, consumed }) => {
                    self.start += consumed;
                    self.state = State::InFlight {
                        version: request.version,
                        head_only: request.method == Method::Head,
                        keep_alive: request.keep_alive,
                    };
                    return Step::Handle(request);
                }
                Ok(Parsed::Partial) => {}
                Err(err) => return self.refuse(&err),
            }
        }
        if self.peer_closed {
            // Nothing complete is left and nothing more can come.
            self.close_after_flush();
            return self.close();
        }
        let (until, expiry) = self.read_deadline();
        Step::Read { until, expiry }
    }

    /// Encode the response to the request last handed out. `close` forces
    /// `Connection: close` (the server drains, or other clients wait for this thread).
    pub fn respond(&mut self, resp: Response, close: bool) {
        let State::InFlight {
            version,
            head_only,
            keep_alive,
        } = self.state
        else {
            debug_assert!(false, "respond without a request in flight");
            return;
        };
        let keep_alive = keep_alive && !resp.close && !close;
        self.emit(|out, date| {
            encode_response_for(&resp, version, head_only, keep_alive, date, out);
        });
        self.served += 1;
        if keep_alive {
            self.state = State::Reading;
            let now = Instant::now();
            self.idle_since = now;
            self.pressed = None;
            // Bytes pipelined behind this request start their header clock now that their
            // predecessor is answered: time the server spent handling is not the client's.
            self.request_started = (self.start < self.filled).then_some(now);
            self.last_read = now;
        } else {
            self.close_after_flush();
        }
    }

    /// Bytes to write before the next read or before closing.
    pub fn outgoing(&self) -> &[u8] {
        &self.out
    }

    /// When the flush of [`Conn::outgoing`] must be done. A driver that cannot write it all
    /// by then gives up on the connection (the client stopped reading).
    pub fn write_deadline(&self) -> Instant {
        self.out_since + self.config.write_timeout
    }

    /// The write deadline passed with output still unwritten (the client stopped reading):
    /// give up on that output and close, lingering, so the responses the client *has* been
    /// sent are not destroyed by an RST for the requests it sent but we never read.
    pub fn write_expired(&mut self) {
        self.out.clear();
        self.close_after_flush();
    }

    /// The driver wrote `n` bytes of [`Conn::outgoing`].
    pub fn wrote(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
        if self.out.is_empty() && self.request_started.is_some() && self.start < self.filled {
            // The predecessor's response is now fully written: that is when the pipelined
            // request's own time starts (a slow flush is the client's doing, but it is not
            // the *next* request's stall either).
            let now = Instant::now();
            self.request_started = Some(now);
            self.last_read = now;
        }
    }

    /// Space to read into: at least [`MIN_READ_SPACE`] bytes, growing the buffer if a large
    /// request needs it (the codec's limits bound how far a client can grow it).
    pub fn read_space(&mut self) -> &mut [u8] {
        if self.start == self.filled {
            self.start = 0;
            self.filled = 0;
        }
        if self.buf.is_empty() {
            self.buf = buffers::take();
        }
        if self.buf.len() - self.filled < MIN_READ_SPACE {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.filled, 0);
                self.filled -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.filled < MIN_READ_SPACE {
                let grown = (self.buf.len() * 2).max(buffers::SIZE);
                self.buf.resize(grown, 0);
            }
        }
        &mut self.buf[self.filled..]
    }

    /// The driver read `n` bytes into [`Conn::read_space`]; `0` means the peer closed.
    pub fn did_read(&mut self, n: usize) {
        if n == 0 {
            self.peer_closed = true;
            return;
        }
        self.filled = (self.filled + n).min(self.buf.len());
        let now = Instant::now();
        let first_bytes = self.served == 0 && self.request_started.is_none();
        // A connection's first bytes arrived when it was accepted (the thread models' listeners
        // defer the accept until they do), however long it waited for a thread before they
        // were read; later pieces arrive about when they are read.
        self.last_read = if first_bytes { self.idle_since } else { now };
        if self.request_started.is_none() {
            // The first request's clock started at accept; a later one's at its first byte.
            self.request_started = Some(if first_bytes { self.idle_since } else { now });
        }
    }

    /// Whether part of a request is buffered (a read continues it, rather than waiting for a
    /// new request on an idle connection).
    pub fn has_partial_request(&self) -> bool {
        self.start < self.filled
    }

    /// The connection is about to wait for input with nothing buffered: hand its buffers back
    /// to the thread's pool so an idle connection holds no read or write buffer (10,000 idle
    /// keep-alive connections would otherwise pin 90 MB of buffers doing nothing).
    pub fn release_idle_buffers(&mut self) {
        if self.start == self.filled && !self.buf.is_empty() {
            buffers::give(std::mem::take(&mut self.buf));
            self.start = 0;
            self.filled = 0;
        }
        if self.out.is_empty() && self.out.capacity() > 0 {
            buffers::give(std::mem::take(&mut self.out));
        }
    }

    /// The deadline of the [`Step::Read`] last returned passed with nothing read: answer 408
    /// if a request had started, then close.
    pub fn expire(&mut self) {
        if self.state == State::Reading && self.request_started.is_some() {
            let resp = Response::text(408, "request timeout\n").closing();
            self.emit(|out, date| encode_response(&resp, false, false, date, out));
        }
        self.close_after_flush();
    }

    /// Other connections wait for the thread this one holds (`sync`'s listener, the
    /// thread-pool queue): until the next response, waiting for input is cut. An idle
    /// keep-alive connection gets `grace.idle` from the start of its idle period, a fresh one
    /// that has sent nothing `grace.input` from its accept, then each is closed quietly
    /// (Apache's short `KeepAliveTimeout`); a partial request must keep arriving, each piece
    /// within `grace.input` of the last, or it is answered 408 (a slowloris client, a byte a
    /// second, is cut at once; a request that arrives whole is never cut).
    pub fn others_wait(&mut self, grace: Grace) {
        self.pressed = Some(grace);
    }

    /// Whether [`Conn::others_wait`] cut the current wait.
    pub fn pressed(&self) -> bool {
        self.pressed.is_some()
    }

    /// The server is at `--max-connections`: answer 503 with `Retry-After` and
    /// `Connection: close` before reading anything, then close (lingering).
    pub fn refuse_busy(&mut self, why: &str) {
        let resp = crate::busy::response(why).closing();
        self.emit(|out, date| encode_response(&resp, false, false, date, out));
        self.close_after_flush();
    }

    /// Requests answered on this connection so far.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// For a connection parked between reads (`drivers/parking.rs`): the deadline
    /// and meaning of the wait [`Conn::next_step`] last asked for, recomputed when the server
    /// starts draining (`draining`), without parsing the buffer again.
    pub fn waiting_until(&mut self, draining: bool) -> (Instant, Expiry) {
        if draining && self.drain_seen.is_none() {
            self.drain_seen = Some(Instant::now());
        }
        self.read_deadline()
    }

    /// How long the next read may wait, and what it means when that time passes.
    fn read_deadline(&self) -> (Instant, Expiry) {
        let (until, expiry) = match self.request_started {
            Some(started) => {
                let until = started + self.config.header_timeout;
                let until = self
                    .pressed
                    .map_or(until, |g| until.min(self.last_read + g.input));
                (until, Expiry::Header)
            }
            None => {
                // A fresh connection that sends nothing is held no longer than a slow head
                // would be (a thread model pins a worker to it meanwhile); then it is closed
                // quietly, as an idle keep-alive one is after the idle timeout.
                let (wait, cut) = if self.served == 0 {
                    (self.config.header_timeout, self.pressed.map(|g| g.input))
                } else {
                    (self.config.idle_timeout, self.pressed.map(|g| g.idle))
                };
                let wait = wait.min(cut.unwrap_or(Duration::MAX));
                (self.idle_since + wait, Expiry::Idle)
            }
        };
        match (self.drain_seen, expiry) {
            // Draining: a request already on its way gets a moment to arrive; then close.
            (Some(seen), Expiry::Idle) => (until.min(seen + DRAIN_GRACE), Expiry::Idle),
            _ => (until, expiry),
        }
    }

    /// Encode into the output buffer, starting the write clock if it was empty.
    fn emit(&mut self, encode: impl FnOnce(&mut Vec<u8>, &mut HttpDate)) {
        if self.out.is_empty() {
            self.out_since = Instant::now();
            if self.out.capacity() == 0 {
                self.out = buffers::take_empty();
            }
        }
        encode(&mut self.out, &mut self.date);
    }

    fn close(&self) -> Step {
        Step::Close {
            linger: (!self.peer_closed).then_some(LINGER),
        }
    }

    /// Answer a refused request with its status and `Connection: close`.
    fn refuse(&mut self, err: &ParseError) -> Step {
        let resp = Response::text(err.status(), format!("{err}\n")).closing();
        self.emit(|out, date| encode_response(&resp, false, false, date, out));
        self.close_after_flush();
        self.close()
    }

    fn close_after_flush(&mut self) {
        self.state = State::Closing;
        self.start = 0;
        self.filled = 0;
        self.request_started = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(header_ms: u64) -> ConnConfig {
        ConnConfig {
            limits: Limits::default(),
            header_timeout: Duration::from_millis(header_ms),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
        }
    }

    fn feed(conn: &mut Conn, bytes: &[u8]) {
        conn.read_space()[..bytes.len()].copy_from_slice(bytes);
        conn.did_read(bytes.len());
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

    #[test]
    fn pipelined_header_clock_starts_when_the_predecessor_is_answered() {
        let mut conn = Conn::new(config(50), Instant::now());
        let mut two = GET.to_vec();
        two.extend_from_slice(b"GET / HTTP/1.1\r\nHost:");
        feed(&mut conn, &two);
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        // A handler slower than the header timeout...
        std::thread::sleep(Duration::from_millis(80));
        let answered = Instant::now();
        conn.respond(Response::text(200, "ok"), false);
        // ...does not eat the pipelined request's header time.
        match conn.next_step(false) {
            Step::Read { until, expiry } => {
                assert_eq!(expiry, Expiry::Header);
                assert!(
                    until >= answered + Duration::from_millis(50),
                    "clock started early"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_close_lingers_except_after_the_peers_eof() {
        // Connection: close.
        let mut conn = Conn::new(config(1000), Instant::now());
        feed(
            &mut conn,
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), false);
        assert!(matches!(
            conn.next_step(false),
            Step::Close { linger: Some(_) }
        ));
        // Idle expiry.
        let mut conn = Conn::new(config(1000), Instant::now());
        conn.expire();
        assert!(matches!(
            conn.next_step(false),
            Step::Close { linger: Some(_) }
        ));
        // A refusal.
        let mut conn = Conn::new(config(1000), Instant::now());
        feed(&mut conn, b"\x00garbage\r\n\r\n");
        assert!(matches!(
            conn.next_step(false),
            Step::Close { linger: Some(_) }
        ));
        // The peer's EOF after a complete request: answer it, then close without lingering.
        let mut conn = Conn::new(config(1000), Instant::now());
        feed(&mut conn, GET);
        conn.did_read(0);
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), false);
        assert!(matches!(
            conn.next_step(false),
            Step::Close { linger: None }
        ));
    }

    #[test]
    fn draining_gives_an_idle_connection_a_grace_then_closes_it() {
        let mut conn = Conn::new(config(10_000), Instant::now());
        feed(&mut conn, GET);
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), false);
        let before = Instant::now();
        match conn.next_step(true) {
            Step::Read { until, expiry } => {
                assert_eq!(expiry, Expiry::Idle);
                assert!(until <= before + DRAIN_GRACE + Duration::from_millis(5));
            }
            other => panic!("{other:?}"),
        }
        // A request that arrives within the grace is answered, with Connection: close.
        feed(&mut conn, GET);
        assert!(matches!(conn.next_step(true), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), true);
        assert!(String::from_utf8_lossy(conn.outgoing()).contains("Connection: close"));
        assert!(matches!(conn.next_step(true), Step::Close { .. }));
    }

    #[test]
    fn the_first_requests_header_clock_starts_at_accept() {
        // Accepted 40 ms ago (it waited in a queue); its first byte arrives now.
        let accepted = Instant::now() - Duration::from_millis(40);
        let mut conn = Conn::new(config(100), accepted);
        feed(&mut conn, b"GET / HT");
        match conn.next_step(false) {
            Step::Read { until, expiry } => {
                assert_eq!(expiry, Expiry::Header);
                assert_eq!(until, accepted + Duration::from_millis(100));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn others_waiting_cut_every_wait_for_input() {
        let grace = Grace {
            idle: Duration::from_millis(20),
            input: Duration::from_millis(5),
        };
        let read_until = |conn: &mut Conn| match conn.next_step(false) {
            Step::Read { until, expiry } => (until, expiry),
            other => panic!("{other:?}"),
        };
        // A fresh connection that sent nothing: `grace` from its accept.
        let accepted = Instant::now() - Duration::from_millis(40);
        let mut conn = Conn::new(config(10_000), accepted);
        conn.others_wait(grace);
        assert_eq!(
            read_until(&mut conn),
            (accepted + grace.input, Expiry::Idle)
        );
        // A partial head that waited 40 ms for its thread: its first bytes came with the
        // accept, so it is cut at once...
        let mut conn = Conn::new(config(10_000), accepted);
        feed(&mut conn, b"GET / HTTP/1.1\r\nHo");
        conn.others_wait(grace);
        assert_eq!(
            read_until(&mut conn),
            (accepted + grace.input, Expiry::Header)
        );
        // ...and a piece read later gets `grace` from its read; then a 408.
        let before = Instant::now();
        feed(&mut conn, b"st: t\r\n");
        let (until, _) = read_until(&mut conn);
        assert!(
            until >= before + grace.input && until <= Instant::now() + grace.input,
            "{until:?}"
        );
        conn.expire();
        assert!(String::from_utf8_lossy(conn.outgoing()).starts_with("HTTP/1.1 408"));
        // An idle keep-alive connection: `grace` from the start of its idle period; the next
        // response ends the cut.
        let mut conn = Conn::new(config(10_000), Instant::now());
        feed(&mut conn, GET);
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), false);
        let answered = Instant::now();
        conn.others_wait(grace);
        let (until, expiry) = read_until(&mut conn);
        assert_eq!(expiry, Expiry::Idle);
        assert!(
            until <= answered + grace.idle && until + grace.input > answered + grace.idle,
            "{until:?}"
        );
        feed(&mut conn, GET);
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), false);
        assert!(!conn.pressed());
    }

    #[test]
    fn a_busy_refusal_is_a_503_with_retry_after_then_a_lingering_close() {
        let mut conn = Conn::new(config(1000), Instant::now());
        conn.refuse_busy("full");
        let out = String::from_utf8_lossy(conn.outgoing()).into_owned();
        assert!(out.starts_with("HTTP/1.1 503"), "{out}");
        assert!(
            out.contains("Retry-After: 1\r\n") && out.contains("Connection: close"),
            "{out}"
        );
        assert!(matches!(
            conn.next_step(false),
            Step::Close { linger: Some(_) }
        ));
    }

    #[test]
    fn idle_connection_holds_no_buffers() {
        let mut conn = Conn::new(config(1000), Instant::now());
        feed(&mut conn, GET);
        assert!(matches!(conn.next_step(false), Step::Handle(_)));
        conn.respond(Response::text(200, "ok"), false);
        let n = conn.outgoing().len();
        conn.wrote(n);
        conn.release_idle_buffers();
        assert_eq!((conn.buf.capacity(), conn.out.capacity()), (0, 0));
    }
}
