//! Many hostile connections held open at once, on one thread: silent ones, ones that send a
//! header byte every interval and never finish (slowloris), and ones that make one request and
//! then sit idle on the kept-alive connection. One `poll(2)` over all of them wakes the thread
//! only when the server answers or closes, or a byte is due, so holding a thousand costs the
//! machine (which the server under test shares) almost nothing. Each connection's life is
//! recorded: how long it lived, what the server answered, how it ended.
//!
//! The trickling connections are independent clients, so each keeps its own clock: their
//! phases are spread evenly over the interval (a golden-ratio sequence, so reconnects keep the
//! spread), and the thread wakes at the earliest due byte. A single tick for all of them would
//! make every server wake hundreds of connections in the same millisecond once a second, and
//! a legitimate request landing in that burst would measure the attacker's synchronisation
//! rather than the server's defence.

use crate::target::Target;
use crate::wire::keep_alive_request;
use clab_http::{ParsedResponse, parse_response};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// How far ahead of its due time a trickled byte may go out (see [`Crowd::hold`]).
const TRICKLE_BATCH: Duration = Duration::from_millis(10);

/// What a connection does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Connects and sends nothing.
    Silent,
    /// Sends the head of a request one byte per interval and never ends it.
    Trickle,
    /// Sends one keep-alive request, reads the answer, then sends nothing.
    Idle,
}

/// One connection's life, once it ended (or when the crowd was dismissed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Life {
    pub kind: Kind,
    /// From the connect to the close (or to the dismissal).
    pub lived: Duration,
    /// Statuses the server sent, in order.
    pub answers: Vec<u16>,
    /// Ended by the server (EOF or reset); `false`: still open at the dismissal.
    pub closed: bool,
}

struct Member {
    kind: Kind,
    stream: TcpStream,
    opened: Instant,
    buf: Vec<u8>,
    answers: Vec<u16>,
    /// Trickle: bytes of the head sent so far.
    sent: usize,
    /// Trickle: when the next byte is due (`None` for the other kinds).
    due: Option<Instant>,
}

/// The connections and what they have recorded.
pub struct Crowd {
    addr: std::net::SocketAddr,
    request: Vec<u8>,
    trickle: Vec<u8>,
    interval: Duration,
    members: Vec<Member>,
    /// Trickling connections joined so far: the index of the next one's phase.
    trickles: u64,
    pub ended: Vec<Life>,
    pub connects: usize,
    pub connect_failures: usize,
}

impl std::fmt::Debug for Crowd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crowd")
            .field("addr", &self.addr)
            .field("open", &self.members.len())
            .field("ended", &self.ended.len())
            .finish()
    }
}

