//! One raw exchange on a fresh connection: send bytes exactly as given, then read until the
//! server closes or a deadline passes, framing every response with `clab-http`'s client codec.
//! What the checks judge is here as data: the responses (status, `Retry-After`), how the
//! connection ended, and when.

use crate::target::Target;
use clab_http::{ParsedResponse, encode_request, parse_response, parse_response_at_eof};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One response as the checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: bool,
    /// From the end of the send to the end of this response.
    pub after: Duration,
}

/// How the connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The server closed it (EOF), after the answers.
    Closed,
    /// The server reset it (RST): closed too, but answers in flight may have been lost.
    Reset,
    /// Still open at the deadline.
    Open,
    /// The server sent bytes that are not an HTTP/1.1 response.
    Garbage(String),
}

impl End {
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed | Self::Reset)
    }
}

/// Everything one exchange observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub answers: Vec<Answer>,
    pub end: End,
    /// From the end of the send to the close (or to the deadline).
    pub ended_after: Duration,
}

impl Exchange {
    pub fn statuses(&self) -> Vec<u16> {
        self.answers.iter().map(|a| a.status).collect()
    }

    /// An exchange that got `statuses` (no `Retry-After`) and then `end`, all at once: how
    /// the checks' unit tests state what a server did.
    #[cfg(test)]
    pub fn of(statuses: &[u16], end: End) -> Self {
        Self {
            answers: statuses
                .iter()
                .map(|&status| Answer {
                    status,
                    retry_after: false,
                    after: Duration::ZERO,
                })
                .collect(),
            end,
            ended_after: Duration::ZERO,
        }
    }
}

/// A connection to `addr` with Nagle off, as every check's client wants it (a socket that
/// refuses `TCP_NODELAY` still works, only later).
pub fn connect(addr: SocketAddr, wait: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, wait)?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Connects to `addr`, writes `bytes`, and reads until EOF, reset or `wait` after the send.
/// Only the connect can fail: a send cut short by the server's close still reads what it said.
pub fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> std::io::Result<Exchange> {
    let mut stream = connect(addr, wait)?;
    // A server that refuses at the head may close before the rest arrives: keep reading.
    let _ = stream.write_all(bytes);
    Ok(read_until_close(&mut stream, Instant::now(), wait))
}

/// Reads responses from `stream` until EOF, reset or `wait` after `sent`.
pub fn read_until_close(stream: &mut TcpStream, sent: Instant, wait: Duration) -> Exchange {
    let deadline = sent + wait;
    let mut buf = Vec::with_capacity(4096);
    let mut answers = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Err(why) = take_answers(&mut buf, &mut answers, sent) {
            break End::Garbage(why);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break End::Open;
        }
        match stream.read(&mut chunk) {
            Ok(0) => break at_eof(&buf, &mut answers, sent),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break End::Open;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break End::Reset,
        }
    };
    Exchange {
        answers,
        end,
        ended_after: sent.elapsed(),
    }
}

/// Why [`ask`] got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub reason: String,
    /// The server closed or reset the connection before sending a single byte of a response: a
    /// keep-alive connection closed while idle, which a client may retry on a new connection
    /// (RFC 9112 §9.3.1). Bytes and then a close are never retryable.
    pub before_any_byte: bool,
}

impl Failed {
    /// A failure after `received` came in: retryable only if nothing did.
    fn after(reason: String, received: &[u8]) -> Self {
        Self {
            reason,
            before_any_byte: received.is_empty(),
        }
    }

    /// A failure no retry may paper over (a timeout, a bad response, a failed reconnect).
    pub fn for_good(reason: String) -> Self {
        Self {
            reason,
            before_any_byte: false,
        }
    }
}

/// Sends `bytes` on an open keep-alive `stream` and reads until one whole response is in.
pub fn ask(stream: &mut TcpStream, bytes: &[u8], wait: Duration) -> Result<Answer, Failed> {
    if let Err(e) = stream.write_all(bytes) {
        return Err(Failed::after(format!("send: {e}"), &[]));
    }
    let sent = Instant::now();
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 8192];
    loop {
        let mut answers = Vec::new();
        take_answers(&mut buf, &mut answers, sent).map_err(Failed::for_good)?;
        if let Some(a) = answers.first() {
            return Ok(*a);
        }
        let left = (sent + wait).saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Silence is not a close: nothing says the request was not taken.
            return Err(Failed::for_good(format!("no answer within {wait:?}")));
        }
        if let Err(e) = stream.set_read_timeout(Some(left)) {
            return Err(Failed::for_good(e.to_string()));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(Failed::after("closed before a whole response".into(), &buf)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Failed::after(format!("receive: {e}"), &buf)),
        }
    }
}

