//! What every model builds the same way from a [`BackendConfig`]: the database choice (for
//! the clients), and the upstream target, latency profile and description line (for
//! [`crate::Services`]).

use crate::sqlite::SqliteDb;
use crate::upstream::UpstreamTarget;
use crate::{BackendConfig, BackendError, LatencyProfile};

/// The database, SQLite (same code for every model) or a model's PostgreSQL client `P`.
/// One per backend, inside its `Arc`: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Database<P> {
    Sqlite(SqliteDb),
    Postgres(P),
}

impl<P> Database<P> {
    /// SQLite for a SQLite URL; `None` for PostgreSQL, whose client the caller opens its way.
    pub(crate) fn sqlite(cfg: &BackendConfig) -> Option<Result<Self, BackendError>> {
        match &cfg.database {
            crate::DatabaseUrl::Postgres(_) => None,
            url => Some(
                SqliteDb::open(url, cfg.pool_size, cfg.seed_users, cfg.seed_orders_per_user)
                    .map(Self::Sqlite),
            ),
        }
    }
}

/// The plain-data parts of a backend, owned by [`crate::Services`].
#[derive(Debug)]
pub(crate) struct Parts {
    pub latency: LatencyProfile,
    /// `None`: the upstream call is simulated.
    pub upstream: Option<UpstreamTarget>,
    pub description: String,
}

impl Parts {
    pub(crate) fn new(cfg: &BackendConfig) -> Result<Self, BackendError> {
        cfg.validate()?;
        Ok(Self {
            latency: cfg.latency,
            upstream: cfg
                .upstream_url
                .as_deref()
                .map(UpstreamTarget::parse)
                .transpose()?,
            description: cfg.describe(),
        })
    }
}

/// The PostgreSQL URL of a config that is not SQLite (empty otherwise, which fails to parse).
pub(crate) fn postgres_url(cfg: &BackendConfig) -> &str {
    match &cfg.database {
        crate::DatabaseUrl::Postgres(url) => url,
        _ => "",
    }
}
