//! [`BlockingClients`]: every call blocks the calling thread until its answer is in.

use super::drivers::BlockingUpstream;
use super::{Cache, ClientSet};
use crate::connect::{Database, postgres_url};
use crate::memory_cache::MemoryCache;
use crate::postgres_sync::PgPool;
use crate::redis_cache::RedisPool;
use crate::upstream::BlockingStream;
use crate::{BackendConfig, BackendError};

/// Thread models' clients: SQLite and a pool of blocking PostgreSQL connections, the in-process
/// cache (not remote) or a pool of sync Redis connections (remote), and a blocking std socket
/// for the upstream. Each call does its work before returning a ready future.
pub type BlockingClients = ClientSet<PgPool, RedisPool, BlockingUpstream<std::net::TcpStream>>;

/// Shared by [`BlockingClients`] and `MayClients`: the same blocking drivers, any blocking
/// upstream stream.
impl<S: BlockingStream + 'static> ClientSet<PgPool, RedisPool, BlockingUpstream<S>> {
    /// Connect (pools of blocking connections; one of each opened now to fail fast). Does not
    /// create the schema: call [`crate::prepare`] first (except for `sqlite::memory:`, which
    /// is created and seeded here because it lives only as long as these clients).
    ///
    /// On a thread inside a tokio runtime, PostgreSQL calls still work but each runs on a
    /// short-lived helper thread (the sync client cannot run there).
    pub fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        cfg.validate()?;
        let db = match Database::sqlite(cfg) {
            Some(sqlite) => sqlite?,
            None => Database::Postgres(PgPool::connect(
                postgres_url(cfg),
                cfg.pool_size,
                cfg.io_timeout,
            )?),
        };
        let cache = match &cfg.redis_url {
            None => Cache::Memory(MemoryCache::new()),
            Some(url) => Cache::Redis(RedisPool::connect(url, cfg.pool_size, cfg.io_timeout)?),
        };
        Ok(Self {
            db,
            cache,
            upstream: BlockingUpstream::new(cfg.io_timeout),
        })
    }
}
