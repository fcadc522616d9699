//! A hostile crowd for the limits tests: connections that send nothing, and slowloris
//! connections that send a request head one byte a second and never finish it. Like the
//! slowloris tool, each attacker reconnects when the server closes it, so the crowd stays the
//! same size for as long as it runs. One thread drives every attacker over non-blocking
//! sockets, its ticks spread over the second (as the tool's loop over its sockets is).
//! Nothing here waits without a bound: connects and writes have timeouts, reads never block.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Each attacker acts once per tick.
const TICK: Duration = Duration::from_secs(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// What a slowloris attacker sends on connect; then one more header byte per tick.
const SLOW_HEAD: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Slow: ";

/// What the crowd saw of the server.
#[derive(Debug, Default)]
pub struct CrowdReport {
    /// Connections opened after the server closed an earlier one.
    pub reconnects: u64,
    pub got_408: u64,
    pub got_503: u64,
    pub connect_failures: u64,
}

/// A running crowd; [`Crowd::stop`] ends it and says what it saw.
pub struct Crowd {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<CrowdReport>>,
}

struct Attacker {
    slow: bool,
    stream: Option<TcpStream>,
}

impl Crowd {
    /// Open `silent` + `slowloris` connections to `addr` (all of them before this returns),
    /// then keep them up on a thread of their own.
    pub fn start(addr: SocketAddr, silent: usize, slowloris: usize) -> Self {
        let mut report = CrowdReport::default();
        let mut crowd: Vec<Attacker> = (0..silent + slowloris)
            .map(|i| Attacker {
                slow: i >= silent,
                stream: None,
            })
            .collect();
        for attacker in &mut crowd {
            attacker.connect(addr, &mut report);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("crowd".into())
                .spawn(move || {
                    let step = TICK / u32::try_from(crowd.len().max(1)).unwrap_or(u32::MAX);
                    while !stop.load(Ordering::Relaxed) {
                        for attacker in &mut crowd {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            attacker.tick(addr, &mut report);
                            std::thread::sleep(step);
                        }
                    }
                    report
                })
                .expect("spawn the crowd")
        };
        Self {
            stop,
            thread: Some(thread),
        }
    }

    pub fn stop(mut self) -> CrowdReport {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .expect("running")
            .join()
            .expect("crowd thread")
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Attacker {
    fn connect(&mut self, addr: SocketAddr, report: &mut CrowdReport) {
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) else {
            report.connect_failures += 1;
            return;
        };
        let _ = stream.set_write_timeout(Some(CONNECT_TIMEOUT));
        if self.slow {
            let _ = stream.write_all(SLOW_HEAD);
        }
        let _ = stream.set_nonblocking(true);
        self.stream = Some(stream);
    }

    /// Reconnect if the server closed this attacker, else send the next slow byte.
    fn tick(&mut self, addr: SocketAddr, report: &mut CrowdReport) {
        let open = self.stream.as_mut().is_some_and(|s| still_open(s, report));
        if !open {
            if self.stream.take().is_some() {
                report.reconnects += 1;
            }
            self.connect(addr, report);
            return;
        }
        if self.slow
            && let Some(stream) = self.stream.as_mut()
        {
            match stream.write(b"a") {
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(_) => self.stream = None, // closed: reconnect next tick
            }
        }
    }
}

/// Read what the server sent without waiting; `false` once it closed (EOF or an error).
fn still_open(stream: &mut TcpStream, report: &mut CrowdReport) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                let text = &buf[..n];
                if text.starts_with(b"HTTP/1.1 408") {
                    report.got_408 += 1;
                } else if text.starts_with(b"HTTP/1.1 503") {
                    report.got_503 += 1;
                }
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => return true,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}
