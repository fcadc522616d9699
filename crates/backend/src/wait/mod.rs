//! How a model waits: the one thing besides its clients that a model hands the service.
//!
//! [`crate::Services`] calls [`Wait::sleep`] for every simulated round trip and
//! [`Wait::run_cpu`] for CPU-heavy work, and waits on [`Wait::slots`] for a pooled connection
//! when a round trip holds one; nothing else in the crate sleeps or offloads. One file per
//! way of waiting:
//!
//! | file | type | sleep | run_cpu | slots |
//! |---|---|---|---|---|
//! | `thread.rs` | [`ThreadWait`] | `std::thread::sleep` in the call | inline | [`ThreadSlots`] |
//! | `tokio_timer.rs` | [`TokioWait`] | tokio timer | inline, or `spawn_blocking` | [`TaskSlots`] |
//! | `event_loop.rs` | [`LoopWait`] | a timer of the event loop (`clab-event-loop`) | inline (the loop freezes), or `cpu_pool.rs` | [`TaskSlots`] |
//! | `coroutine.rs` | `MayWait` (feature `coroutines`) | `may::coroutine::sleep` in the call | inline, or `cpu_pool.rs` | may's semaphore |
//!
//! `spawn` (a long-lived background task: the bank's owner) is a tokio task, a task of the
//! event loop, or, for threads and coroutines, an OS thread running [`crate::block_on`]
//! (`thread::spawn_owner`): their waits block in the call, which on a plain thread is a
//! plain blocking wait (may's sleep falls back to the thread's).

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

#[cfg(feature = "coroutines")]
mod coroutine;
mod cpu_pool;
mod event_loop;
mod slots;
mod thread;
mod tokio_timer;

#[cfg(feature = "coroutines")]
pub use coroutine::MayWait;
pub use event_loop::LoopWait;
pub use slots::{Slots, TaskSlots, ThreadSlots, Token};
pub use thread::ThreadWait;
pub use tokio_timer::TokioWait;

/// How a model waits out a simulated round trip and where its CPU work runs.
///
/// Both methods return `impl Future + Send` (not a bare `async fn`) so the handler futures
/// built on them stay `Send` for tokio's multi-thread runtime. A blocking implementation does
/// its waiting in the method body and returns `std::future::ready(..)`, so a handler still
/// completes on its first poll under a trivial `block_on`.
pub trait Wait: Send + Sync + 'static + Debug {
    /// `n` slots waited for this model's way (`slots.rs`): what a round trip holding a pooled
    /// connection waits on.
    type Slots: Slots;

    fn slots(&self, n: usize) -> Self::Slots;

    /// Wait `d`. Called only for a nonzero `d`: a zero sample never reaches the timer.
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;

    /// Run CPU-heavy `work` where this model's offload policy says; a panic in `work`
    /// continues in the caller, as it would inline.
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;

    /// Run `task` in the background for as long as it runs, in this model's world: the bank's
    /// `actor` owner (`bank/actor.rs`). Called from inside a request, so a runtime or loop
    /// is current.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static);

    /// Whether the thread CPU clock read around each poll of a request measures that request.
    /// True when waits either block the thread (threads: the clock stops while blocked) or
    /// return `Pending` (tasks: each poll is the request's alone). False for stackful
    /// coroutines: a wait parks the coroutine *inside* a poll while the carrier runs others,
    /// and it may resume on another carrier, so a per-poll reading mixes requests and threads.
    fn cpu_clock_per_poll(&self) -> bool {
        true
    }
}
