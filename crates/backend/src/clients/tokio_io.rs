//! [`TokioClients`]: network calls are awaits on tokio's IO driver.

use super::drivers::TokioUpstream;
use super::{Cache, ClientSet};
use crate::connect::{Database, postgres_url};
use crate::memory_cache::MemoryCache;
use crate::postgres_async::PgAsyncPool;
use crate::redis_cache::RedisAsync;
use crate::{BackendConfig, BackendError};

/// Async models' clients: SQLite (a synchronous in-process call: CPU, not a network wait) or
/// `tokio-postgres`, the in-process cache (not remote) or one multiplexed async Redis
/// connection (remote), and a tokio socket for the upstream. While a call waits on the
/// network, the worker runs other tasks. Must be created and used inside a tokio runtime.
pub type TokioClients = ClientSet<PgAsyncPool, RedisAsync, TokioUpstream>;

impl TokioClients {
    /// Connect (lazily opened connections; one is opened now to fail fast). Does not create
    /// the schema: call [`crate::prepare`] first (except for `sqlite::memory:`, which is
    /// created and seeded here because it lives only as long as these clients).
    pub async fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        cfg.validate()?;
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
            db,
            cache,
            upstream: TokioUpstream,
        })
    }
}
