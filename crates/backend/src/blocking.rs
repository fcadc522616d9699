//! [`BlockingBackend`]: every call blocks the calling OS thread, then returns a ready future.

use std::future::{Future, ready};
use std::sync::Arc;
use std::time::Duration;

use crate::connect::{Database, Parts, postgres_url};
use crate::memory_cache::MemoryCache;
use crate::redis_cache::RedisPool;
use crate::{
    Account, Activity, Backend, BackendConfig, BackendError, NotifyReceipt, Order, User,
    postgres_sync, upstream,
};

/// Blocking implementation: a blocking SQL client, `std::thread::sleep` for the simulated
/// round trip, a blocking Redis connection pool, a blocking upstream socket. Each method does
/// its work in its body and returns `std::future::ready(..)`, so a handler completes on its
/// first poll under a trivial `block_on` while the thread really sat in the kernel.
///
/// Cheap to clone (one `Arc`); `Send + Sync`.
#[derive(Debug, Clone)]
pub struct BlockingBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    parts: Parts,
    db: Database<postgres_sync::PgPool>,
    cache: Cache,
}

#[derive(Debug)]
enum Cache {
    Memory(MemoryCache),
    Redis(RedisPool),
}

impl BlockingBackend {
    /// Connect (pool of blocking connections). Does not create the schema: call
    /// [`crate::prepare`] first (except for `sqlite::memory:`, which is created and seeded
    /// here because it lives only as long as this backend).
    ///
    /// Meant for plain OS threads. On a thread inside a tokio runtime, PostgreSQL calls still
    /// work but each runs on a short-lived helper thread (the sync client cannot run there).
    pub fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        let parts = Parts::new(cfg)?;
        let db = match Database::sqlite(cfg) {
            Some(sqlite) => sqlite?,
            None => Database::Postgres(postgres_sync::PgPool::connect(
                postgres_url(cfg),
                cfg.pool_size,
            )?),
        };
        let cache = match &cfg.redis_url {
            None => Cache::Memory(MemoryCache::new()),
            Some(url) => Cache::Redis(RedisPool::connect(url, cfg.pool_size)?),
        };
        Ok(Self {
            inner: Arc::new(Inner { parts, db, cache }),
        })
    }

    /// One remote call: the simulated round trip, then the real work.
    fn remote<T>(&self, work: impl FnOnce(&Inner) -> T) -> T {
        self.inner.parts.latency.sleep_blocking();
        work(&self.inner)
    }
}

impl Backend for BlockingBackend {
    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send {
        ready(self.remote(|i| match &i.db {
            Database::Sqlite(db) => db.user(id),
            Database::Postgres(pg) => pg.user(id),
        }))
    }

    fn orders(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send {
        ready(self.remote(|i| match &i.db {
            Database::Sqlite(db) => db.orders(user_id, limit),
            Database::Postgres(pg) => pg.orders(user_id, limit),
        }))
    }

    fn account(
        &self,
        user_id: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send {
        ready(self.remote(|i| match &i.db {
            Database::Sqlite(db) => db.account(user_id),
            Database::Postgres(pg) => pg.account(user_id),
        }))
    }

    fn recent_activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send {
        ready(self.remote(|i| match &i.db {
            Database::Sqlite(db) => db.activity(user_id, limit),
            Database::Postgres(pg) => pg.activity(user_id, limit),
        }))
    }

    fn cache_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send {
        ready(match &self.inner.cache {
            Cache::Memory(m) => Ok(m.get(key)),
            Cache::Redis(r) => self.remote(|_| r.get(key)),
        })
    }

    fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        ready(match &self.inner.cache {
            Cache::Memory(m) => {
                m.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis(r) => self.remote(|_| r.set(key, &value, ttl)),
        })
    }

    fn notify(
        &self,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send {
        ready(self.remote(|i| match &i.parts.upstream {
            None => Ok(upstream::simulated_receipt()),
            Some(target) => upstream::post_blocking(target, user_id, message),
        }))
    }

    /// Inline under either policy: the calling thread is already a worker that may block.
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        ready(work())
    }

    fn describe(&self) -> String {
        self.inner.parts.description.clone()
    }
}
