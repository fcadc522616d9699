//! One file per way of moving a connection's bytes. A driver performs the syscalls a
//! [`crate::conn::Conn`] asks for and decides nothing itself, so models that share a driver
//! behave the same at their edges and models that do not still follow the same protocol.
//!
//! - [`blocking`]: one OS thread owns the connection and sleeps in `poll(2)` (thread models);
//!   `thread-pool` and `sync` park a connection that would keep others waiting for its thread
//!   on [`parking`]'s epoll until its input arrives.
//! - [`nonblocking`]: a task per connection over a non-blocking socket: tokio's (the tokio
//!   models) or the lab's own event loop's (`event-loop`), one driver over [`nonblocking::Socket`].
//! - [`may`]: a may coroutine per connection, blocking-style calls that park the coroutine
//!   (the `coroutines` model).

pub mod blocking;
#[cfg(feature = "coroutines")]
pub mod may;
pub mod nonblocking;
pub mod parking;
mod poll;
pub mod reaper;

pub(crate) use poll::{IN as POLL_IN, wait as poll_wait};