impl Crowd {
    /// A crowd aimed at `target`; trickling connections send a byte every `interval`.
    pub fn new(target: &Target, interval: Duration) -> Self {
        let request = keep_alive_request(target);
        // A head that never ends: the request line, Host, then a field value growing a byte at
        // a time (far below any head limit at one byte per interval).
        let mut trickle = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
            target.url.path,
            target.host_header()
        )
        .into_bytes();
        trickle.resize(trickle.len() + 64 * 1024, b'a');
        Self {
            addr: target.addr,
            request,
            trickle,
            interval,
            members: Vec::new(),
            trickles: 0,
            ended: Vec::new(),
            connects: 0,
            connect_failures: 0,
        }
    }

    /// Opens one more connection of `kind`; `false` when the connect failed.
    pub fn join(&mut self, kind: Kind) -> bool {
        let stream = match crate::wire::connect(self.addr, Duration::from_secs(1)) {
            Ok(s) => s,
            Err(_) => {
                self.connect_failures += 1;
                return false;
            }
        };
        self.connects += 1;
        let now = Instant::now();
        let mut member = Member {
            kind,
            stream,
            opened: now,
            buf: Vec::new(),
            answers: Vec::new(),
            sent: 0,
            due: (kind == Kind::Trickle).then(|| now + self.next_phase()),
        };
        let first: &[u8] = match kind {
            Kind::Silent => &[],
            Kind::Trickle => &self.trickle[..1],
            Kind::Idle => &self.request,
        };
        let written = member.stream.write_all(first).is_ok();
        member.sent = first.len();
        if !written || member.stream.set_nonblocking(true).is_err() {
            self.end(member, true);
            return false;
        }
        self.members.push(member);
        true
    }

    /// The next trickling connection's first wait: the `k`-th point of the golden-ratio
    /// sequence, a fraction of the interval. Any prefix of it is spread almost evenly over
    /// [0, 1), so the phases stay spread however many connections join or rejoin.
    fn next_phase(&mut self) -> Duration {
        const GOLDEN: f64 = 0.618_033_988_749_894_9;
        let k = self.trickles;
        self.trickles += 1;
        self.interval.mul_f64((k as f64 * GOLDEN).fract())
    }

    /// When the next trickled byte is due, if any connection trickles.
    fn next_due(&self) -> Option<Instant> {
        self.members.iter().filter_map(|m| m.due).min()
    }

    /// Connections open now, of `kind` (all kinds with `None`).
    pub fn open(&self, kind: Option<Kind>) -> usize {
        self.members
            .iter()
            .filter(|m| kind.is_none_or(|k| m.kind == k))
            .count()
    }

    /// Lets `d` pass, reading what the server sends, trickling bytes when due, noting closes.
    /// With `reopen`, a connection the server closed is replaced by a new one of its kind (a
    /// slowloris reconnects), while fewer than `max_connects` have been made in all.
    pub fn hold(&mut self, d: Duration, reopen: bool, max_connects: usize) {
        let until = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= until {
                return;
            }
            let wake = self.next_due().map_or(until, |due| due.min(until));
            let ready = self.wait_ready(wake.saturating_duration_since(now));
            let mut closed = self.read(&ready);
            // Bytes due within the next few ms go out now too: a few connections per wake
            // rather than one, so the crowd's thread (whose `poll` walks every connection)
            // wakes at most about a hundred times a second and leaves the cores to the
            // server and the legitimate client; still no burst worth the name.
            closed.extend(self.trickle_due(Instant::now() + TRICKLE_BATCH));
            if reopen {
                for kind in closed {
                    if self.connects >= max_connects {
                        break;
                    }
                    self.join(kind);
                }
            }
        }
    }

    /// Ends the crowd: every connection still open is recorded as such and dropped.
    pub fn dismiss(mut self) -> Vec<Life> {
        let members = std::mem::take(&mut self.members);
        for m in members {
            self.end(m, false);
        }
        self.ended
    }

    /// Sleeps in `poll(2)` until a connection is readable (or closed) or `timeout` passes;
    /// returns whether each member is ready, by index.
    fn wait_ready(&self, timeout: Duration) -> Vec<bool> {
        let mut fds: Vec<libc::pollfd> = self
            .members
            .iter()
            .map(|m| libc::pollfd {
                fd: m.stream.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        let ms = timeout.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfd structs
        // whose descriptors stay open for the call (the members own them).
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        fds.iter().map(|p| p.revents != 0).collect()
    }

    /// Reads from the members `ready` marks; returns the kinds of those that closed.
    fn read(&mut self, ready: &[bool]) -> Vec<Kind> {
        let mut gone = Vec::new();
        let mut chunk = [0u8; 4096];
        for (i, m) in self.members.iter_mut().enumerate() {
            if !ready.get(i).copied().unwrap_or(false) {
                continue;
            }
            loop {
                match m.stream.read(&mut chunk) {
                    Ok(0) => {
                        gone.push(i);
                        break;
                    }
                    Ok(n) => m.buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        gone.push(i);
                        break;
                    }
                }
            }
            while let Ok(ParsedResponse::Complete {
                status, consumed, ..
            }) = parse_response(&m.buf, false)
            {
                if status >= 200 {
                    m.answers.push(status);
                }
                m.buf.drain(..consumed);
            }
        }
        self.remove(gone)
    }

    /// Sends the next head byte on every trickling connection whose byte is due by `until`;
    /// returns the kinds of those whose write failed (the server closed them).
    fn trickle_due(&mut self, until: Instant) -> Vec<Kind> {
        let mut gone = Vec::new();
        for (i, m) in self.members.iter_mut().enumerate() {
            let Some(due) = m.due.filter(|&d| d <= until) else {
                continue;
            };
            // The next byte one interval after this one was due, not after it was sent: a
            // late wake does not drift the connection's phase towards the others'.
            m.due = (m.sent < self.trickle.len()).then_some(due + self.interval);
            if m.due.is_none() {
                continue;
            }
            match m.stream.write(&self.trickle[m.sent..=m.sent]) {
                Ok(n) => m.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => gone.push(i),
            }
        }
        self.remove(gone)
    }

    /// Ends the members at `indices` (ascending) as closed by the server.
    fn remove(&mut self, indices: Vec<usize>) -> Vec<Kind> {
        let mut kinds = Vec::with_capacity(indices.len());
        // From the back, so that swap_remove leaves the smaller indices in place.
        for i in indices.into_iter().rev() {
            let m = self.members.swap_remove(i);
            kinds.push(m.kind);
            self.end(m, true);
        }
        kinds
    }

    fn end(&mut self, m: Member, closed: bool) {
        self.ended.push(Life {
            kind: m.kind,
            lived: m.opened.elapsed(),
            answers: m.answers,
            closed,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trickling_phases_spread_over_the_interval() {
        let target = Target::parse("http://127.0.0.1:1/", false).unwrap();
        let interval = Duration::from_secs(1);
        let mut crowd = Crowd::new(&target, interval);
        let n = 333;
        let mut phases: Vec<Duration> = (0..n).map(|_| crowd.next_phase()).collect();
        assert!(phases.iter().all(|&p| p < interval));
        phases.sort();
        phases.push(interval + phases[0]);
        let widest = phases.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        // An even spread leaves 3 ms between neighbours; the golden-ratio sequence at most
        // about 2.6 times that. One tick for all would leave the whole interval.
        assert!(
            widest < interval / n * 3,
            "widest gap between phases {widest:?}"
        );
    }
}
