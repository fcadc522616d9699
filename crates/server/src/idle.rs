//! [`IdleConns`]: the open connections, each with a mark saying whether it sits idle on
//! keep-alive, so that a server out of room sheds those first.
//!
//! When `accept` fails with EMFILE (the process is out of file descriptors) or a new
//! connection is past `--max-connections`, the descriptors held by idle keep-alive connections
//! are the cheapest to give back: their clients are waiting for nothing, and an HTTP client
//! reconnects when an idle connection closes (nginx does the same when it runs out of
//! connections: `ngx_drain_connections` closes up to 32 reusable ones). Without it a server
//! whose descriptors are held by idle clients stops accepting until their idle timeout
//! (60 s by default) runs out.
//!
//! # How a connection is shed
//! The acceptor does not own the connections, so it cannot close them; it calls
//! `shutdown(fd, SHUT_RDWR)` on their sockets instead. That wakes whoever waits on the socket,
//! in every model alike (a thread in `poll`, a tokio or event-loop task on epoll, a may
//! coroutine), with end of input, and the connection closes itself as if its client had left.
//! `shutdown` never closes the descriptor, but it must not reach a descriptor number that was
//! closed and reused for another socket: a connection's entry is removed (under the registry's
//! lock) before its socket is closed, and the shedder holds the same lock while it shuts
//! sockets down, so every fd it touches is still the connection's own.
//!
//! # What it costs
//! One lock per connection, at its start and at its end; the idle mark itself is one relaxed
//! atomic store into the connection's own slot per wait, no shared write per request. A shed
//! scans every entry, so it runs at most once per [`SHED_EVERY`].
//!
//! A request that crosses the shed (its bytes arrive as the socket is shut down) is lost, as
//! with any keep-alive close; clients retry such a request on a new connection.

