//! One file per way of moving a connection's bytes. A driver performs the syscalls a
//! [`crate::conn::Conn`] asks for and decides nothing itself, so models that share a driver
//! behave the same at their edges and models that do not still follow the same protocol.
//!
//! - [`blocking`]: one OS thread owns the connection and sleeps in `poll(2)` (thread models).
//! - [`tokio`]: a tokio task per connection (the tokio models).
//! - [`may`]: a may coroutine per connection, blocking-style calls that park the coroutine
//!   (the `coroutines` model).

pub mod blocking;
#[cfg(feature = "coroutines")]
pub mod may;
mod poll;
pub mod tokio;

pub(crate) use poll::{IN as POLL_IN, wait as poll_wait};
