//! The service's view of the outside world: database, cache, upstream API, simulated latency.
//!
//! # Brief overview
//! - [`Backend`]: the trait handlers are written against. Every method returns
//!   `impl Future + Send` (not a bare `async fn`) so handler futures stay `Send` for tokio's
//!   multi-thread runtime.
//! - [`Services<W, C>`](Services): the one implementation of [`Backend`]. A model hands it
//!   two things: how to wait (`W:` [`Wait`], `src/wait/`) and which clients answer
//!   (`C:` [`Clients`], `src/clients/`); the dispatch and the round-trip table are written
//!   once, in `services.rs`. [`Services::new`] builds one for any model's pair.
//! - [`BlockingBackend`] `= Services<ThreadWait, BlockingClients>`: every call blocks the
//!   calling OS thread (blocking clients, `std::thread::sleep` for a simulated round trip)
//!   and returns `std::future::ready(..)`, so a handler completes on its first poll under a
//!   trivial `block_on`: the thread really sits in the kernel, as in the chapter's thread
//!   models.
//! - [`AsyncBackend`] `= Services<TokioWait, TokioClients>`: waits are real awaits on tokio
//!   (tokio timers, `tokio-postgres`, async Redis, a tokio socket for the upstream).
//! - [`LoopBackend`] `= Services<LoopWait, LoopClients>`: waits are awaits on the lab's own
//!   event loop (`clab-event-loop`): its timers, and `tokio-postgres`, Redis and the upstream
//!   over its own sockets (the async clients are written once over [`runtime::AsyncRuntime`]:
//!   tokio or the loop).
//! - `MayBackend = Services<MayWait, MayClients>` (feature `coroutines`, on by default):
//!   waits park a may coroutine; PostgreSQL and Redis pin its carrier ([`MAY_PINNING_NOTE`]).
//! - [`BackendConfig`], [`DatabaseUrl`], [`LatencyProfile`], [`CpuPolicy`]: what to connect
//!   to, how far away it pretends to be, where CPU work runs; all parse from command-line text.
//! - [`prepare`]: create the schema and seed data once, idempotently.
//! - [`BackendError`]: `Unavailable` (answer 503: unreachable, pool exhausted), `Query` (500),
//!   `Config`.
//!
//! # Which calls pay the simulated round trip
//! Every *remote* call waits one round trip drawn from the [`LatencyProfile`], before its real
//! work, and nothing else does. This table is implemented in one place, `services.rs`
//! ([`Services`]), for every model:
//!
//! | call | round trip? | why |
//! |---|---|---|
//! | `user`, `orders`, `account`, `recent_activity` on SQLite | yes | SQLite runs in-process; the profile stands in for the network the chapter's database sits behind |
//! | the same on PostgreSQL | yes, on top of the real socket round trip | to place a local server "same-region" or "cross-region" |
//! | `cache_get`/`cache_set` on Redis | yes, on top of the real one | a network cache ([`Clients::cache_is_remote`]) |
//! | `cache_get`/`cache_set` in-process | **no** | process memory is not a network call |
//! | `notify` simulated | yes (that *is* the call) | the external API |
//! | `notify` to `--upstream-url` | yes, on top of the real HTTP exchange | |
//! | `run_cpu` | no | CPU work, not a wait (it goes to the [`Wait`]'s offload policy) |
//!
//! With `--latency none` no call sleeps at all (no timer, no syscall).
//!
//! # Where the parts live
//! `sqlite` (pool, queries, schema, seed on SQLite), `pg` + `postgres_sync` +
//! `postgres_async` (PostgreSQL), `queries` (the SQL and row mapping, written once),
//! `seed` (deterministic data), `pool` (the blocking checkout pool), `memory_cache`,
//! `redis_cache`, `upstream` (simulated or real HTTP), `runtime` (tokio or the event loop,
//! for the async clients), `latency`, `config`; `wait/` (one file
//! per way of waiting), `clients/` (one file per set of drivers, one shared dispatch),
//! `services` (the one `Backend`), `backends` (the named instantiations and their `connect`).

mod backends;
pub mod bank;
mod block_on;
mod callbacks;
mod clients;
mod config;
mod connect;
mod error;
mod latency;
mod memory_cache;
mod model;
mod pg;
mod pool;
mod postgres_async;
mod postgres_sync;
mod queries;
mod redis_cache;
pub mod runtime;
mod seed;
mod services;
mod sqlite;
mod upstream;
mod wait;