use slab::Slab;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most this many idle connections are shed at a time (nginx's figure): enough for the
/// connections waiting in the accept queue to get in, without closing every idle one at once.
pub const SHED_BATCH: usize = 32;
/// At most one shed per this long: a flood of refused connections does not become a flood of
/// scans.
pub const SHED_EVERY: Duration = Duration::from_millis(10);

/// One connection's entry: its socket and, while it is idle, since when.
#[derive(Debug)]
struct Slot {
    fd: RawFd,
    /// Its key in the registry's slab (kept here, not in the mark: every connection's future
    /// holds the mark, and smaller is better there).
    key: usize,
    /// Milliseconds since [`IdleConns::epoch`] plus one while idle; zero while not.
    idle_since: AtomicU64,
}

/// The registry, shared by every connection of a server (all shards of `thread-per-core`).
#[derive(Debug)]
pub struct IdleConns {
    slots: Mutex<Slab<Arc<Slot>>>,
    epoch: Instant,
    /// When the last shed ran, in ms since `epoch` (plus one; zero: never).
    last_shed: AtomicU64,
    /// Connections shed so far (`/debug/stats`).
    shed_total: AtomicU64,
}

impl Default for IdleConns {
    fn default() -> Self {
        Self {
            slots: Mutex::new(Slab::new()),
            epoch: Instant::now(),
            last_shed: AtomicU64::new(0),
            shed_total: AtomicU64::new(0),
        }
    }
}

impl IdleConns {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    /// Enter the connection whose socket is `fd`. The mark must be dropped before the socket
    /// is closed (a driver creates it after the socket and drops it first). It owns its handle
    /// on the registry, so it can travel with its connection between threads (`thread-pool`
    /// parks a connection with its mark, see `drivers/parking.rs`).
    pub fn register(self: &Arc<Self>, fd: RawFd) -> IdleMark {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = slots.vacant_entry();
        let slot = Arc::new(Slot {
            fd,
            key: entry.key(),
            idle_since: AtomicU64::new(0),
        });
        entry.insert(Arc::clone(&slot));
        IdleMark {
            set: Arc::clone(self),
            slot,
        }
    }

    /// Shut down the sockets of up to `most` idle connections, the longest idle first, unless
    /// a shed ran within [`SHED_EVERY`]. Returns how many.
    pub fn shed(&self, most: usize) -> usize {
        let now = self.now_ms();
        let last = self.last_shed.load(Ordering::Relaxed);
        let every = SHED_EVERY.as_millis() as u64;
        if last != 0 && now < last + every {
            return 0;
        }
        if self
            .last_shed
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return 0; // another thread is shedding now
        }
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let mut idle: Vec<(u64, &Slot)> = slots
            .iter()
            .filter_map(|(_, s)| match s.idle_since.load(Ordering::Relaxed) {
                0 => None,
                since => Some((since, &**s)),
            })
            .collect();
        if idle.len() > most {
            idle.select_nth_unstable_by_key(most, |&(since, _)| since);
            idle.truncate(most);
        }
        for &(_, slot) in &idle {
            // Not idle any more: it is on its way out, and the next shed picks others.
            slot.idle_since.store(0, Ordering::Relaxed);
            // SAFETY: `slot.fd` is the socket of a registered connection: entries leave the
            // registry (under this lock, held here) before their socket is closed, so it is
            // open and still that connection's. `shutdown` only changes the socket's state.
            unsafe { libc::shutdown(slot.fd, libc::SHUT_RDWR) };
        }
        if !idle.is_empty() {
            tracing::debug!(
                shed = idle.len(),
                "idle keep-alive connections shed to make room"
            );
        }
        self.shed_total
            .fetch_add(idle.len() as u64, Ordering::Relaxed);
        idle.len()
    }

    /// Idle connections shed so far.
    pub fn shed_total(&self) -> u64 {
        self.shed_total.load(Ordering::Relaxed)
    }

    /// Connections registered now.
    pub fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A connection's place in [`IdleConns`]; leaves it when dropped.
#[derive(Debug)]
pub struct IdleMark {
    set: Arc<IdleConns>,
    slot: Arc<Slot>,
}

impl IdleMark {
    /// The connection waits for its client's next request on a kept-alive connection (or not:
    /// `false`, a partial request, a fresh connection, a response being written).
    pub fn idle(&self, idle: bool) {
        let since = if idle { self.set.now_ms() } else { 0 };
        self.slot.idle_since.store(since, Ordering::Relaxed);
    }
}

impl Drop for IdleMark {
    fn drop(&mut self) {
        self.set
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(self.slot.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    fn pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    #[test]
    fn a_shed_shuts_the_longest_idle_sockets_down_and_spares_busy_ones() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let conns = Arc::new(IdleConns::default());
        let (mut old_client, old) = pair(&listener);
        let (mut new_client, new) = pair(&listener);
        let (mut busy_client, busy) = pair(&listener);
        let marks = [
            conns.register(old.as_raw_fd()),
            conns.register(new.as_raw_fd()),
            conns.register(busy.as_raw_fd()),
        ];
        marks[0].idle(true);
        std::thread::sleep(Duration::from_millis(5));
        marks[1].idle(true);
        marks[2].idle(false);
        assert_eq!(conns.len(), 3);
        assert_eq!(conns.shed(1), 1);
        // The longest idle got end of input (its client sees the FIN); the others did not.
        let mut buf = [0u8; 1];
        assert_eq!(old_client.read(&mut buf).unwrap(), 0);
        for client in [&mut new_client, &mut busy_client] {
            client.set_nonblocking(true).unwrap();
            let err = client.read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        }
        // Within SHED_EVERY a second shed does nothing; after it, the other idle one goes.
        assert_eq!(conns.shed(SHED_BATCH), 0);
        std::thread::sleep(SHED_EVERY * 2);
        assert_eq!(
            conns.shed(SHED_BATCH),
            1,
            "the newer idle one, not the one already shed"
        );
        assert_eq!(new_client.read(&mut buf).unwrap(), 0);
        drop(marks);
        assert!(conns.is_empty(), "dropped marks leave the registry");
    }
}
