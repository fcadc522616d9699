//! [`AsyncClients`]: network calls are awaits on an async runtime `R`: tokio
//! ([`TokioClients`]) or the lab's own event loop ([`LoopClients`]).

use super::drivers::AsyncUpstream;
use super::{Cache, ClientSet};
use crate::connect::{Database, postgres_url};
use crate::memory_cache::MemoryCache;
use crate::postgres_async::PgAsyncPool;
use crate::redis_cache::RedisAsync;
use crate::runtime::{AsyncRuntime, LoopRt, TokioRt};
use crate::{BackendConfig, BackendError};

/// Async models' clients on runtime `R`: SQLite (a synchronous in-process call: CPU, not a
/// network wait) or `tokio-postgres`, the in-process cache (not remote) or one multiplexed
/// Redis connection (remote), and an `R` socket for the upstream. While a call waits on the
/// network, the thread runs other tasks. Create and use them on `R`.
pub type AsyncClients<R> = ClientSet<PgAsyncPool<R>, RedisAsync<R>, AsyncUpstream<R>>;

/// [`AsyncClients`] on tokio. Create and use them inside a tokio runtime.
pub type TokioClients = AsyncClients<TokioRt>;

/// [`AsyncClients`] on the event loop (`clab-event-loop`): PostgreSQL, Redis and the upstream
/// over the loop's own non-blocking sockets, their IO tasks on its executor, no helper thread.
/// Create and use them inside `clab_event_loop::Runtime::block_on`.
pub type LoopClients = AsyncClients<LoopRt>;

impl<R: AsyncRuntime> AsyncClients<R> {
    /// Connect (lazily opened connections; one is opened now to fail fast). Does not create
    /// the schema: call [`crate::prepare`] first (except for `sqlite::memory:`, which is
    /// created and seeded here because it lives only as long as these clients).
    pub async fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        cfg.validate()?;
        let db = match Database::sqlite(cfg) {
            Some(sqlite) => sqlite?,
            None => Database::Postgres(
                PgAsyncPool::<R>::connect(postgres_url(cfg), cfg.pool_size, cfg.io_timeout).await?,
            ),
        };
        let cache = match &cfg.redis_url {
            None => Cache::Memory(MemoryCache::new()),
            Some(url) => Cache::Redis(RedisAsync::<R>::connect(url, cfg.io_timeout).await?),
        };
        Ok(Self {
            db,
            cache,
            upstream: AsyncUpstream::new(cfg.io_timeout),
        })
    }
}
