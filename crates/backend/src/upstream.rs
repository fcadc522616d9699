//! The external API call (the chapter's notification/email service): simulated, or a real
//! HTTP/1.1 `POST` with a JSON body, framed by `clab-http`'s client functions.
//!
//! A real call opens one connection per call and sends `Connection: close`: simple, and the
//! cost of a fresh connection is part of what an un-pooled upstream call really costs. The
//! blocking path (over std's or may's socket, see [`BlockingStream`]) and the tokio path share
//! the request bytes and the response framing below; they differ only in how they read and
//! write the socket.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clab_http::{
    ParsedResponse, encode_request, parse_response, parse_response_at_eof, response_body,
};

use crate::config::CONNECT_TIMEOUT;
use crate::runtime::AsyncRuntime;
use crate::{BackendError, NotifyReceipt};

/// Largest response accepted from the upstream (a receipt is a few hundred bytes).
const MAX_RESPONSE: usize = 1 << 20;

/// Where real upstream calls go, parsed from `--upstream-url http://host[:port][/path]`.
/// Public because [`crate::Clients::notify`] receives it; built only from a config.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstreamTarget {
    pub host: String,
    pub port: u16,
    pub path: String,
    /// `host:port` as sent in the `Host` field.
    pub authority: String,
}

impl UpstreamTarget {
    pub(crate) fn parse(url: &str) -> Result<Self, BackendError> {
        let bad = |why: &str| {
            BackendError::Config(format!(
                "upstream URL {:?}: {why} (expected http://host[:port][/path])",
                crate::config::redact_url(url)
            ))
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// is supported"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad("bad port"))?)
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            authority: authority.to_owned(),
        })
    }
}

/// A receipt for a simulated call: named as a simulation, numbered so ids are unique.
pub(crate) fn simulated_receipt() -> NotifyReceipt {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NotifyReceipt {
        id: format!("sim-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        simulated: true,
    }
}

/// The bytes of the `POST` for one notification.
pub(crate) fn request(target: &UpstreamTarget, user_id: i64, message: &str) -> Vec<u8> {
    let body = serde_json::json!({ "user_id": user_id, "message": message }).to_string();
    let mut out = Vec::with_capacity(256 + body.len());
    encode_request(
        "POST",
        &target.path,
        &target.authority,
        &[
            ("Content-Type", "application/json"),
            ("Connection", "close"),
        ],
        body.as_bytes(),
        &mut out,
    );
    out
}

pub(crate) fn unavailable(msg: impl std::fmt::Display) -> BackendError {
    BackendError::Unavailable("upstream", msg.to_string())
}

/// Frame what has been read so far. `Ok(None)`: read more. 1xx interim responses are dropped
/// from the front of `buf`. A 2xx gives a receipt (the body's `"id"` if it has one); anything
/// else is `Unavailable`.
pub(crate) fn framed(buf: &mut Vec<u8>, eof: bool) -> Result<Option<NotifyReceipt>, BackendError> {
    loop {
        let parsed = if eof {
            parse_response_at_eof(buf)
        } else {
            parse_response(buf, false)
        };
        let parsed = parsed.map_err(|e| unavailable(format!("bad response: {e}")))?;
        match parsed {
            ParsedResponse::Partial if buf.len() > MAX_RESPONSE => {
                return Err(unavailable("response over 1 MiB"));
            }
            ParsedResponse::Partial => return Ok(None),
            ParsedResponse::Complete {
                status, consumed, ..
            } if status < 200 => {
                buf.drain(..consumed);
            }
            ParsedResponse::Complete { status, .. } => {
                if !(200..300).contains(&status) {
                    return Err(unavailable(format!("answered {status}")));
                }
                let body = response_body(buf, &parsed)
                    .map_err(|e| unavailable(format!("bad response body: {e}")))?;
                return Ok(Some(NotifyReceipt {
                    id: receipt_id(&body, status),
                    simulated: false,
                }));
            }
        }
    }
}

/// The receipt id: the JSON body's `"id"` (string or number) if it has one, else
/// `http-<status>`.
fn receipt_id(body: &[u8], status: u16) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| match v.get("id")? {
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .unwrap_or_else(|| format!("http-{status}"))
}

/// A blocking TCP stream the upstream exchange can run over: std's (blocks the OS thread) or
/// may's (parks only the coroutine). The exchange itself is written once, in [`post_blocking`].
pub trait BlockingStream: Read + Write + Sized {
    fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self>;
    fn set_io_timeouts(&self, timeout: Duration) -> io::Result<()>;
}

impl BlockingStream for std::net::TcpStream {
    fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self> {
        Self::connect_timeout(addr, timeout)
    }

    fn set_io_timeouts(&self, timeout: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(timeout))?;
        self.set_write_timeout(Some(timeout))
    }
}

#[cfg(feature = "coroutines")]
impl BlockingStream for may::net::TcpStream {
    fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<Self> {
        Self::connect_timeout(addr, timeout)
    }

    fn set_io_timeouts(&self, timeout: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(timeout))?;
        self.set_write_timeout(Some(timeout))
    }
}

