//! A tiny HTTP/1.1 test server on std threads (one per connection), with misbehaviours on
//! demand, so the load generator's counting and error classification can be checked.

#![allow(dead_code)]

use clab_http::{Limits, Parsed, parse_request};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does with each request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behavior {
    /// `200 OK`, body `Hello, World!`, keep-alive.
    Hello,
    /// Like `Hello`, but requests read between `after` and `after + length` (counted from the
    /// first request) are answered only at the end of that window: a server-wide stall.
    Stall { after: Duration, length: Duration },
    /// Read the request, then close with SO_LINGER 0 (the client sees a reset).
    Reset,
    /// Read the request, never answer.
    Silent,
    /// Read the request, close the connection cleanly without answering.
    CloseWithoutAnswer,
    /// Answer with bytes that are not HTTP.
    Garbage,
    /// Answer `Hello` with `Connection: close`, and stop listening after `accepts` connections
    /// (later connects are refused).
    RefuseAfter { accepts: usize },
    /// Answer with a close-delimited body (no length) and close, the body and the FIN in one
    /// segment (TCP_CORK), so the client sees both in one epoll event.
    CloseDelimited,
    /// Answer `Hello` (keep-alive, with a length), then close at once, the FIN in the
    /// response's segment: a server closing a keep-alive connection after a response.
    AnswerThenClose,
    /// Wait this long after accepting before reading anything (a client's large request
    /// then fills the socket buffers and waits in the client), then answer `Hello`.
    ReadLate(Duration),
}

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    /// Most requests found in one read (pipelining shows up as > 1).
    pub max_batch: AtomicUsize,
    pub connections: AtomicU64,
}

#[derive(Debug)]
pub struct TestServer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
}

impl TestServer {
    pub fn start(behavior: Behavior) -> Self {
        Self::start_on("127.0.0.1:0", behavior)
    }

    pub fn start_on(addr: &str, behavior: Behavior) -> Self {
        let listener = TcpListener::bind(addr).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let counters = Arc::new(Counters::default());
        let first_request: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
        let c = counters.clone();
        std::thread::spawn(move || {
            let mut accepted = 0usize;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                accepted += 1;
                c.connections.fetch_add(1, Ordering::Relaxed);
                let (c, first) = (c.clone(), first_request.clone());
                std::thread::spawn(move || serve(stream, behavior, &c, &first));
                if let Behavior::RefuseAfter { accepts } = behavior
                    && accepted >= accepts
                {
                    return; // drops the listener: the port now refuses connections
                }
            }
        });
        Self { addr, counters }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }
}

const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!";
const HELLO_CLOSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";

/// Write `bytes` and close with the FIN in the same segment: corked, nothing leaves until the
/// close flushes the data together with the FIN.
fn corked_then_closed(mut stream: TcpStream, bytes: &[u8]) {
    let sock = socket2::SockRef::from(&stream);
    let _ = sock.set_tcp_cork(true);
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Wait for the client's close, so ours does not turn into a reset of unread input.
    let mut sink = [0u8; 1024];
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

fn serve(
    mut stream: TcpStream,
    behavior: Behavior,
    counters: &Counters,
    first: &Mutex<Option<Instant>>,
) {
    let _ = stream.set_nodelay(true);
    let limits = Limits {
        max_body: 64 << 20,
        ..Limits::default()
    };
    if let Behavior::ReadLate(delay) = behavior {
        std::thread::sleep(delay);
    }
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let mut out = Vec::new();
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut batch = 0;
        out.clear();
        loop {
            match parse_request(&buf, &limits) {
                Ok(Parsed::Complete { consumed, .. }) => {
                    buf.drain(..consumed);
                    batch += 1;
                }
                Ok(Parsed::Partial) => break,
                Err(_) => return,
            }
        }
        if batch == 0 {
            continue;
        }
        counters.requests.fetch_add(batch as u64, Ordering::Relaxed);
        counters.max_batch.fetch_max(batch, Ordering::Relaxed);
        let now = Instant::now();
        let t0 = *first.lock().unwrap().get_or_insert(now);
        match behavior {
            Behavior::Hello => (0..batch).for_each(|_| out.extend_from_slice(HELLO)),
            Behavior::Stall { after, length } => {
                let (from, to) = (t0 + after, t0 + after + length);
                if now >= from && now < to {
                    std::thread::sleep(to - now);
                }
                (0..batch).for_each(|_| out.extend_from_slice(HELLO));
            }
            Behavior::Reset => {
                let sock = socket2::SockRef::from(&stream);
                let _ = sock.set_linger(Some(Duration::ZERO));
                return;
            }
            Behavior::Silent => continue,
            Behavior::CloseWithoutAnswer => return,
            Behavior::Garbage => out.extend_from_slice(b"SMTP ready, not HTTP at all\r\n\r\n"),
            Behavior::RefuseAfter { .. } => {
                let _ = stream.write_all(HELLO_CLOSE);
                return;
            }
            Behavior::CloseDelimited => {
                return corked_then_closed(
                    stream,
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!",
                );
            }
            Behavior::AnswerThenClose => return corked_then_closed(stream, HELLO),
            Behavior::ReadLate(_) => (0..batch).for_each(|_| out.extend_from_slice(HELLO)),
        }
        if stream.write_all(&out).is_err() {
            return;
        }
    }
}
