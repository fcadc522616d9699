//! [`Parking`]: `thread-pool`'s connections that wait for input while other connections wait
//! for a worker, held off every worker on one thread's epoll until their input arrives or
//! their timeout passes.
//!
//! A pool of N workers that each own a connection for its whole life is beaten by N+1 clients
//! that send slowly or sit idle between requests: the classic defence (Apache's short
//! `KeepAliveTimeout`, cutting a slow head) frees the worker by *closing* the connection, and a
//! crowd that reconnects at once turns every close into a new connection queued in front of
//! the legitimate ones (measured: a legitimate client's p99 4–7x its baseline among 1,000 slow
//! connections, in every run). So when others wait for its thread, a worker that would wait
//! for input hands the connection here instead, with its [`Conn`] (the request read so far,
//! its clocks) and what it holds (its `--max-connections` place, its idle mark), and takes the
//! next connection from the queue. This thread watches every parked socket in one epoll set
//! (O(1) per event, however many are parked) with each connection's own deadline:
//! - input arrives (the rest of a head, the next request of a keep-alive client, or the EOF of
//!   a client that left): the connection goes back to the end of the worker queue
//!   (`resume`), and a worker reads it there; a full queue answers it 503 there;
//! - the deadline passes: the `Conn` says what that means (408 for a partial request, a quiet
//!   close for an idle or silent one) and the close lingers on the [`Reaper`];
//! - the server drains: idle connections get [`crate::conn::DRAIN_GRACE`], as on a worker.
//!
//! This is how Apache's event MPM and Tomcat's NIO connector keep a thread pool for requests
//! and not for connections. It stays the chapter's thread pool where it matters: a request in
//! a handler holds its worker until it is answered, N at a time, and a worker with no one
//! waiting for it still sleeps in `poll(2)` on its own connection (no hand-over, no extra
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
use std::collections::BTreeSet;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The waker's token (a hand-over arrived); slab keys never reach it.
const WAKE: Token = Token(usize::MAX);
/// The shutdown eventfd's token.
const SHUTDOWN: Token = Token(usize::MAX - 1);
/// After a failed `epoll_wait` (out of memory), before trying again.
const POLL_RETRY: Duration = Duration::from_millis(10);

/// A connection on its way to the parking thread: its deadline and what that deadline means.
struct Arrival {
    held: Box<Held>,
    until: Instant,
    expiry: Expiry,
}

/// A handle to the parking thread, shared by the workers.
pub struct Parking {
    /// `None` once the thread stopped taking connections (it drained; see [`Parking::park`]).
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
        shutdown: Shutdown,
        reaper: Reaper,
        resume: impl FnMut(Box<Held>) + Send + 'static,
    ) -> io::Result<(Arc<Self>, JoinHandle<()>)> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        let wake_fd = shutdown.wake_fd()?;
        poll.registry()
            .register(&mut SourceFd(&wake_fd), SHUTDOWN, Interest::READABLE)?;
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
                    Lot {
                        poll,
                        parked: Slab::new(),
                        timers: BTreeSet::new(),
                        draining: shutdown.is_triggered(),
                        reaper,
                    }
                    .run(&parking, &rx, resume);
                })?
        };
        Ok((parking, thread))
    }

    /// Park `held` until input arrives or `until` passes (meaning `expiry`). `Err` gives it
    /// back when the thread no longer takes connections (the server drained): the worker then
    /// waits on it itself.
    pub fn park(&self, held: Box<Held>, until: Instant, expiry: Expiry) -> Result<(), Box<Held>> {
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

    /// Stop taking connections if none is on its way; whether it stopped. Under the same lock
    /// as [`Parking::park`], so no connection can slip in after the last look at the channel.
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

/// One parked connection.
struct Parked {
    held: Box<Held>,
    until: Instant,
}

/// The parking thread's state.
struct Lot {
    poll: Poll,
    parked: Slab<Parked>,
    /// (deadline, slab key) of every parked connection, earliest first.
    timers: BTreeSet<(Instant, usize)>,
    draining: bool,
    reaper: Reaper,
}

impl Lot {
    fn run(mut self, parking: &Parking, rx: &Receiver<Arrival>, resume: impl FnMut(Box<Held>)) {
        let mut resume = Some(resume);
        let mut events = Events::with_capacity(1024);
        loop {
            while let Ok(arrival) = rx.try_recv() {
                self.park(arrival);
            }
            if self.draining && self.parked.is_empty() && parking.close_if_idle(rx) {
                // Nothing parked and nothing can come: let go of the queue, so the workers
                // see it end once the acceptor has let go too.
                drop(resume.take());
                return;
            }
            let timeout = self
                .timers
                .first()
                .map(|&(until, _)| until.saturating_duration_since(Instant::now()));
            if let Err(err) = self.poll.poll(&mut events, timeout) {
                if err.kind() != io::ErrorKind::Interrupted {
                    tracing::warn!(%err, "epoll on parked connections failed");
                    std::thread::sleep(POLL_RETRY);
                }
                continue;
            }
            for event in &events {
                match event.token() {
                    WAKE => {}
                    SHUTDOWN => self.drain(),
                    Token(key) => {
                        if let Some(held) = self.unpark(key) {
                            held.mark.idle(false);
                            if let Some(resume) = resume.as_mut() {
                                resume(held);
                            }
                        }
                    }
                }
            }
            self.expire(Instant::now());
        }
    }

    /// Register an arrival's socket and its deadline. A connection whose socket cannot be
    /// registered is closed (as its deadline would have).
    fn park(
        &mut self,
        Arrival {
            held,
            until,
            expiry,
        }: Arrival,
    ) {
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
