//! A worker: one OS thread running one epoll loop (mio) over its share of the connections.
//!
//! Per request the hot path is: copy (or render) the request into the connection's write
//! buffer, one `write`, later one `read`, frame the response with `clab_http::parse_response`
//! and record two histogram values. No allocation, no locks, no cross-thread traffic; each
//! worker's [`Recorder`] is merged once at the end.
//!
//! The loop, in steps:
//! 1. Start a non-blocking connect for every connection (all at once: 10,000 connects overlap).
//! 2. Wait in `epoll_wait` until a socket is ready, the next open-loop send is due, the next
//!    housekeeping tick, or the end of the run.
//! 3. For each ready socket: finish a connect, or read and frame responses, record them, and
//!    queue the next requests (closed loop: one per response; open loop: those whose intended
//!    time has come), then write.
//! 4. Open loop: send for every connection whose intended time has come (a timer heap).
//! 5. Housekeeping tick: fail requests older than `--timeout`, retry failed connects,
//!    publish progress counters.
//! 6. Stop at the deadline, when the request budget is spent and nothing is in flight, or
//!    when the driver's stop flag is set (Ctrl-C).

use crate::LoadError;
use crate::config::Config;
use crate::conn::{Conn, InFlight, State};
use crate::limits::{is_loopback_v4, spread_source};
use crate::rng::FastRng;
use crate::schedule::{Mode, Pacer};
use crate::stats::{ErrorKind, Recorder};
use crate::timer::PreciseTimer;
use clab_http::{ParsedResponse, parse_response, parse_response_at_eof};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, Socket, Type};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// After a failed connect, wait this long before trying again (a refused port would
/// otherwise be hammered in a tight loop).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// The token of the open-loop timer (connections use their slot index).
const TIMER: Token = Token(usize::MAX);

/// Counters a worker publishes for the progress line (one cache line per worker).
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct Progress {
    pub responses: AtomicU64,
    pub errors: AtomicU64,
    /// p99 of the last complete second, µs.
    pub p99_us: AtomicU64,
    pub open_connections: AtomicU64,
}

/// Things a worker ran into that the report should explain.
#[derive(Debug, Default, Clone, Copy)]
pub struct Flags {
    pub addr_not_available: bool,
    pub too_many_files: bool,
    pub connect_timed_out: bool,
    pub switched_to_spread: bool,
}

/// What a worker hands back.
#[derive(Debug)]
pub struct WorkerResult {
    pub recorder: Recorder,
    pub flags: Flags,
    /// When all of this worker's connections were first open at the same time.
    pub all_open_at: Option<Instant>,
    /// Most connections open at the same time.
    pub peak_open: u64,
    /// When the worker saw the stop flag, if the run was interrupted.
    pub interrupted_at: Option<Instant>,
    /// Measured requests in flight when it stopped (interrupted runs only).
    pub dropped_in_flight: u64,
    /// Setting the thread's scheduling policy failed (the driver sets the policy and this).
    pub sched_error: Option<io::Error>,
}

/// Which connections a worker owns and how many measured requests it may issue.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    pub worker: usize,
    pub first: usize,
    pub count: usize,
    pub budget: Option<u64>,
}

#[derive(Debug)]
pub struct Worker<'a> {
    cfg: &'a Config,
    poll: Poll,
    conns: Vec<Conn>,
    measure_start: Instant,
    deadline: Option<Instant>,
    /// Measured requests this worker may still issue (count stop).
    budget: Option<u64>,
    inflight_total: usize,
    open_loop: bool,
    pipeline: usize,
    /// Open loop: (next intended time, connection slot).
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    rng: FastRng,
    scratch: String,
    rec: Recorder,
    flags: Flags,
    spread: bool,
    progress: &'a Progress,
    open_connections: u64,
    peak_open: u64,
    all_open_at: Option<Instant>,
    /// Connections with requests to write once the current event batch is processed.
    to_flush: Vec<usize>,
    /// Set by the driver on Ctrl-C; checked once per loop iteration (a relaxed load).
    stop: &'a AtomicBool,
}

