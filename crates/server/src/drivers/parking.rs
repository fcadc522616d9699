//! Parking: connections that wait for input while other connections wait for the thread
//! that holds them, held off every thread in one epoll set ([`Lot`]) until their input
//! arrives or their timeout passes. `thread-pool` runs the lot on a thread of its own
//! ([`Parking`], `clab-parking`); `sync` polls it on its only thread between requests.
//!
//! A model whose threads are shared (N workers, or one) is beaten by more clients than threads
//! that send slowly or sit idle between requests: the classic defence (Apache's short
//! `KeepAliveTimeout`, cutting a slow head) frees the thread by *closing* the connection, and a
//! crowd that reconnects at once turns every close into a new connection queued in front of
//! the legitimate ones (measured: a legitimate client's p99 4–7x its baseline among 1,000 slow
//! connections, in every run, on `thread-pool`; 2–24x on `sync`). So when others wait for its
//! thread, a driver that would wait for input parks the connection instead ([`Park`]), with
//! its `Conn` (the request read so far, its clocks) and what it holds (its
//! `--max-connections` place, its idle mark), and turns to the next connection. The lot
//! watches every parked socket in one epoll set (O(1) per event, however many are parked),
//! each with its own deadline:
//! - input arrives (the rest of a head, the next request of a keep-alive client, or the EOF of
//!   a client that left): the connection is resumed at the back of the line of connections
//!   waiting for a thread (a full line answers it 503), and a thread reads it there;
//! - the deadline passes: the `Conn` says what that means (408 for a partial request, a quiet
//!   close for an idle or silent one, at the usual `--header-timeout` and `--idle-timeout`)
//!   and the close lingers on the [`Reaper`];
//! - the server drains: idle connections get [`crate::conn::DRAIN_GRACE`], as on a thread.
//!
//! This is how Apache's event MPM and Tomcat's NIO connector keep a thread pool for requests
//! and not for connections. It keeps the chapter's models where it matters: a request in a
//! handler holds its thread until it is answered (N at a time, or one), and a thread with no
//! one waiting for it still sleeps in `poll(2)` on its own connection (no hand-over, no extra
//! wake-up per request at light load).
//!
//! Bounded by `--max-connections`: every parked connection holds its place.

use super::blocking::Held;
use super::reaper::Reaper;
use crate::Shutdown;
use crate::conn::Expiry;
use crossbeam_channel::{Receiver, Sender};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The waker's token (a hand-over arrived); slab keys never reach it.
const WAKE: Token = Token(usize::MAX);
/// The shutdown eventfd's token.
const SHUTDOWN: Token = Token(usize::MAX - 1);
/// The listening socket's token (`sync` waits for new clients in the same epoll set).
const LISTENER: Token = Token(usize::MAX - 2);
/// After a failed `epoll_wait` (out of memory), before trying again.
const POLL_RETRY: Duration = Duration::from_millis(10);

/// Where a driver parks a connection that would keep others waiting for its thread.
pub trait Park: std::fmt::Debug {
    /// Park `held` until input arrives or `until` passes (meaning `expiry`). `Err` gives it
    /// back when it cannot be parked any more (the server drained): the thread then waits
    /// on it itself.
    fn park(&self, held: Box<Held>, until: Instant, expiry: Expiry) -> Result<(), Box<Held>>;
}

/// What [`Lot::turn`] found.
pub(crate) enum Woke {
    /// A parked connection's input arrived (or its client left): serve it.
    Resumed(Box<Held>),
    /// The listening socket has clients to accept (`sync`).
    Listener,
}

/// A connection on its way to the parking thread: its deadline and what that deadline means.
struct Arrival {
    held: Box<Held>,
    until: Instant,
    expiry: Expiry,
}

/// `thread-pool`'s parking thread: a [`Lot`] on a thread of its own, which the workers hand
/// connections to through a channel.
pub struct Parking {
    /// `None` once the thread stopped taking connections (it drained; see [`Park::park`]).
    tx: Mutex<Option<Sender<Arrival>>>,
    waker: Waker,
}

