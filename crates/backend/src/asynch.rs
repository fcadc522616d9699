//! [`AsyncBackend`]: waits are real awaits on tokio.

use std::sync::Arc;
use std::time::Duration;

use crate::connect::{Database, Parts, postgres_url};
use crate::memory_cache::MemoryCache;
use crate::postgres_async::PgAsyncPool;
use crate::redis_cache::RedisAsync;
use crate::{
    Account, Activity, Backend, BackendConfig, BackendError, CpuPolicy, NotifyReceipt, Order, User,
    upstream,
};

/// Tokio implementation: the simulated round trip is a tokio timer, PostgreSQL is
/// `tokio-postgres`, Redis a multiplexed async connection, the upstream a tokio socket. While
/// a call waits, the worker thread runs other tasks. SQLite stays a synchronous in-process
/// call (see the `sqlite` module: CPU work, not a network wait).
///
/// Must be created and used inside a tokio runtime. Cheap to clone (one `Arc`);
/// `Send + Sync`.
#[derive(Debug, Clone)]
pub struct AsyncBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    parts: Parts,
    db: Database<PgAsyncPool>,
    cache: Cache,
}

#[derive(Debug)]
enum Cache {
    Memory(MemoryCache),
    Redis(RedisAsync),
}

impl AsyncBackend {
    /// Connect (lazily opened connections; one is opened now to fail fast). Does not create
    /// the schema: call [`crate::prepare`] first (except for `sqlite::memory:`, which is
    /// created and seeded here because it lives only as long as this backend).
    pub async fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        let parts = Parts::new(cfg)?;
        let db = match Database::sqlite(cfg) {
            Some(sqlite) => sqlite?,
            None => {
                Database::Postgres(PgAsyncPool::connect(postgres_url(cfg), cfg.pool_size).await?)
            }
        };
        let cache = match &cfg.redis_url {
            None => Cache::Memory(MemoryCache::new()),
            Some(url) => Cache::Redis(RedisAsync::connect(url).await?),
        };
        Ok(Self {
            inner: Arc::new(Inner { parts, db, cache }),
        })
    }

    /// The simulated round trip every remote call waits before its real work.
    async fn round_trip(&self) {
        self.inner.parts.latency.sleep_async().await;
    }
}

impl Backend for AsyncBackend {
    async fn user(&self, id: i64) -> Result<Option<User>, BackendError> {
        self.round_trip().await;
        match &self.inner.db {
            Database::Sqlite(db) => db.user(id),
            Database::Postgres(pg) => pg.user(id).await,
        }
    }

    async fn orders(&self, user_id: i64, limit: u32) -> Result<Vec<Order>, BackendError> {
        self.round_trip().await;
        match &self.inner.db {
            Database::Sqlite(db) => db.orders(user_id, limit),
            Database::Postgres(pg) => pg.orders(user_id, limit).await,
        }
    }

    async fn account(&self, user_id: i64) -> Result<Option<Account>, BackendError> {
        self.round_trip().await;
        match &self.inner.db {
            Database::Sqlite(db) => db.account(user_id),
            Database::Postgres(pg) => pg.account(user_id).await,
        }
    }

    async fn recent_activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> Result<Vec<Activity>, BackendError> {
        self.round_trip().await;
        match &self.inner.db {
            Database::Sqlite(db) => db.activity(user_id, limit),
            Database::Postgres(pg) => pg.activity(user_id, limit).await,
        }
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        match &self.inner.cache {
            Cache::Memory(m) => Ok(m.get(key)),
            Cache::Redis(r) => {
                self.round_trip().await;
                r.get(key).await
            }
        }
    }

    async fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        match &self.inner.cache {
            Cache::Memory(m) => {
                m.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis(r) => {
                self.round_trip().await;
                r.set(key, &value, ttl).await
            }
        }
    }

    async fn notify(&self, user_id: i64, message: &str) -> Result<NotifyReceipt, BackendError> {
        self.round_trip().await;
        match &self.inner.parts.upstream {
            None => Ok(upstream::simulated_receipt()),
            Some(target) => upstream::post_async(target, user_id, message).await,
        }
    }

    /// `Inline`: run it in the task (blocking this worker meanwhile, the chapter's §07
    /// warning). `BlockingPool`: `spawn_blocking`, so the async workers keep serving.
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let policy = self.inner.parts.cpu_policy;
        async move {
            match policy {
                CpuPolicy::Inline => work(),
                CpuPolicy::BlockingPool => match tokio::task::spawn_blocking(work).await {
                    Ok(r) => r,
                    // The work panicked: let the panic continue in the caller, as inline would.
                    Err(e) => match e.try_into_panic() {
                        Ok(panic) => std::panic::resume_unwind(panic),
                        Err(_) => panic!("the blocking pool shut down under run_cpu"),
                    },
                },
            }
        }
    }

    fn describe(&self) -> String {
        self.inner.parts.description.clone()
    }
}
