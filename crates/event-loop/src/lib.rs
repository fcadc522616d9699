//! The chapter's §07 event loop, built from its parts with nothing hidden: one thread, epoll,
//! and an executor of our own. No tokio runtime runs here (tokio is a dependency only for its
//! `AsyncRead`/`AsyncWrite` traits, which `tokio-postgres` and `redis` speak).
//!
//! | chapter's words | here |
//! |---|---|
//! | "ask the OS which sockets are ready" (epoll) | [`reactor`](crate::reactor) (`reactor.rs`), over `mio::Poll` |
//! | "the loop": run what is ready, then wait | [`Runtime`] (`executor.rs`) |
//! | "wake me when …": the ready queue | `waker.rs` |
//! | "in 100 ms": timers | `timers.rs` (the map), [`sleep`], [`timeout`] (`time.rs`) |
//! | non-blocking sockets | [`TcpListener`], [`TcpStream`] (`net.rs`) |
//! | callbacks | [`callbacks`] |
//!
//! Everything runs on the thread that calls [`Runtime::block_on`]; sockets, timers and
//! [`spawn`] panic if used from another thread. A [`std::task::Waker`] of a loop task may be
//! used from anywhere: other threads (a CPU pool) wake the loop through an eventfd.

pub mod callbacks;
mod context;
mod executor;
mod group;
mod net;
mod reactor;
mod stats;
mod time;
mod timers;
mod waker;

pub use executor::{Runtime, spawn};
pub use group::Group;
pub use net::{TcpListener, TcpStream};
pub use stats::{LoopSnapshot, LoopStats};
pub use time::{Elapsed, Sleep, sleep, sleep_until, timeout};

/// Whether this thread is running an event loop right now.
pub fn on_loop() -> bool {
    context::try_with(|_| ()).is_some()
}