impl std::fmt::Debug for Parking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parking").finish_non_exhaustive()
    }
}

impl Parking {
    /// Start the parking thread (`clab-parking`). `resume` puts a connection whose input
    /// arrived back in the worker queue; the thread drops it (and so its hold on the queue)
    /// once the server drains and nothing is parked, so the workers can see the queue end.
    pub fn start(
        shutdown: &Shutdown,
        reaper: Reaper,
        mut resume: impl FnMut(Box<Held>) + Send + 'static,
    ) -> io::Result<(Arc<Self>, JoinHandle<()>)> {
        let mut lot = Lot::new(shutdown, reaper)?;
        let waker = Waker::new(lot.poll.registry(), WAKE)?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let parking = Arc::new(Self {
            tx: Mutex::new(Some(tx)),
            waker,
        });
        let thread = {
            let parking = Arc::clone(&parking);
            std::thread::Builder::new()
                .name("clab-parking".into())
                .spawn(move || {
                    let mut events = Events::with_capacity(1024);
                    loop {
                        while let Ok(Arrival {
                            held,
                            until,
                            expiry,
                        }) = rx.try_recv()
                        {
                            lot.put(held, until, expiry);
                        }
                        if lot.draining && lot.is_empty() && parking.close_if_idle(&rx) {
                            // Nothing parked and nothing can come: let go of the queue, so
                            // the workers see it end once the acceptor has let go too.
                            return;
                        }
                        lot.turn(&mut events, None, |woke| {
                            if let Woke::Resumed(held) = woke {
                                resume(held);
                            }
                        });
                    }
                })?
        };
        Ok((parking, thread))
    }

    /// Stop taking connections if none is on its way; whether it stopped. Under the same lock
    /// as [`Park::park`], so no connection can slip in after the last look at the channel.
    fn close_if_idle(&self, rx: &Receiver<Arrival>) -> bool {
        let mut tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        if rx.is_empty() {
            *tx = None;
            true
        } else {
            false
        }
    }
}

impl Park for Parking {
    fn park(&self, held: Box<Held>, until: Instant, expiry: Expiry) -> Result<(), Box<Held>> {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = tx.as_ref() else {
            return Err(held);
        };
        match tx.send(Arrival {
            held,
            until,
            expiry,
        }) {
            Ok(()) => {
                // A failed wake leaves it in the channel until the next event or deadline.
                let _ = self.waker.wake();
                Ok(())
            }
            Err(crossbeam_channel::SendError(arrival)) => Err(arrival.held),
        }
    }
}

/// `sync` parks on its own thread: the lot is polled between requests by the same thread.
impl Park for RefCell<Lot> {
    fn park(&self, held: Box<Held>, until: Instant, expiry: Expiry) -> Result<(), Box<Held>> {
        self.borrow_mut().put(held, until, expiry);
        Ok(())
    }
}

impl std::fmt::Debug for Lot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lot")
            .field("parked", &self.parked.len())
            .field("draining", &self.draining)
            .finish_non_exhaustive()
    }
}

/// One parked connection.
struct Parked {
    held: Box<Held>,
    until: Instant,
}

/// Parked connections: one epoll set over their sockets (and the shutdown eventfd, and for
/// `sync` the listener), and their deadlines.
pub struct Lot {
    poll: Poll,
    parked: Slab<Parked>,
    /// (deadline, slab key) of every parked connection, earliest first.
    timers: BTreeSet<(Instant, usize)>,
    draining: bool,
    reaper: Reaper,
}

impl Lot {
    pub(crate) fn new(shutdown: &Shutdown, reaper: Reaper) -> io::Result<Self> {
        let poll = Poll::new()?;
        let wake_fd = shutdown.wake_fd()?;
        poll.registry()
            .register(&mut SourceFd(&wake_fd), SHUTDOWN, Interest::READABLE)?;
        Ok(Self {
            poll,
            parked: Slab::new(),
            timers: BTreeSet::new(),
            draining: shutdown.is_triggered(),
            reaper,
        })
    }

