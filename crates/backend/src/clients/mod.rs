//! Which client answers: the database, cache and upstream calls of one model, behind
//! [`Clients`].
//!
//! The instantiations share one dispatch ([`ClientSet`]: SQLite or PostgreSQL, memory or
//! Redis) and differ only in the drivers they plug in (`drivers.rs`):
//!
//! | file | type | PostgreSQL | Redis | upstream socket |
//! |---|---|---|---|---|
//! | `blocking.rs` | [`BlockingClients`] | blocking `tokio-postgres` (a private runtime per connection), pooled | sync, pooled | std `TcpStream` |
//! | `async_io.rs` | [`TokioClients`] | `tokio-postgres` | multiplexed async | tokio `TcpStream` |
//! | `async_io.rs` | [`LoopClients`] | `tokio-postgres` on the loop's socket | multiplexed async on the loop's socket | the loop's `TcpStream` |
//! | `coroutine.rs` | `MayClients` (feature `coroutines`) | the blocking one (pins the carrier) | sync (pins the carrier) | `may::net::TcpStream` |
//!
//! SQLite is the same in-process call in all of them (see the `sqlite` module), and so is the
//! in-process memory cache. No client sleeps: the simulated round trip belongs to
//! [`crate::Services`].

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use crate::bank::{DbStatement, Guard, Pause};
use crate::connect::Database;
use crate::memory_cache::MemoryCache;
use crate::{
    Account, Activity, BackendError, BankOp, BankOutcome, NotifyReceipt, Order, UpstreamTarget,
    User,
};

mod async_io;
mod blocking;
#[cfg(feature = "coroutines")]
mod coroutine;
mod drivers;

pub use async_io::{AsyncClients, LoopClients, TokioClients};
pub use blocking::BlockingClients;
#[cfg(feature = "coroutines")]
pub use coroutine::{MAY_PINNING_NOTE, MayClients};

use drivers::UpstreamClient;
pub(crate) use drivers::{CacheClient, SqlClient};

/// The remote parts a model's handlers reach, one call each, with no simulated latency (that
/// is [`crate::Services`]' job). Every method returns `impl Future + Send` so handler futures
/// stay `Send`; a blocking implementation does its work by the first poll and returns a ready
/// future.
pub trait Clients: Send + Sync + 'static + Debug {
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
    fn activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send;
    /// Whether the cache is a network service (Redis: its calls pay a simulated round trip)
    /// or process memory (no network call, no round trip).
    fn cache_is_remote(&self) -> bool;
    /// Cache lookup.
    fn cache_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send;
    /// Cache fill, expiring after `ttl`.
    fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// One statement of the bank (`crate::bank`) on its own: its rows.
    fn bank_statement(
        &self,
        st: DbStatement,
    ) -> impl Future<Output = Result<Vec<Account>, BackendError>> + Send;
    /// One operation of the bank, protected by the database as `guard` says; `pause` is a
    /// simulated round trip, for a transaction to wait inside.
    fn bank_apply<Q: Pause>(
        &self,
        op: BankOp,
        guard: Guard,
        pause: &Q,
    ) -> impl Future<Output = Result<BankOutcome, BackendError>> + Send;
    /// The real upstream HTTP call. Only called with a configured target: a simulated
    /// receipt (no `--upstream-url`) is decided by [`crate::Services`], not here.
    fn notify(
        &self,
        target: &UpstreamTarget,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send;
}

/// The cache: process memory (same for every model) or a model's Redis client `R`.
#[derive(Debug)]
enum Cache<R> {
    Memory(MemoryCache),
    Redis(R),
}

/// One database, one cache and one upstream client: the dispatch over SQLite/PostgreSQL and
/// memory/Redis, written once for every model that plugs its drivers `P`, `R`, `U` in. Named
/// through its aliases ([`BlockingClients`], [`TokioClients`], `MayClients`).
#[derive(Debug)]
pub struct ClientSet<P, R, U> {
    db: Database<P>,
    cache: Cache<R>,
    upstream: U,
}

impl<P, R, U> ClientSet<P, R, U> {
    /// The SQLite database, if that is the database (for callback-style calls).
    pub(crate) fn sqlite(&self) -> Option<&crate::sqlite::SqliteDb> {
        match &self.db {
            Database::Sqlite(db) => Some(db),
            Database::Postgres(_) => None,
        }
    }
}

impl<P: SqlClient, R: CacheClient, U: UpstreamClient> Clients for ClientSet<P, R, U> {
    async fn user(&self, id: i64) -> Result<Option<User>, BackendError> {
        match &self.db {
            Database::Sqlite(db) => db.user(id),
            Database::Postgres(pg) => pg.user(id).await,
        }
    }

    async fn orders(&self, user_id: i64, limit: u32) -> Result<Vec<Order>, BackendError> {
        match &self.db {
            Database::Sqlite(db) => db.orders(user_id, limit),
            Database::Postgres(pg) => pg.orders(user_id, limit).await,
        }
    }

    async fn account(&self, user_id: i64) -> Result<Option<Account>, BackendError> {
        match &self.db {
            Database::Sqlite(db) => db.account(user_id),
            Database::Postgres(pg) => pg.account(user_id).await,
        }
    }

    async fn activity(&self, user_id: i64, limit: u32) -> Result<Vec<Activity>, BackendError> {
        match &self.db {
            Database::Sqlite(db) => db.activity(user_id, limit),
            Database::Postgres(pg) => pg.activity(user_id, limit).await,
        }
    }

    async fn bank_statement(&self, st: DbStatement) -> Result<Vec<Account>, BackendError> {
        match &self.db {
            Database::Sqlite(db) => db.bank_statement(st).await,
            Database::Postgres(pg) => pg.bank_statement(st).await,
        }
    }

    async fn bank_apply<Q: Pause>(
        &self,
        op: BankOp,
        guard: Guard,
        pause: &Q,
    ) -> Result<BankOutcome, BackendError> {
        match &self.db {
            Database::Sqlite(db) => db.bank_apply(op, guard, pause).await,
            Database::Postgres(pg) => pg.bank_apply(op, guard, pause).await,
        }
    }

    fn cache_is_remote(&self) -> bool {
        matches!(self.cache, Cache::Redis(_))
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        match &self.cache {
            Cache::Memory(m) => Ok(m.get(key)),
            Cache::Redis(r) => r.get(key).await,
        }
    }

    async fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        match &self.cache {
            Cache::Memory(m) => {
                m.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis(r) => r.set(key, &value, ttl).await,
        }
    }

    fn notify(
        &self,
        target: &UpstreamTarget,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send {
        self.upstream.post(target, user_id, message)
    }
}
