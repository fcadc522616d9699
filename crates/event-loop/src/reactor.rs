//! The **reactor**: epoll (through `mio::Poll`) and what the loop knows of each socket.
//!
//! The chapter's loop "asks the OS which sockets are ready". Every socket of the loop (the
//! listener, each client connection, each outgoing connection to PostgreSQL, Redis or the
//! upstream) is registered once, edge-triggered, and gets a slot here holding:
//! - its **readiness**: what epoll last said it can do. A read or write that then returns
//!   `WouldBlock` clears the bit (the edge was consumed); the next epoll event sets it again.
//!   A read on a socket whose bit is clear is not even attempted, so a task never makes a
//!   syscall that is known to fail;
//! - who **waits** on it, one per direction: a task's waker, or a callback
//!   ([`crate::callbacks`]);
//! - whether it is registered for **writability**. Sockets are registered for reads only; a
//!   write that blocks (the peer stopped reading, or a connect in progress) adds write
//!   interest, and the next write that goes through removes it, so epoll does not report
//!   "writable" after every response of every connection.

use std::io;
use std::task::{Context, Poll};
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Token};
use slab::Slab;

use crate::timers::Action;

/// The token of the `mio::Waker` (cross-thread wakes); slab indices never reach it.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

const READ: u8 = 1;
const WRITE: u8 = 2;

/// One direction of a socket: read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    fn bit(self) -> u8 {
        match self {
            Direction::Read => READ,
            Direction::Write => WRITE,
        }
    }
}

#[derive(Default)]
struct IoSlot {
    ready: u8,
    reader: Option<Action>,
    writer: Option<Action>,
    write_interest: bool,
}

impl IoSlot {
    fn waiter(&mut self, dir: Direction) -> &mut Option<Action> {
        match dir {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

pub(crate) struct Reactor {
    poll: mio::Poll,
    events: Events,
    slots: Slab<IoSlot>,
}

impl Reactor {
    pub(crate) fn new(capacity: usize) -> io::Result<(Self, mio::Waker)> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        Ok((
            Self {
                poll,
                events: Events::with_capacity(1024),
                slots: Slab::with_capacity(capacity),
            },
            waker,
        ))
    }

    /// Register a socket for reads. `writable`: it can be written at once (an accepted
    /// connection); otherwise (a connect in progress) it is registered for writes too, and
    /// the first "writable" says the connect finished.
    pub(crate) fn register(
        &mut self,
        source: &mut impl Source,
        writable: bool,
    ) -> io::Result<usize> {
        let entry = self.slots.vacant_entry();
        let token = entry.key();
        let interest = if writable {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        self.poll
            .registry()
            .register(source, Token(token), interest)?;
        entry.insert(IoSlot {
            ready: if writable { WRITE } else { 0 },
            write_interest: !writable,
            ..IoSlot::default()
        });
        Ok(token)
    }

    /// Forget a socket (before it is closed). Its waiters are dropped, not woken: whoever
    /// owned the socket is the one dropping it.
    pub(crate) fn deregister(&mut self, source: &mut impl Source, token: usize) {
        let _ = self.poll.registry().deregister(source);
        self.slots.try_remove(token);
    }

    pub(crate) fn is_ready(&self, token: usize, dir: Direction) -> bool {
        self.slots[token].ready & dir.bit() != 0
    }

    /// Ready now, or remember `cx`'s waker for when epoll says so.
    pub(crate) fn poll_ready(
        &mut self,
        token: usize,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let slot = &mut self.slots[token];
        if slot.ready & dir.bit() != 0 {
            return Poll::Ready(());
        }
        match slot.waiter(dir) {
            Some(Action::Wake(w)) if w.will_wake(cx.waker()) => {}
            waiter => *waiter = Some(Action::Wake(cx.waker().clone())),
        }
        Poll::Pending
    }

    /// Run `callback` once the socket is ready in `dir` (at once if it already is: queued
    /// for the loop's next turn through `ready_calls`).
    pub(crate) fn on_ready(
        &mut self,
        token: usize,
        dir: Direction,
        callback: Box<dyn FnOnce()>,
    ) -> Option<Box<dyn FnOnce()>> {
        let slot = &mut self.slots[token];
        if slot.ready & dir.bit() != 0 {
            return Some(callback);
        }
        *slot.waiter(dir) = Some(Action::Call(callback));
        None
    }

    /// A syscall in `dir` returned `WouldBlock`: the readiness is used up. A blocked write
    /// also registers write interest (see the module docs).
    pub(crate) fn clear(
        &mut self,
        source: &mut impl Source,
        token: usize,
        dir: Direction,
    ) -> io::Result<()> {
        let slot = &mut self.slots[token];
        slot.ready &= !dir.bit();
        if dir == Direction::Write && !slot.write_interest {
            slot.write_interest = true;
            self.poll.registry().reregister(
                source,
                Token(token),
                Interest::READABLE | Interest::WRITABLE,
            )?;
        }
        Ok(())
    }

    /// A write went through: drop the write interest a blocked write added.
    pub(crate) fn wrote(&mut self, source: &mut impl Source, token: usize) -> io::Result<()> {
        let slot = &mut self.slots[token];
        if slot.write_interest {
            slot.write_interest = false;
            self.poll
                .registry()
                .reregister(source, Token(token), Interest::READABLE)?;
        }
        Ok(())
    }

    /// Wait in `epoll_wait` for at most `timeout` (`None`: until an event), then record the
    /// readiness each event brings and collect its waiters into `woken`. `true` if the
    /// cross-thread waker fired.
    pub(crate) fn poll(
        &mut self,
        timeout: Option<Duration>,
        woken: &mut Vec<Action>,
    ) -> io::Result<bool> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal arrived (SIGTERM for the drain): a turn with no events.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(e),
        }
        let mut remote = false;
        for event in &self.events {
            if event.token() == WAKER_TOKEN {
                remote = true;
                continue;
            }
            let Some(slot) = self.slots.get_mut(event.token().0) else {
                continue;
            };
            // Closed and error count as ready: the next read or write reports them.
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                slot.ready |= READ;
                woken.extend(slot.reader.take());
            }
            if event.is_writable() || event.is_write_closed() || event.is_error() {
                slot.ready |= WRITE;
                woken.extend(slot.writer.take());
            }
        }
        Ok(remote)
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}
