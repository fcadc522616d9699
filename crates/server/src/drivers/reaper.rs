//! [`Reaper`]: lingering closes for the thread models, on a thread of their own, so a close
//! never holds the thread that served the connection.
//!
//! A lingering close (see [`crate::conn::Step::Close`]) sends FIN and then reads and drops
//! input until the client closes or [`crate::conn::LINGER`] passes. Done on the serving
//! thread, every 408, 503 and `Connection: close` would keep a `thread-pool` worker (or `sync`'s
//! only thread) for up to that long, and a slowloris crowd that is answered 408 would hold
//! every worker that way. Here one thread watches every lingering socket in one `poll(2)` and
//! the serving thread goes back to work at once.
//!
//! It also finishes writing for them ([`Reaper::finish`]): a response to a client that reads
//! slowly (or not at all) would otherwise hold the serving thread until the write deadline,
//! and N such clients would hold every `thread-pool` worker. When others wait for the thread,
//! the driver hands the unwritten bytes over with the socket; this thread writes them as the
//! client takes them, by the same deadline, then closes lingering as above.
//!
//! Bounded: at most [`CAPACITY`] sockets linger at once (plus what waits in the hand-over
//! channel); past that a socket is closed at once, after dropping the input already there (a
//! late byte from that client may then reset it: the cost of a flood, not of normal traffic).

use super::poll::{self, IN, OUT};
use crate::admission::ConnectionPass;
use crate::eventfd::EventFd;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Sockets lingering at once on the reaper's thread.
pub const CAPACITY: usize = 4096;
/// Sockets waiting to be taken by the reaper's thread.
const HAND_OVER: usize = 1024;
/// After a failed `poll` (out of memory), before trying again.
const POLL_RETRY: Duration = Duration::from_millis(10);

/// A handle to the lingering thread; cheap to clone. The thread ends once every handle is
/// dropped and the sockets it holds are done.
#[derive(Debug, Clone)]
pub struct Reaper(Arc<Handle>);

/// Says when the lingering thread has ended. A model's drain waits for it (bounded by the
/// drain deadline) after dropping its handles: the process may exit right after `serve`
/// returns, and exiting closes every socket still lingering, with an RST for any that has
/// unread input (the very thing lingering is for).
#[derive(Debug)]
pub struct Finished(Receiver<()>);

impl Finished {
    /// Wait until the lingering thread has ended, or `deadline`; whether it ended.
    pub fn wait(self, deadline: Instant) -> bool {
        let timed_out =
            self.0.recv_deadline(deadline) == Err(crossbeam_channel::RecvTimeoutError::Timeout);
        if timed_out {
            tracing::warn!("drain deadline passed with closes still lingering");
        }
        !timed_out
    }
}

#[derive(Debug)]
struct Handle {
    tx: Sender<Lingering>,
    wake: Arc<EventFd>,
    closed: Arc<AtomicBool>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Release);
        self.wake.signal();
    }
}

#[derive(Debug)]
struct Lingering {
    stream: TcpStream,
    /// While `unsent` is not empty: the write deadline; then the end of the lingering.
    until: Instant,
    /// Response bytes still to write before the FIN (a slow reader's).
    unsent: Vec<u8>,
    /// How long to linger once `unsent` is written.
    linger_for: Duration,
    /// The connection still holds its descriptor, so its `--max-connections` place too.
    _pass: Option<ConnectionPass>,
}

impl Lingering {
    /// Write what the client takes now; once all is written, FIN and start lingering.
    /// `false`: done with this socket (the deadline passed, or the client is gone).
    fn write(&mut self, now: Instant) -> bool {
        while !self.unsent.is_empty() {
            match (&self.stream).write(&self.unsent) {
                Ok(0) => return false,
                Ok(n) => {
                    self.unsent.drain(..n);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return now < self.until,
                Err(_) => return false,
            }
        }
        if self.stream.shutdown(std::net::Shutdown::Write).is_err() {
            return false;
        }
        self.until = now + self.linger_for;
        true
    }
}

impl Reaper {
    /// Start the lingering thread (named `clab-linger`).
    pub fn start() -> io::Result<(Self, Finished)> {
        let (tx, rx) = crossbeam_channel::bounded(HAND_OVER);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let wake = Arc::new(EventFd::new()?);
        let closed = Arc::new(AtomicBool::new(false));
        {
            let (wake, closed) = (Arc::clone(&wake), Arc::clone(&closed));
            std::thread::Builder::new()
                .name("clab-linger".into())
                .spawn(move || {
                    run(&rx, &wake, &closed);
                    drop(done_tx);
                })?;
        }
        Ok((
            Self(Arc::new(Handle { tx, wake, closed })),
            Finished(done_rx),
        ))
    }

