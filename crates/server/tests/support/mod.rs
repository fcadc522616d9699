//! Test support: boot a model in-process, and a raw-bytes HTTP client that frames responses
//! with the codec's own client framing (`clab_http::parse_response`).

// Shared by several test binaries, each of which uses a part of it.
#![allow(dead_code)]

pub mod crowd;
pub mod proxy;

use clab_backend::{BackendConfig, DatabaseUrl};
use clab_http::{ParsedResponse, parse_response, response_body};
use clab_server::{Listen, Model, ServeOptions, ServerError, Shutdown};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Once;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a test waits for any single response before failing (generous: the machine is
/// a shared 2-vCPU VM).
const READ_TIMEOUT: Duration = Duration::from_secs(20);

fn backend_config() -> BackendConfig {
    BackendConfig {
        database: DatabaseUrl::SqliteMemory,
        seed_users: 200,
        seed_orders_per_user: 3,
        pool_size: 4,
        ..BackendConfig::default()
    }
}

/// Set the simulated round trip of every remote call (`"200"` = 200 ms).
pub fn with_latency(opts: &mut ServeOptions, profile: &str) {
    opts.backend.latency = profile.parse().expect("latency profile");
}

/// A model serving on 127.0.0.1:0 on its own thread; stopped (gracefully) on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Shutdown,
    handle: Option<JoinHandle<Result<(), ServerError>>>,
}

impl TestServer {
    pub fn start(model: Model, tweak: impl FnOnce(&mut ServeOptions)) -> Self {
        static PREPARE: Once = Once::new();
        let mut opts = ServeOptions::new(backend_config());
        opts.drain_deadline = Duration::from_secs(10);
        tweak(&mut opts);
        PREPARE.call_once(|| clab_backend::prepare(&backend_config()).expect("prepare database"));
        clab_backend::prepare(&opts.backend).expect("prepare database");
        let listen = Listen::bind(
            "127.0.0.1:0".parse().expect("addr"),
            None,
            model.caps().reuse_port,
        )
        .expect("bind");
        let addr = listen.addr();
        let shutdown = Shutdown::new();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = {
            let shutdown = shutdown.clone();
            std::thread::spawn(move || {
                clab_server::serve_with(model, listen, opts, shutdown, |_| {
                    let _ = ready_tx.send(());
                })
            })
        };
        if ready_rx.recv_timeout(READ_TIMEOUT).is_err() {
            let err = handle.join().map(|r| r.err());
            panic!("{model} did not become ready: {err:?}");
        }
        Self {
            addr,
            shutdown,
            handle: Some(handle),
        }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Trigger a graceful shutdown and wait for `serve` to return.
    pub fn stop(mut self) -> Result<(), ServerError> {
        self.shutdown.trigger();
        self.handle
            .take()
            .expect("running")
            .join()
            .expect("serve thread panicked")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.shutdown.trigger();
            let _ = handle.join();
        }
    }
}

/// `GET path` with a Host header.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

/// One response, as read off the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
    /// The server announced it will close.
    pub close: bool,
}

impl Resp {
    /// First header with this name (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw client connection.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        Self::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    pub fn from_stream(stream: TcpStream) -> Self {
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Write all bytes. A server that refuses early may close before all of them are
    /// written; that error is ignored so the test can still read the refusal.
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    pub fn roundtrip(&mut self, req: &[u8]) -> Resp {
        self.send(req);
        self.response()
    }

    pub fn roundtrip_head(&mut self, req: &[u8]) -> Resp {
        self.send(req);
        self.read_response(true)
    }

    /// The next response (not to a HEAD request).
    pub fn response(&mut self) -> Resp {
        self.read_response(false)
    }

    fn read_response(&mut self, head_only: bool) -> Resp {
        self.try_read_response(head_only)
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// The next response, or why there was none (closed, reset, timed out).
    pub fn try_response(&mut self) -> Result<Resp, String> {
        self.try_read_response(false)
    }

    fn try_read_response(&mut self, head_only: bool) -> Result<Resp, String> {
        loop {
            match parse_response(&self.buf, head_only).expect("well-formed response") {
                parsed @ ParsedResponse::Complete {
                    status,
                    consumed,
                    body_start,
                    close,
                    ..
                } => {
                    let body = response_body(&self.buf, &parsed)
                        .expect("body")
                        .into_owned();
                    let head = String::from_utf8_lossy(&self.buf[..body_start]).into_owned();
                    self.buf.drain(..consumed);
                    return Ok(Resp {
                        status,
                        head,
                        body,
                        close,
                    });
                }
                ParsedResponse::Partial => {
                    let mut chunk = [0u8; 64 * 1024];
                    match self.stream.read(&mut chunk) {
                        Ok(0) => {
                            return Err(format!(
                                "connection closed before a full response: {:?}",
                                String::from_utf8_lossy(&self.buf)
                            ));
                        }
                        Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                        Err(err) => return Err(format!("reading a response: {err}")),
                    }
                }
            }
        }
    }

    /// The server closed the connection (EOF or reset) with nothing more to read.
    pub fn is_closed(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(err) => matches!(
                err.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
        }
    }

    /// The connection is still open: nothing arrives and no EOF within a short wait.
    pub fn is_open(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        self.stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut byte = [0u8; 1];
        let open = match self.stream.read(&mut byte) {
            Err(err) => matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            Ok(_) => false,
        };
        self.stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
        open
    }
}
