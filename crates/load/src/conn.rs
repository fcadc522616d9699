//! One client connection's state: its socket, buffers, the requests in flight and (open loop)
//! its pacer. The worker drives it; this file only holds state and small helpers.

use crate::schedule::Pacer;
use mio::net::TcpStream;
use std::collections::VecDeque;
use std::time::Instant;

/// Initial read buffer; grows (doubling) only for responses that do not fit.
pub const READ_BUF: usize = 8 * 1024;

/// A request that has been written (or queued for writing) and awaits its response.
#[derive(Debug, Clone, Copy)]
pub struct InFlight {
    /// Open loop: when the schedule wanted it sent.
    pub intended: Option<Instant>,
    /// When its last byte was written (until then: when it was queued).
    pub sent: Instant,
    /// Offset in the write buffer just past this request's bytes: once the writes reach it,
    /// the request has left.
    pub wend: usize,
    /// Sent after the warmup: recorded when it completes or fails.
    pub measured: bool,
    pub head_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No socket (before the first connect, or waiting to retry at `retry_at`).
    Idle,
    Connecting,
    Open,
}

#[derive(Debug)]
pub struct Conn {
    /// Index among all connections of the run (decides pacing offset and source address).
    pub index: usize,
    pub state: State,
    pub stream: Option<TcpStream>,
    pub connect_started: Instant,
    /// After a failed connect: try again at this time.
    pub retry_at: Option<Instant>,
    /// Bytes of queued requests; `wpos` of them are written.
    pub wbuf: Vec<u8>,
    pub wpos: usize,
    /// Received bytes are `rbuf[rstart..rend]`.
    pub rbuf: Vec<u8>,
    pub rstart: usize,
    pub rend: usize,
    pub inflight: VecDeque<InFlight>,
    pub pacer: Option<Pacer>,
    /// An entry for this connection is in the worker's timer heap.
    pub scheduled: bool,
    /// This connection is in the worker's list of writes to make after the event batch.
    pub flush_queued: bool,
    /// Registered for writable events: while connecting, and while a write is stuck on a full
    /// send buffer. Otherwise only readable: every ACK that frees send-buffer space would wake
    /// the worker for nothing (wrk, too, asks for writability only while it has bytes to send).
    pub write_interest: bool,
    /// The last `unsent` requests in flight are queued in `wbuf` but not yet written: their
    /// send time is stamped when the write happens.
    pub unsent: usize,
}

impl Conn {
    pub fn new(index: usize, pipeline: usize, pacer: Option<Pacer>, now: Instant) -> Self {
        Self {
            index,
            state: State::Idle,
            stream: None,
            connect_started: now,
            retry_at: None,
            wbuf: Vec::new(),
            wpos: 0,
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            inflight: VecDeque::with_capacity(pipeline),
            pacer,
            scheduled: false,
            flush_queued: false,
            write_interest: false,
            unsent: 0,
        }
    }

    /// Makes room to read at least something: compacts, or grows when the buffer is full of
    /// one incomplete response.
    /// Stamp the send time of every queued request whose last byte the writes have reached.
    /// Latency counts from there: a request that waited in this client's buffer (the kernel
    /// would not take more) is not charged to the server for that wait.
    /// (Takes the fields, not `&mut self`: the caller holds the stream borrowed.)
    pub fn stamp_sent(inflight: &mut VecDeque<InFlight>, unsent: &mut usize, wpos: usize) {
        if *unsent == 0 {
            return;
        }
        let now = Instant::now();
        let first = inflight.len() - *unsent;
        for req in inflight.range_mut(first..) {
            if req.wend > wpos {
                break;
            }
            req.sent = now;
            *unsent -= 1;
        }
    }

    pub fn reserve_read(&mut self) {
        if self.rbuf.is_empty() {
            self.rbuf = vec![0; READ_BUF];
        }
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
        if self.rend == self.rbuf.len() {
            if self.rstart > 0 {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            } else {
                let len = self.rbuf.len() * 2;
                self.rbuf.resize(len, 0);
            }
        }
    }

    /// Forgets the socket and buffered bytes (requests in flight are the caller's business).
    pub fn reset_io(&mut self) {
        self.stream = None;
        self.state = State::Idle;
        self.wbuf.clear();
        self.wpos = 0;
        self.unsent = 0;
        self.rstart = 0;
        self.rend = 0;
        // A buffer that grew for one huge response goes back to the normal size.
        if self.rbuf.len() > READ_BUF {
            self.rbuf = Vec::new();
        }
    }
}