/// The blocking call over stream type `S`: the exchange, once connected, under one deadline of
/// `io_timeout` (as the async call's), each read and write given what is left of it, so an
/// upstream that trickles its answer cannot stretch the call past the deadline.
///
/// Name resolution is std's `getaddrinfo`, which blocks the calling thread even under may; an
/// IP literal (what the experiments use) resolves without a lookup.
pub(crate) fn post_blocking<S: BlockingStream>(
    target: &UpstreamTarget,
    user_id: i64,
    message: &str,
    io_timeout: Duration,
) -> Result<NotifyReceipt, BackendError> {
    let addr = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| unavailable(format!("resolve {}: {e}", target.authority)))?
        .next()
        .ok_or_else(|| unavailable(format!("{} has no address", target.authority)))?;
    let mut stream = S::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| unavailable(format!("connect {}: {e}", target.authority)))?;
    let deadline = Instant::now() + io_timeout;
    let no_answer = || crate::error::no_answer("upstream", &target.authority, io_timeout);
    // A socket timeout is the deadline passing (EAGAIN from SO_RCVTIMEO, not a fault of the
    // upstream's own): say so, as the async call does, rather than "resource temporarily
    // unavailable".
    let io = |e: io::Error| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => no_answer(),
        _ => unavailable(format!("{}: {e}", target.authority)),
    };
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(no_answer)
    };
    stream.set_io_timeouts(left()?).map_err(io)?;
    stream
        .write_all(&request(target, user_id, message))
        .map_err(io)?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        stream.set_io_timeouts(left()?).map_err(io)?;
        let n = stream.read(&mut chunk).map_err(io)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(receipt) = framed(&mut buf, n == 0)? {
            return Ok(receipt);
        }
    }
}

/// The async call on runtime `R` (tokio or the event loop): `R`'s stream, the same request and
/// framing, the whole exchange under the connect and IO timeouts.
pub(crate) async fn post_async<R: AsyncRuntime>(
    target: &UpstreamTarget,
    user_id: i64,
    message: &str,
    io_timeout: Duration,
) -> Result<NotifyReceipt, BackendError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let connect = R::connect(&target.host, target.port);
    let mut stream = R::timeout(CONNECT_TIMEOUT, connect)
        .await
        .ok_or_else(|| unavailable(format!("connect {}: timed out", target.authority)))?
        .map_err(|e| unavailable(format!("connect {}: {e}", target.authority)))?;
    let exchange = async {
        let io = |e: io::Error| unavailable(format!("{}: {e}", target.authority));
        stream
            .write_all(&request(target, user_id, message))
            .await
            .map_err(io)?;
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await.map_err(io)?;
            buf.extend_from_slice(&chunk[..n]);
            if let Some(receipt) = framed(&mut buf, n == 0)? {
                return Ok(receipt);
            }
        }
    };
    R::timeout(io_timeout, exchange)
        .await
        .ok_or_else(|| crate::error::no_answer("upstream", &target.authority, io_timeout))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = UpstreamTarget::parse("http://127.0.0.1:9000/notify").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 9000, "/notify")
        );
        assert_eq!(t.authority, "127.0.0.1:9000");
        let t = UpstreamTarget::parse("http://example.com").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("example.com", 80, "/")
        );
        let t = UpstreamTarget::parse("http://[::1]:8080/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 8080));
        for bad in [
            "https://x",
            "http://",
            "http://h:notaport/",
            "ftp://h",
            "http://u:p@h/",
        ] {
            assert!(UpstreamTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn request_is_a_post_with_json() {
        let t = UpstreamTarget::parse("http://127.0.0.1:9000/notify").unwrap();
        let bytes = String::from_utf8(request(&t, 7, "hi \"there\"")).unwrap();
        assert!(
            bytes.starts_with("POST /notify HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n"),
            "{bytes}"
        );
        assert!(
            bytes.ends_with(r#"{"message":"hi \"there\"","user_id":7}"#),
            "{bytes}"
        );
    }

    #[test]
    fn framing_statuses() {
        let mut ok = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"id\":\"r1\"}".to_vec();
        assert_eq!(
            framed(&mut ok, false).unwrap(),
            Some(NotifyReceipt {
                id: "r1".into(),
                simulated: false
            })
        );
        let mut partial = b"HTTP/1.1 200 OK\r\nContent-Le".to_vec();
        assert_eq!(framed(&mut partial, false).unwrap(), None);
        assert!(framed(&mut partial, true).is_err());
        let mut interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".to_vec();
        assert_eq!(framed(&mut interim, false).unwrap().unwrap().id, "http-204");
        let mut chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"id\r\n7\r\n\":\"c9\"}\r\n0\r\n\r\n"
                .to_vec();
        assert_eq!(framed(&mut chunked, false).unwrap().unwrap().id, "c9");
        let mut numeric = b"HTTP/1.1 201 Created\r\nContent-Length: 9\r\n\r\n{\"id\":17}".to_vec();
        assert_eq!(framed(&mut numeric, false).unwrap().unwrap().id, "17");
        let mut failed = b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec();
        let err = framed(&mut failed, false).unwrap_err();
        assert!(
            err.is_unavailable() && err.to_string().contains("500"),
            "{err}"
        );
    }

    #[test]
    fn simulated_receipts_are_named_and_unique() {
        let (a, b) = (simulated_receipt(), simulated_receipt());
        assert!(a.simulated && b.simulated && a.id != b.id);
    }
}
