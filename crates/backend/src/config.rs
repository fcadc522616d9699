//! What the backend connects to.

use crate::LatencyProfile;

/// Where the database lives, parsed from `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (a file, created if missing).
    SqliteFile(std::path::PathBuf),
    /// `sqlite::memory:`: one in-memory database shared by the pool's connections.
    SqliteMemory,
    /// `postgres://…` / `postgresql://…` (kept verbatim, never logged).
    Postgres(String),
}

/// Where CPU-heavy work runs (see [`crate::Backend::run_cpu`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuPolicy {
    /// On the thread that runs the handler (blocks an event loop: the chapter's §07 warning).
    #[default]
    Inline,
    /// On a separate blocking pool (tokio `spawn_blocking`), freeing the async workers.
    BlockingPool,
}

/// Everything needed to build a backend.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub database: DatabaseUrl,
    /// `redis://…`; `None` means the in-process cache.
    pub redis_url: Option<String>,
    /// `http://host:port/path`; `None` means a simulated upstream call.
    pub upstream_url: Option<String>,
    /// Simulated network round trip added to every remote call.
    pub latency: LatencyProfile,
    /// Database connections in the pool.
    pub pool_size: usize,
    pub cpu_policy: CpuPolicy,
    /// Seed sizes (defaults: 10,000 users, 10 orders each).
    pub seed_users: u32,
    pub seed_orders_per_user: u32,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            database: DatabaseUrl::SqliteFile("clab.db".into()),
            redis_url: None,
            upstream_url: None,
            latency: LatencyProfile::None,
            pool_size: 16,
            cpu_policy: CpuPolicy::Inline,
            seed_users: 10_000,
            seed_orders_per_user: 10,
        }
    }
}
