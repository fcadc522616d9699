//! A TCP proxy a test can cut: the dependency "stops" for the server under test without the
//! test touching the machine's PostgreSQL or Redis (which other tests and users share).
//!
//! `cut` closes every proxied connection in both directions and makes new ones close right
//! after accept, which is what a client sees when a database restarts. `stall` forwards
//! nothing either way but keeps every connection open and accepts new ones: a dependency that
//! hangs (or a network that blackholes), which no refusal or reset reveals. `stall_live` hangs
//! only the connections open now and forwards new ones: one stuck connection (a half-dead TCP
//! peer) while the server is fine. `restore` forwards again, the bytes held during a stall
//! included.

use clab_http::{Limits, Parsed, parse_request};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Default)]
struct State {
    cut: AtomicBool,
    stalled: AtomicBool,
    /// Connections opened in a generation before this one hang (`stall_live`); 0: none.
    hang_before: AtomicU64,
    generation: AtomicU64,
    stopped: AtomicBool,
    /// Both sockets of every live proxied connection, so `cut` can shut them down.
    conns: Mutex<Vec<TcpStream>>,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Proxy {
    /// Listen on 127.0.0.1:0 and forward every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let state = Arc::new(State::default());
        let st = Arc::clone(&state);
        thread::spawn(move || {
            for client in listener.incoming() {
                if st.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if st.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                forward(&st, client, server);
            }
        });
        Self { addr, state }
    }

    /// The dependency goes away: live connections are shut down, new ones closed at once.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        for s in self.state.conns.lock().expect("conns").drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// The dependency hangs: connections stay open, nothing is forwarded either way.
    pub fn stall(&self) {
        self.state.stalled.store(true, Ordering::SeqCst);
    }

    /// The connections open now hang; new ones are forwarded.
    pub fn stall_live(&self) {
        let next = self.state.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.state.hang_before.store(next, Ordering::SeqCst);
    }

    /// The dependency is back.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
        self.state.stalled.store(false, Ordering::SeqCst);
        self.state.hang_before.store(0, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.cut();
        // Wake the accept loop so it sees `stopped`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn forward(state: &Arc<State>, client: TcpStream, server: TcpStream) {
    let pair = |s: &TcpStream| s.try_clone().expect("clone a proxied socket");
    {
        let mut conns = state.conns.lock().expect("conns");
        conns.retain(|s| s.peer_addr().is_ok());
        conns.push(pair(&client));
        conns.push(pair(&server));
    }
    let born = state.generation.load(Ordering::SeqCst);
    for (from, to) in [(pair(&client), pair(&server)), (server, client)] {
        let state = Arc::clone(state);
        thread::spawn(move || pipe(&state, born, from, to));
    }
}

/// Copy one direction of a connection opened in generation `born` until either side ends,
/// then end the other. While it hangs, what was read is held (and nothing more is read).
fn pipe(state: &State, born: u64, mut from: TcpStream, mut to: TcpStream) {
    let hangs = || {
        (state.stalled.load(Ordering::SeqCst) || born < state.hang_before.load(Ordering::SeqCst))
            && !state.stopped.load(Ordering::SeqCst)
    };
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                while hangs() {
                    thread::sleep(Duration::from_millis(10));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// A minimal upstream API: every connection gets one `200` receipt and a close, as the
/// backend's notify call expects (`Connection: close`, one call per connection).
pub fn receipt_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
    let addr = listener.local_addr().expect("upstream addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || answer_receipt(stream));
        }
    });
    addr
}

fn answer_receipt(mut stream: TcpStream) -> io::Result<()> {
    // The whole request, framed by the codec the server uses, before answering, so the
    // client never sees its request cut short.
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match parse_request(&req, &Limits::default()) {
            Ok(Parsed::Complete { .. }) => break,
            Ok(Parsed::Partial) => {}
            Err(_) => return Ok(()),
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        req.extend_from_slice(&buf[..n]);
    }
    let body = r#"{"id":"receipt-1"}"#;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