/// How a failed read or write on an open connection is counted: a reset, or any other close.
fn io_failure_kind(e: &io::Error) -> ErrorKind {
    if is_reset(e) {
        ErrorKind::Reset
    } else {
        ErrorKind::Closed
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

impl<'a> Worker<'a> {
    pub fn new(
        cfg: &'a Config,
        share: Share,
        start: Instant,
        progress: &'a Progress,
        stop: &'a AtomicBool,
    ) -> Result<Self, LoadError> {
        let schedule = &cfg.schedule;
        let connections = schedule.connections();
        let pipeline = schedule.pipeline.max(1);
        let conns = (share.first..share.first + share.count)
            .map(|index| {
                let pacer = match schedule.mode {
                    Mode::Open { rate, .. } => Some(Pacer::new(start, rate, connections, index)),
                    Mode::Closed { .. } => None,
                };
                Conn::new(index, pipeline, pacer, start)
            })
            .collect();
        let seed = start.elapsed().as_nanos() as u64
            ^ ((share.worker as u64 + 1) << 40)
            ^ u64::from(std::process::id());
        Ok(Self {
            cfg,
            poll: Poll::new().map_err(LoadError::io("creating an epoll instance"))?,
            conns,
            measure_start: schedule.measure_start(start),
            deadline: schedule.deadline(start),
            budget: share.budget,
            inflight_total: 0,
            open_loop: matches!(schedule.mode, Mode::Open { .. }),
            pipeline,
            timers: BinaryHeap::new(),
            rng: FastRng::new(seed),
            scratch: String::new(),
            rec: Recorder::new(schedule.measure_start(start)),
            flags: Flags::default(),
            spread: cfg.spread_sources,
            progress,
            open_connections: 0,
            peak_open: 0,
            all_open_at: None,
            to_flush: Vec::new(),
            stop,
        })
    }

    /// Runs the loop to the end of the schedule.
    pub fn run(mut self) -> Result<WorkerResult, LoadError> {
        let mut events = Events::with_capacity(1024);
        let start = Instant::now();
        for slot in 0..self.conns.len() {
            self.start_connect(slot, start);
        }
        // Housekeeping often enough for a timeout to be noticed within ~10% of itself.
        let tick =
            (self.cfg.timeout / 10).clamp(Duration::from_millis(5), Duration::from_millis(100));
        let mut next_tick = start + tick;
        let mut last_second = 0u64;
        // Open loop: a timerfd for microsecond wakeups; without one, epoll's millisecond
        // timeout still works, only less precisely.
        let mut timer = if self.open_loop {
            PreciseTimer::new(self.poll.registry(), TIMER).ok()
        } else {
            None
        };
        let mut interrupted_at = None;
        loop {
            let mut now = Instant::now();
            if self.deadline.is_some_and(|d| now >= d)
                || self.budget == Some(0) && self.inflight_total == 0
            {
                break;
            }
            if self.stop.load(Ordering::Relaxed) {
                interrupted_at = Some(now);
                break;
            }
            if now >= next_tick {
                self.housekeeping(now);
                let second = now.saturating_duration_since(self.measure_start).as_secs();
                if second != last_second && now > self.measure_start {
                    self.publish_p99(second);
                    last_second = second;
                }
                self.publish_counts();
                next_tick = now + tick;
            }
            if self.open_loop {
                self.fire_timers(now);
            }
            let mut wake = next_tick;
            if let Some(&Reverse((t, _))) = self.timers.peek() {
                match timer.as_mut() {
                    Some(timer) => timer.arm(t, now),
                    None => wake = wake.min(t),
                }
            }
            if let Some(d) = self.deadline {
                wake = wake.min(d);
            }
            let timeout = wake.saturating_duration_since(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != io::ErrorKind::Interrupted
            {
                return Err(LoadError::Io {
                    context: "waiting for sockets (epoll_wait)",
                    source: e,
                });
            }
            for event in events.iter() {
                if event.token() == TIMER {
                    if let Some(timer) = timer.as_mut() {
                        timer.fired();
                    }
                    continue;
                }
                let slot = event.token().0;
                now = Instant::now();
                match self.conns[slot].state {
                    State::Connecting => self.finish_connect(slot, now),
                    State::Open => {
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.on_readable(slot, event.is_read_closed(), now);
                        }
                        if event.is_writable() {
                            self.queue_flush(slot);
                        }
                    }
                    // A stale event for a socket that is already gone.
                    State::Idle => {}
                }
            }
            self.flush_queued(now);
        }
        if self.open_loop
            && let Some(end) = interrupted_at.or(self.deadline)
        {
            self.count_not_sent(end);
        }
        self.publish_counts();
        let dropped_in_flight = if interrupted_at.is_some() {
            self.conns
                .iter()
                .flat_map(|c| &c.inflight)
                .filter(|r| r.measured)
                .count() as u64
        } else {
            0
        };
        Ok(WorkerResult {
            recorder: self.rec,
            flags: self.flags,
            all_open_at: self.all_open_at,
            peak_open: self.peak_open,
            interrupted_at,
            dropped_in_flight,
            sched_error: None,
        })
    }

    fn start_connect(&mut self, slot: usize, now: Instant) {
        let addr = self.cfg.addr;
        let source = (self.spread && is_loopback_v4(addr.ip()))
            .then(|| spread_source(self.conns[slot].index));
        let conn = &mut self.conns[slot];
        conn.retry_at = None;
        conn.connect_started = now;
        match open_socket(addr, source) {
            Ok(mut stream) => {
                let interest = Interest::READABLE | Interest::WRITABLE;
                if let Err(e) = self
                    .poll
                    .registry()
                    .register(&mut stream, Token(slot), interest)
                {
                    self.connect_failed(slot, &e, now);
                    return;
                }
                conn.stream = Some(stream);
                conn.state = State::Connecting;
                conn.write_interest = true;
            }
            Err(e) => self.connect_failed(slot, &e, now),
        }
    }

    fn finish_connect(&mut self, slot: usize, now: Instant) {
        let Some(stream) = self.conns[slot].stream.as_ref() else {
            return;
        };
        match stream.take_error() {
            Ok(Some(e)) | Err(e) => return self.connect_failed(slot, &e, now),
            Ok(None) => {}
        }
        match stream.peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return, // not yet
            Err(e) => return self.connect_failed(slot, &e, now),
        }
        if let Err(e) = self.set_write_interest(slot, false) {
            return self.connect_failed(slot, &e, now);
        }
        self.conns[slot].state = State::Open;
        self.rec.connects += 1;
        self.open_connections += 1;
        self.peak_open = self.peak_open.max(self.open_connections);
        if self.all_open_at.is_none() && self.open_connections == self.conns.len() as u64 {
            self.all_open_at = Some(now);
        }
        self.fill(slot, now);
        self.queue_flush(slot);
    }

    /// Defers a connection's write to the end of the event batch: the server then receives
    /// the batch's requests in one burst instead of being woken once per response we read
    /// (on shared cores that halves the context switches, as wrk's write-on-next-iteration does).
    fn queue_flush(&mut self, slot: usize) {
        let conn = &mut self.conns[slot];
        if !conn.flush_queued && conn.wpos < conn.wbuf.len() {
            conn.flush_queued = true;
            self.to_flush.push(slot);
        }
    }

    fn flush_queued(&mut self, now: Instant) {
        while let Some(slot) = self.to_flush.pop() {
            self.conns[slot].flush_queued = false;
            if self.conns[slot].state == State::Open {
                self.flush(slot, now);
            }
        }
    }

    fn connect_failed(&mut self, slot: usize, e: &io::Error, now: Instant) {
        match e.raw_os_error() {
            Some(libc::EADDRNOTAVAIL) => {
                self.flags.addr_not_available = true;
                if !self.spread && is_loopback_v4(self.cfg.addr.ip()) {
                    self.spread = true;
                    self.flags.switched_to_spread = true;
                }
            }
            Some(libc::EMFILE | libc::ENFILE) => self.flags.too_many_files = true,
            Some(libc::ETIMEDOUT) => self.flags.connect_timed_out = true,
            _ => {}
        }
        if now >= self.measure_start {
            self.rec.error(ErrorKind::Connect, now);
            // A count stop must end even if the server is gone: a failed connect uses up one
            // request of the budget.
            if let Some(b) = self.budget.as_mut() {
                *b = b.saturating_sub(1);
            }
        }
        let conn = &mut self.conns[slot];
        conn.reset_io();
        conn.retry_at = Some(now + RETRY_DELAY);
    }

    /// The connection is unusable: fail what is in flight with `kind`, then reconnect.
    fn conn_failed(&mut self, slot: usize, kind: ErrorKind, now: Instant) {
        let conn = &mut self.conns[slot];
        for req in conn.inflight.drain(..) {
            self.inflight_total -= 1;
            if req.measured {
                self.rec.error(kind, now);
            }
        }
        conn.reset_io();
        self.open_connections = self.open_connections.saturating_sub(1);
        self.start_connect(slot, now);
    }

    /// Whether a request intended (or, closed loop, sent) at `at` may be issued, and takes it
    /// from the budget if it is measured.
    fn take_ticket(&mut self, at: Instant) -> Option<bool> {
        if self.deadline.is_some_and(|d| at >= d) {
            return None;
        }
        let measured = at >= self.measure_start;
        if measured && let Some(b) = self.budget.as_mut() {
            if *b == 0 {
                return None;
            }
            *b -= 1;
        }
        Some(measured)
    }

    /// Queues as many requests as the schedule allows on an open connection.
    fn fill(&mut self, slot: usize, now: Instant) {
        while self.conns[slot].inflight.len() < self.pipeline {
            let intended = if self.open_loop {
                let conn = &mut self.conns[slot];
                let Some(pacer) = conn.pacer.as_mut() else {
                    break;
                };
                if pacer.next_intended() > now {
                    break;
                }
                let t = pacer.next_intended();
                // Peek first so a refused ticket (budget spent) does not consume the slot.
                match self.take_ticket(t) {
                    Some(measured) => {
                        if let Some(p) = self.conns[slot].pacer.as_mut() {
                            p.take_due(now);
                        }
                        Some((t, measured))
                    }
                    None => break,
                }
            } else {
                match self.take_ticket(now) {
                    Some(measured) => Some((now, measured)),
                    None => break,
                }
            };
            let Some((at, measured)) = intended else {
                break;
            };
            let conn = &mut self.conns[slot];
            let head_only =
                self.cfg
                    .mix
                    .write_next(&mut self.rng, &mut self.scratch, &mut conn.wbuf);
            conn.inflight.push_back(InFlight {
                intended: self.open_loop.then_some(at),
                sent: now,
                wend: conn.wbuf.len(),
                measured,
                head_only,
            });
            conn.unsent += 1;
            self.inflight_total += 1;
        }
        if self.open_loop {
            let conn = &mut self.conns[slot];
            if !conn.scheduled
                && conn.inflight.len() < self.pipeline
                && let Some(p) = &conn.pacer
            {
                let next = p.next_intended();
                // Only while there is something left to send: a timer for a refused
                // send would fire again at once, forever.
                let ended = self.deadline.is_some_and(|d| next >= d)
                    || (next >= self.measure_start && self.budget == Some(0));
                if !ended {
                    self.timers.push(Reverse((next, slot)));
                    conn.scheduled = true;
                }
            }
        }
    }

    /// Open loop, at the end: every measured request whose intended time came before `end`
    /// but which its connection never got to send (see [`Recorder::not_sent`]).
    fn count_not_sent(&mut self, end: Instant) {
        for conn in &mut self.conns {
            let Some(pacer) = conn.pacer.as_mut() else {
                continue;
            };
            while let Some(intended) = pacer.take_due(end) {
                if intended >= end {
                    break;
                }
                if intended >= self.measure_start {
                    self.rec.not_sent(intended, end);
                }
            }
        }
    }

    fn fire_timers(&mut self, now: Instant) {
        while let Some(&Reverse((t, slot))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            self.conns[slot].scheduled = false;
            if self.conns[slot].state == State::Open {
                self.fill(slot, now);
                self.flush(slot, now);
            }
        }
    }

    fn flush(&mut self, slot: usize, now: Instant) {
        let conn = &mut self.conns[slot];
        let Some(stream) = conn.stream.as_mut() else {
            return;
        };
        while conn.wpos < conn.wbuf.len() {
            match stream.write(&conn.wbuf[conn.wpos..]) {
                Ok(0) => return self.conn_failed(slot, ErrorKind::Closed, now),
                Ok(n) => {
                    conn.wpos += n;
                    Conn::stamp_sent(&mut conn.inflight, &mut conn.unsent, conn.wpos);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Send buffer full: ask to be told when it drains.
                    if let Err(e) = self.set_write_interest(slot, true) {
                        self.conn_failed(slot, io_failure_kind(&e), now);
                    }
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.conn_failed(slot, io_failure_kind(&e), now),
            }
        }
        conn.wbuf.clear();
        conn.wpos = 0;
        if let Err(e) = self.set_write_interest(slot, false) {
            self.conn_failed(slot, io_failure_kind(&e), now);
        }
    }

    /// Register for writable events only when needed (see [`Conn::write_interest`]).
    fn set_write_interest(&mut self, slot: usize, want: bool) -> io::Result<()> {
        let conn = &mut self.conns[slot];
        if conn.write_interest == want {
            return Ok(());
        }
        let Some(stream) = conn.stream.as_mut() else {
            return Ok(());
        };
        let interest = if want {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        self.poll
            .registry()
            .reregister(stream, Token(slot), interest)?;
        conn.write_interest = want;
        Ok(())
    }

    /// Reads until `WouldBlock` (or, see below, a short read) and frames what came.
    /// `peer_closed`: the event also reported the peer's FIN.
    fn on_readable(&mut self, slot: usize, peer_closed: bool, now: Instant) {
        loop {
            let conn = &mut self.conns[slot];
            if conn.stream.is_none() {
                return;
            }
            conn.reserve_read();
            let Some(stream) = conn.stream.as_mut() else {
                return;
            };
            match stream.read(&mut conn.rbuf[conn.rend..]) {
                Ok(0) => return self.on_eof(slot, now),
                Ok(n) => {
                    conn.rend += n;
                    let short = conn.rend < conn.rbuf.len();
                    if !self.frame_responses(slot, now) {
                        return;
                    }
                    // Edge-triggered epoll raises a new event for data arriving after a short
                    // read, so stopping here saves the read that would only say EAGAIN. Not
                    // when the FIN came with this event: no new event will say so, and only
                    // the read of 0 that follows does (a close-delimited body ends there; a
                    // keep-alive connection the server closed must not take a request).
                    if short && !peer_closed {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.conn_failed(slot, io_failure_kind(&e), now),
            }
        }
        self.fill(slot, now);
        self.queue_flush(slot);
    }

    /// Frames and records every complete response in the buffer. Returns false when the
    /// connection was closed on the way (a `Connection: close` response, a bad response).
    fn frame_responses(&mut self, slot: usize, now: Instant) -> bool {
        loop {
            let conn = &mut self.conns[slot];
            if conn.rstart == conn.rend {
                return true;
            }
            let Some(&front) = conn.inflight.front() else {
                // Bytes nobody asked for.
                if now >= self.measure_start {
                    self.rec.error(ErrorKind::BadResponse, now);
                }
                self.conn_failed(slot, ErrorKind::BadResponse, now);
                return false;
            };
            match parse_response(&conn.rbuf[conn.rstart..conn.rend], front.head_only) {
                Ok(ParsedResponse::Complete {
                    status,
                    consumed,
                    body_len,
                    close,
                    ..
                }) => {
                    conn.rstart += consumed;
                    if (100..200).contains(&status) {
                        continue; // interim response: the real one follows
                    }
                    self.complete(slot, status, body_len, now);
                    if close {
                        // Anything pipelined behind it is lost with the connection.
                        self.conn_failed(slot, ErrorKind::Closed, now);
                        return false;
                    }
                }
                Ok(ParsedResponse::Partial) => return true,
                Err(_) => {
                    self.conn_failed(slot, ErrorKind::BadResponse, now);
                    return false;
                }
            }
        }
    }

    fn complete(&mut self, slot: usize, status: u16, body_len: usize, now: Instant) {
        if let Some(req) = self.conns[slot].inflight.pop_front() {
            self.inflight_total -= 1;
            if req.measured {
                self.rec
                    .response(status, body_len as u64, req.intended, req.sent, now);
            }
        }
    }

    fn on_eof(&mut self, slot: usize, now: Instant) {
        let conn = &self.conns[slot];
        // A close-delimited body ends here.
        if !conn.inflight.is_empty()
            && conn.rstart < conn.rend
            && let Ok(ParsedResponse::Complete {
                status, body_len, ..
            }) = parse_response_at_eof(&conn.rbuf[conn.rstart..conn.rend])
        {
            self.complete(slot, status, body_len, now);
        }
        self.conn_failed(slot, ErrorKind::Closed, now);
    }

    fn housekeeping(&mut self, now: Instant) {
        let timeout = self.cfg.timeout;
        for slot in 0..self.conns.len() {
            let conn = &self.conns[slot];
            match conn.state {
                State::Connecting
                    if now.saturating_duration_since(conn.connect_started) > timeout =>
                {
                    self.flags.connect_timed_out = true;
                    self.connect_failed(slot, &io::Error::from(io::ErrorKind::TimedOut), now);
                }
                State::Open
                    if conn
                        .inflight
                        .front()
                        .is_some_and(|r| now.saturating_duration_since(r.sent) > timeout) =>
                {
                    self.conn_failed(slot, ErrorKind::Timeout, now);
                }
                State::Idle if conn.retry_at.is_some_and(|t| t <= now) => {
                    self.start_connect(slot, now)
                }
                _ => {}
            }
        }
    }

    fn publish_counts(&self) {
        self.progress
            .responses
            .store(self.rec.responses, Ordering::Relaxed);
        self.progress
            .errors
            .store(self.rec.errors.total(), Ordering::Relaxed);
        self.progress
            .open_connections
            .store(self.open_connections, Ordering::Relaxed);
    }

    fn publish_p99(&self, second: u64) {
        let previous = second.saturating_sub(1) as usize;
        if let Some(p99) = self
            .rec
            .timeline
            .get(previous)
            .and_then(|s| s.latency.quantile(0.99))
        {
            self.progress.p99_us.store(p99, Ordering::Relaxed);
        }
    }
}

/// A non-blocking TCP socket with TCP_NODELAY, optionally bound to a source address, with its
/// connect started.
fn open_socket(addr: SocketAddr, source: Option<std::net::IpAddr>) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    socket.set_tcp_nodelay(true)?;
    if let Some(ip) = source {
        // Let connect() pick the port per 4-tuple instead of bind() reserving one per address.
        let one: libc::c_int = 1;
        // SAFETY: a valid socket fd, a valid option and a pointer to a c_int of the given size.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&socket),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        socket.bind(&SocketAddr::new(ip, 0).into())?;
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}