    /// Watch the listening socket `fd` too: [`Lot::turn`] reports [`Woke::Listener`] when
    /// clients arrive (edge-triggered: once per arrival after the accept queue was emptied).
    pub(crate) fn watch_listener(&self, fd: RawFd) -> io::Result<()> {
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)
    }

    /// The epoll descriptor: readable while an event waits for [`Lot::turn`] (a parked
    /// connection's input, a new client), so a thread busy with another connection can see
    /// that someone waits for it.
    pub(crate) fn fd(&self) -> RawFd {
        self.poll.as_raw_fd()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }

    /// Wait for events, at most `timeout` (and no later than the earliest deadline), and
    /// report each to `woke`; then close the connections whose deadline has passed.
    pub(crate) fn turn(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
        mut woke: impl FnMut(Woke),
    ) {
        let first = self
            .timers
            .first()
            .map(|&(until, _)| until.saturating_duration_since(Instant::now()));
        let timeout = match (timeout, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Err(err) = self.poll.poll(events, timeout) {
            if err.kind() != io::ErrorKind::Interrupted {
                tracing::warn!(%err, "epoll on parked connections failed");
                std::thread::sleep(POLL_RETRY);
            }
            return;
        }
        for event in events.iter() {
            match event.token() {
                WAKE => {}
                SHUTDOWN => self.drain(),
                LISTENER => woke(Woke::Listener),
                Token(key) => {
                    if let Some(held) = self.unpark(key) {
                        held.mark.idle(false);
                        woke(Woke::Resumed(held));
                    }
                }
            }
        }
        self.expire(Instant::now());
    }

    /// Register a connection's socket and its deadline. One whose socket cannot be
    /// registered is closed (as its deadline would have).
    fn put(&mut self, held: Box<Held>, until: Instant, expiry: Expiry) {
        let entry = self.parked.vacant_entry();
        let key = entry.key();
        let fd = held.stream.as_raw_fd();
        if let Err(err) =
            self.poll
                .registry()
                .register(&mut SourceFd(&fd), Token(key), Interest::READABLE)
        {
            tracing::debug!(%err, "could not park a connection; closing it");
            held.expired(false, &self.reaper);
            return;
        }
        held.mark
            .idle(expiry == Expiry::Idle && held.conn.served() > 0);
        entry.insert(Parked { held, until });
        self.timers.insert((until, key));
        if self.draining {
            self.redeadline(key);
        }
    }

    /// Take a connection out of the lot (its input arrived, or its time is up).
    fn unpark(&mut self, key: usize) -> Option<Box<Held>> {
        let parked = self.parked.try_remove(key)?;
        self.timers.remove(&(parked.until, key));
        let fd = parked.held.stream.as_raw_fd();
        // Deregistering a socket about to be closed or handed on cannot fail in a way that
        // matters: a closed descriptor leaves every epoll set by itself.
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        Some(parked.held)
    }

    /// Close every connection whose deadline has passed, as its `Conn` says.
    fn expire(&mut self, now: Instant) {
        while let Some(&(until, key)) = self.timers.first() {
            if until > now {
                break;
            }
            if let Some(held) = self.unpark(key) {
                held.expired(self.draining, &self.reaper);
            }
        }
    }

    /// The server started draining: every parked connection's wait is recomputed (an idle one
    /// gets the drain grace).
    fn drain(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        let keys: Vec<usize> = self.parked.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.redeadline(key);
        }
    }

    fn redeadline(&mut self, key: usize) {
        let Some(parked) = self.parked.get_mut(key) else {
            return;
        };
        let (until, _) = parked.held.conn.waiting_until(self.draining);
        if until != parked.until {
            self.timers.remove(&(parked.until, key));
            parked.until = until;
            self.timers.insert((until, key));
        }
    }
}