#[cfg(feature = "coroutines")]
pub use backends::MayBackend;
pub use backends::{AsyncBackend, BlockingBackend, LoopBackend};
pub use bank::{BankOp, BankOutcome, MAX_AMOUNT_CENTS, RaceStrategy};
pub use block_on::block_on;
pub use callbacks::{CallbackQueries, Then};
pub use clients::{AsyncClients, BlockingClients, Clients, LoopClients, TokioClients};
#[cfg(feature = "coroutines")]
pub use clients::{MAY_PINNING_NOTE, MayClients};
pub use config::{
    BackendConfig, CONNECT_TIMEOUT, CpuPolicy, DatabaseUrl, IO_TIMEOUT, POOL_CHECKOUT_TIMEOUT,
    redact_url,
};
pub use error::BackendError;
pub use latency::{LatencyProfile, ParseLatencyError};
pub use model::{Account, Activity, NotifyReceipt, Order, User};
pub use services::Services;
pub use upstream::UpstreamTarget;
#[cfg(feature = "coroutines")]
pub use wait::MayWait;
pub use wait::{LoopWait, Slots, TaskSlots, ThreadSlots, ThreadWait, Token, TokioWait, Wait};

use std::future::Future;
use std::time::Duration;

/// Everything a handler may ask of the outside world. Implemented once, by [`Services`], for
/// every model.
pub trait Backend: Send + Sync + 'static {
    /// `SELECT` one user by id.
    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send;
    /// The user's most recent orders, newest first, at most `limit`.
    fn orders(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send;
    /// The user's account (balance).
    fn account(
        &self,
        user_id: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send;
    /// The user's recent activity, newest first, at most `limit`.
    fn recent_activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send;
    /// Cache lookup (in-process map or Redis `GET`).
    fn cache_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send;
    /// Cache fill (in-process map or Redis `SET .. PX ttl`).
    fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// The external API call (a notification/email service): simulated unless an upstream URL
    /// is configured.
    fn notify(
        &self,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send;
    /// A bank operation under the backend's [`RaceStrategy`] (`bank/`).
    fn bank(&self, op: BankOp) -> impl Future<Output = Result<BankOutcome, BackendError>> + Send;
    /// The balances of accounts `from..=to`, read in one statement (one snapshot).
    fn accounts(
        &self,
        from: i64,
        to: i64,
    ) -> impl Future<Output = Result<Vec<Account>, BackendError>> + Send;
    /// How this backend protects the bank's check and act.
    fn race_strategy(&self) -> RaceStrategy;
    /// Run CPU-heavy work where the model's offload policy says (inline, or a blocking pool).
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;
    /// One line for the startup banner and reports: database, cache, upstream, latency
    /// (simulations named as such). Never contains credentials.
    fn describe(&self) -> String;
    /// Whether a request's CPU time can be measured by summing the thread CPU clock over its
    /// polls (see [`Wait::cpu_clock_per_poll`]); when not, reports say "unknown" rather than
    /// print a wrong figure.
    fn cpu_time_measurable(&self) -> bool {
        true
    }
}

/// Create the schema if missing and seed it (10,000 users, ~10 orders each, accounts) if it is
/// empty. Idempotent; never wipes existing data. Blocking; call before serving.
///
/// - SQLite file: one `IMMEDIATE` transaction (two processes preparing at once serialise on
///   SQLite's write lock).
/// - PostgreSQL: one transaction under an advisory lock, seed by `COPY`; safe to call from
///   inside a tokio runtime (the sync client runs on its own scoped thread).
/// - `sqlite::memory:`: nothing to do here; each backend's `connect` creates and seeds its own
///   in-memory database, which lives as long as that backend.
pub fn prepare(cfg: &BackendConfig) -> Result<(), BackendError> {
    cfg.validate()?;
    match &cfg.database {
        DatabaseUrl::SqliteFile(path) => {
            sqlite::prepare_file(path, cfg.seed_users, cfg.seed_orders_per_user)
        }
        DatabaseUrl::SqliteMemory => Ok(()),
        DatabaseUrl::Postgres(url) => pg::prepare(url, cfg.seed_users, cfg.seed_orders_per_user),
    }
}
