//! Races in one process: the chapter's lost-update counter (claim C18) and its fixes (C20),
//! on OS threads and on tokio tasks; and, across processes, the [`bank`] workload and checker
//! behind `clab race bank` (check-then-act on account balances, C19/C20/B01).
//!
//! Every strategy is one file and implements [`Counter`] (threads world) and, outside loom,
//! [`AsyncCounter`] (tasks world):
//! - [`racy`]: read, add, write back as separate steps (an atomic load, then a separate
//!   store): no data race in Rust's sense, but exactly the lost-update interleaving;
//! - [`mutex`]: the read-add-write under a lock (std's for threads, tokio's for tasks);
//! - [`atomic`]: one indivisible `fetch_add`;
//! - [`actor`]: one owner of the value, increments sent to it over a channel (the chapter's Go
//!   `counterService`), reads answered on a reply channel.
//!
//! The seam between the worlds: each uses its own locks and channels. A thread may block in
//! a `std` lock or `recv`; a task must not (it would stall its runtime worker), so the tasks
//! world uses tokio's `Mutex` and `mpsc`, whose waits yield to the runtime.
//!
//! [`run::run`] starts all workers of a run together (so they really overlap), counts, and
//! reports expected, actual and lost; [`report`] summarises several runs per strategy and
//! world. The threads world's types come from `clab-sync`'s facade, so `tests/loom_*.rs`
//! check the very code the runs use (`RUSTFLAGS="--cfg loom" cargo test -p clab-race --release`).

pub mod actor;
pub mod atomic;
#[cfg(not(loom))]
pub mod bank;
pub mod mutex;
pub mod racy;
#[cfg(not(loom))]
pub mod report;
#[cfg(not(loom))]
pub mod run;
#[cfg(not(loom))]
mod tasks;
#[cfg(not(loom))]
mod threads;

/// A counter that OS threads share by reference and increment by one.
pub trait Counter: Sync {
    fn increment(&self);
    fn get(&self) -> u64;
}

/// A counter that tokio tasks share through an `Arc` and increment by one.
#[cfg(not(loom))]
pub trait AsyncCounter: Send + Sync + 'static {
    fn increment(&self) -> impl Future<Output = ()> + Send;
    fn get(&self) -> impl Future<Output = u64> + Send;
}