/// Frames every complete response at the front of `buf` (1xx interim ones are skipped).
fn take_answers(buf: &mut Vec<u8>, answers: &mut Vec<Answer>, sent: Instant) -> Result<(), String> {
    loop {
        match parse_response(buf, false).map_err(|e| format!("unparseable response: {e}"))? {
            ParsedResponse::Complete {
                status, consumed, ..
            } => {
                if status >= 200 {
                    answers.push(answer(&buf[..consumed], status, sent));
                }
                buf.drain(..consumed);
            }
            ParsedResponse::Partial => return Ok(()),
        }
    }
}

/// At EOF: a close-delimited response ends here; any other leftover is a truncated answer.
fn at_eof(buf: &[u8], answers: &mut Vec<Answer>, sent: Instant) -> End {
    if buf.is_empty() {
        return End::Closed;
    }
    match parse_response_at_eof(buf) {
        Ok(ParsedResponse::Complete { status, .. }) => {
            answers.push(answer(buf, status, sent));
            End::Closed
        }
        Ok(ParsedResponse::Partial) | Err(_) => End::Garbage(format!(
            "{} bytes that are not a whole response before the close",
            buf.len()
        )),
    }
}

fn answer(response: &[u8], status: u16, sent: Instant) -> Answer {
    Answer {
        status,
        retry_after: has_header(response, "retry-after"),
        after: sent.elapsed(),
    }
}

/// Whether the response head in `response` has a field called `name`.
fn has_header(response: &[u8], name: &str) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; clab_http::MAX_RESPONSE_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    parsed.parse(response).is_ok()
        && parsed
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
}

/// A well-formed `GET` of the target's path that asks the server to close after answering: the
/// probe every check uses to see whether the server is still serving.
pub fn closing_request(target: &Target) -> Vec<u8> {
    let mut out = Vec::new();
    let close = [("Connection", "close")];
    encode_request(
        "GET",
        &target.url.path,
        target.host_header(),
        &close,
        b"",
        &mut out,
    );
    out
}

/// The same `GET` on a connection the client means to keep.
pub fn keep_alive_request(target: &Target) -> Vec<u8> {
    let mut out = Vec::new();
    encode_request(
        "GET",
        &target.url.path,
        target.host_header(),
        &[],
        b"",
        &mut out,
    );
    out
}

/// One probe: `closing_request` on a fresh connection; its first answer, if any came within
/// `wait`.
pub fn probe(target: &Target, wait: Duration) -> Option<Answer> {
    exchange(target.addr, &closing_request(target), wait)
        .ok()?
        .answers
        .first()
        .copied()
}

/// Runs `f` over `items` on at most `threads` threads, keeping the order of the results.
pub fn parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server that reads once, then writes `reply` and closes (or holds if `hold`).
    fn serve_once(reply: &'static [u8], hold: bool) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut b = [0u8; 1024];
            let _ = s.read(&mut b);
            s.write_all(reply).unwrap();
            if hold {
                std::thread::sleep(Duration::from_secs(2));
            }
        });
        addr
    }

    #[test]
    fn two_responses_then_a_close_are_both_seen() {
        let addr = serve_once(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 503 No\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\nno",
            false,
        );
        let x = exchange(addr, b"x", Duration::from_secs(2)).unwrap();
        assert_eq!(x.statuses(), [400, 503]);
        assert_eq!(
            x.answers.iter().map(|a| a.retry_after).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(x.end, End::Closed);
    }

    #[test]
    fn an_open_connection_is_reported_at_the_deadline() {
        let addr = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true);
        let x = exchange(addr, b"x", Duration::from_millis(300)).unwrap();
        assert_eq!((x.statuses(), x.end), (vec![200], End::Open));
        assert!(x.ended_after >= Duration::from_millis(300));
    }

    #[test]
    fn garbage_and_close_delimited_bodies() {
        let addr = serve_once(b"HTTP/1.1 200 OK\r\n\r\nbody until close", false);
        let x = exchange(addr, b"x", Duration::from_secs(2)).unwrap();
        assert_eq!((x.statuses(), x.end), (vec![200], End::Closed));
        let addr = serve_once(b"SSH-2.0-nope\r\n\r\n", false);
        let x = exchange(addr, b"x", Duration::from_secs(2)).unwrap();
        assert!(matches!(x.end, End::Garbage(_)), "{x:?}");
    }

    #[test]
    fn parallel_keeps_order() {
        let items: Vec<u32> = (0..50).collect();
        assert_eq!(
            parallel(&items, 7, |i| i * 2),
            (0..50).map(|i| i * 2).collect::<Vec<_>>()
        );
        assert!(parallel(&[] as &[u32], 4, |i| *i).is_empty());
    }
}