    /// Close `stream` lingering: FIN now, then its input is dropped on the reaper's thread
    /// until the client closes or `linger_for` passes. `pass` is held until the socket is
    /// closed.
    pub fn linger(&self, stream: TcpStream, linger_for: Duration, pass: Option<ConnectionPass>) {
        if stream.set_nonblocking(true).is_err()
            || stream.shutdown(std::net::Shutdown::Write).is_err()
        {
            return; // the peer is gone: nothing to protect
        }
        self.hand_over(Lingering {
            stream,
            until: Instant::now() + linger_for,
            unsent: Vec::new(),
            linger_for,
            _pass: pass,
        });
    }

    /// Write `unsent` to `stream` as its client reads it, by `write_until` at the latest, then
    /// close it lingering for `linger_for`; the serving thread is free at once. `pass` is held
    /// until the socket is closed.
    pub fn finish(
        &self,
        stream: TcpStream,
        unsent: Vec<u8>,
        write_until: Instant,
        linger_for: Duration,
        pass: Option<ConnectionPass>,
    ) {
        if unsent.is_empty() {
            // Nothing left to write: the FIN goes now (the thread sends it only after a write).
            return self.linger(stream, linger_for, pass);
        }
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        self.hand_over(Lingering {
            stream,
            until: write_until,
            unsent,
            linger_for,
            _pass: pass,
        });
    }

    fn hand_over(&self, item: Lingering) {
        match self.0.tx.try_send(item) {
            Ok(()) => self.0.wake.signal(),
            Err(TrySendError::Full(item) | TrySendError::Disconnected(item)) => {
                tracing::debug!("lingering thread is full; closing at once");
                let _ = drain(&item.stream);
            }
        }
    }
}

/// The lingering thread: one `poll` over the wake-up eventfd and every lingering socket.
fn run(rx: &Receiver<Lingering>, wake: &EventFd, closed: &AtomicBool) {
    let mut held: Vec<Lingering> = Vec::new();
    let mut set: Vec<libc::pollfd> = Vec::new();
    loop {
        while held.len() < CAPACITY {
            match rx.try_recv() {
                Ok(item) => held.push(item),
                Err(_) => break,
            }
        }
        if held.is_empty() && rx.is_empty() && closed.load(Ordering::Acquire) {
            return;
        }
        set.clear();
        let pollfd = |fd| libc::pollfd {
            fd,
            events: IN,
            revents: 0,
        };
        set.push(pollfd(wake.raw()));
        set.extend(held.iter().map(|l| libc::pollfd {
            events: if l.unsent.is_empty() { IN } else { OUT },
            ..pollfd(l.stream.as_raw_fd())
        }));
        let until = held.iter().map(|l| l.until).min();
        if let Err(err) = poll::wait_set(&mut set, until) {
            tracing::warn!(%err, "poll on lingering sockets failed");
            std::thread::sleep(POLL_RETRY);
            continue;
        }
        if set[0].revents != 0 {
            wake.drain();
        }
        let now = Instant::now();
        let mut ready = set[1..].iter().map(|p| p.revents != 0);
        held.retain_mut(|l| {
            let ready = ready.next().unwrap_or(false);
            if !l.unsent.is_empty() {
                // Writable, or its write deadline passed (then `write` says so).
                return if ready || now >= l.until {
                    l.write(now)
                } else {
                    true
                };
            }
            let open = !ready || drain(&l.stream) == Drained::Open;
            open && now < l.until
        });
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Drained {
    /// Nothing more to read now; the client has not closed.
    Open,
    /// EOF or an error: done lingering.
    Done,
}

/// Read and drop whatever input is there, without waiting.
fn drain(mut stream: &TcpStream) -> Drained {
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return Drained::Done,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Drained::Open,
            Err(_) => return Drained::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ServeOptions;
    use crate::admission::Admission;
    use std::io::Write;
    use std::net::TcpListener;

    #[test]
    fn a_lingering_socket_keeps_its_place_until_the_client_closes() {
        let admission = Admission::new(&ServeOptions {
            max_connections: Some(1),
            ..ServeOptions::default()
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let (server, _) = listener.accept().unwrap();
        let (reaper, finished) = Reaper::start().unwrap();
        reaper.linger(server, Duration::from_secs(10), admission.connection());
        // The FIN came at once; input sent now is dropped, not answered with a reset.
        client.write_all(b"more input").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(client.read(&mut buf).unwrap(), 0);
        assert!(admission.connection().is_none(), "its place is held");
        drop(client);
        let until = Instant::now() + Duration::from_secs(5);
        while admission.connection().is_none() {
            assert!(Instant::now() < until, "the place was not given back");
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(reaper);
        assert!(
            finished.wait(Instant::now() + Duration::from_secs(5)),
            "the thread ended"
        );
    }
}
