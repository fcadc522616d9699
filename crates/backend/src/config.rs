//! What the backend connects to, parsed from the command line, and how it is named in output.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::{BackendError, LatencyProfile};

/// Where the database lives, parsed from `--database-url`. Its `Debug` output hides
/// credentials, like [`DatabaseUrl::describe`].
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (a file, created if missing).
    SqliteFile(std::path::PathBuf),
    /// `sqlite::memory:`: one in-memory database shared by the pool's connections.
    SqliteMemory,
    /// `postgres://…` / `postgresql://…` (kept verbatim, never logged).
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = BackendError;

    /// Accepts `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` (also `sqlite://:memory:`),
    /// `postgres://…` and `postgresql://…`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_owned()));
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            return match path {
                ":memory:" => Ok(Self::SqliteMemory),
                "" => Err(BackendError::Config(
                    "sqlite URL without a path: use sqlite://PATH or sqlite::memory:".into(),
                )),
                p => Ok(Self::SqliteFile(PathBuf::from(p))),
            };
        }
        Err(BackendError::Config(format!(
            "unsupported database URL {:?}: expected sqlite://PATH, sqlite::memory: or postgres://…",
            redact_url(s)
        )))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SqliteFile(p) => f.debug_tuple("SqliteFile").field(p).finish(),
            Self::SqliteMemory => f.write_str("SqliteMemory"),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
        }
    }
}

impl DatabaseUrl {
    /// How output names it: `sqlite clab.db (in-process)`, `postgres 127.0.0.1:5432/test`.
    /// Never contains credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::SqliteFile(p) => format!("sqlite {} (in-process)", p.display()),
            Self::SqliteMemory => "sqlite :memory: (in-process)".to_owned(),
            Self::Postgres(url) => format!("postgres {}", redact_url(url)),
        }
    }
}

/// Where CPU-heavy work runs (see [`crate::Backend::run_cpu`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuPolicy {
    /// On the thread that runs the handler (blocks an event loop: the chapter's §07 warning).
    #[default]
    Inline,
    /// On a separate blocking pool, freeing the workers that multiplex requests: tokio's
    /// `spawn_blocking`, or a small dedicated thread pool under may. Thread models run the
    /// work inline anyway (their caller is a thread that may block).
    BlockingPool,
}

/// Everything needed to build a backend. Its `Debug` output hides credentials in the URLs.
#[derive(Clone)]
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
    /// Each database call holds one of `pool_size` slots for its simulated round trip as well
    /// as its query, as a real query holds its connection while in flight (`wait/slots.rs`).
    /// Off: the round trip is waited out first and the pool is held only for the query.
    pub hold_connection: bool,
    pub cpu_policy: CpuPolicy,
    /// How the bank's check and act are protected (`--race-strategy`).
    pub race_strategy: crate::RaceStrategy,
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
            hold_connection: false,
            cpu_policy: CpuPolicy::Inline,
            race_strategy: crate::RaceStrategy::default(),
            seed_users: 10_000,
            seed_orders_per_user: 10,
        }
    }
}

impl std::fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |url: &Option<String>| url.as_deref().map(redact_url);
        f.debug_struct("BackendConfig")
            .field("database", &self.database)
            .field("redis_url", &redacted(&self.redis_url))
            .field("upstream_url", &redacted(&self.upstream_url))
            .field("latency", &self.latency)
            .field("pool_size", &self.pool_size)
            .field("hold_connection", &self.hold_connection)
            .field("cpu_policy", &self.cpu_policy)
            .field("race_strategy", &self.race_strategy)
            .field("seed_users", &self.seed_users)
            .field("seed_orders_per_user", &self.seed_orders_per_user)
            .finish()
    }
}

/// How long a caller waits for a free pooled connection before the call fails as
/// [`BackendError::Unavailable`] (a 503), instead of queueing without bound.
pub const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a connection to PostgreSQL, Redis or the upstream may take (unless the
/// PostgreSQL URL sets its own `connect_timeout`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one upstream HTTP exchange or Redis reply may take once connected.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

impl BackendConfig {
    /// Check what can be checked without connecting: pool size, URL schemes, seed sizes.
    pub fn validate(&self) -> Result<(), BackendError> {
        if self.pool_size == 0 || self.pool_size > 1024 {
            return Err(BackendError::Config(format!(
                "pool size {} out of range 1..=1024",
                self.pool_size
            )));
        }
        if self.seed_orders_per_user > 1000 {
            return Err(BackendError::Config(format!(
                "seed_orders_per_user {} is over 1000",
                self.seed_orders_per_user
            )));
        }
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://"))
        {
            return Err(BackendError::Config(format!(
                "unsupported Redis URL {:?}: expected redis://host:port",
                redact_url(url)
            )));
        }
        if let Some(url) = &self.upstream_url {
            crate::upstream::UpstreamTarget::parse(url)?;
        }
        self.race_strategy.check(&self.database)
    }

    /// The one-line description of [`crate::Backend::describe`], computed from the config alone.
    pub fn describe(&self) -> String {
        let cache = match &self.redis_url {
            Some(url) => format!("redis {}", redact_url(url)),
            None => "in-process".to_owned(),
        };
        let upstream = match &self.upstream_url {
            Some(url) => format!("POST {}", redact_url(url)),
            None => "simulated".to_owned(),
        };
        let latency = if self.latency.is_none() {
            "none (no simulated round trip)".to_owned()
        } else if self.hold_connection {
            format!(
                "{} per remote call, each database call holding one of {} pooled connections",
                self.latency, self.pool_size
            )
        } else {
            format!("{} per remote call", self.latency)
        };
        format!(
            "database: {} · cache: {cache} · upstream: {upstream} · latency: {latency}",
            self.database.describe()
        )
    }
}

/// `scheme://user:password@host:port/path?query` → `host:port/path`: what output may show.
/// Drops the scheme (the description names it), any user info and the query string (which
/// may carry `password=`).
pub fn redact_url(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        let ok = [
            (
                "sqlite://clab.db",
                DatabaseUrl::SqliteFile("clab.db".into()),
            ),
            (
                "sqlite:///tmp/x.db",
                DatabaseUrl::SqliteFile("/tmp/x.db".into()),
            ),
            (
                "sqlite:data/x.db",
                DatabaseUrl::SqliteFile("data/x.db".into()),
            ),
            ("sqlite::memory:", DatabaseUrl::SqliteMemory),
            ("sqlite://:memory:", DatabaseUrl::SqliteMemory),
            (
                "postgres://u:p@h/db",
                DatabaseUrl::Postgres("postgres://u:p@h/db".into()),
            ),
            (
                "postgresql://h/db",
                DatabaseUrl::Postgres("postgresql://h/db".into()),
            ),
        ];
        for (input, want) in ok {
            assert_eq!(input.parse::<DatabaseUrl>().unwrap(), want, "{input}");
        }
        for bad in ["mysql://h/db", "sqlite://", "sqlite:", "clab.db", ""] {
            assert!(bad.parse::<DatabaseUrl>().is_err(), "{bad:?}");
        }
        let msg = "mysql://root:hunter2@h/db"
            .parse::<DatabaseUrl>()
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn redaction_drops_credentials() {
        assert_eq!(
            redact_url("postgres://postgres:secret@127.0.0.1:5432/test?sslmode=disable"),
            "127.0.0.1:5432/test"
        );
        assert_eq!(redact_url("redis://:pw@127.0.0.1:6379"), "127.0.0.1:6379");
        assert_eq!(
            redact_url("http://127.0.0.1:9/notify"),
            "127.0.0.1:9/notify"
        );
    }

    #[test]
    fn describe_is_one_line_without_secrets() {
        let cfg = BackendConfig {
            database: "postgres://postgres:secret@127.0.0.1:5432/test"
                .parse()
                .unwrap(),
            redis_url: Some("redis://:pw@127.0.0.1:6379".into()),
            latency: "same-region".parse().unwrap(),
            ..BackendConfig::default()
        };
        let debug = format!("{cfg:?}");
        assert!(
            !debug.contains("secret") && !debug.contains("pw@"),
            "{debug}"
        );
        let line = cfg.describe();
        assert!(!line.contains("secret") && !line.contains("pw@") && !line.contains('\n'));
        assert_eq!(
            line,
            "database: postgres 127.0.0.1:5432/test · cache: redis 127.0.0.1:6379 · upstream: \
             simulated · latency: simulated round trip: same-region 20–30 ms per remote call"
        );
    }

    #[test]
    fn validate_refuses_nonsense() {
        let ok = BackendConfig::default();
        assert!(ok.validate().is_ok());
        let zero = BackendConfig {
            pool_size: 0,
            ..BackendConfig::default()
        };
        assert!(zero.validate().is_err());
        let redis = BackendConfig {
            redis_url: Some("http://x".into()),
            ..BackendConfig::default()
        };
        assert!(redis.validate().is_err());
        let up = BackendConfig {
            upstream_url: Some("https://x".into()),
            ..BackendConfig::default()
        };
        assert!(up.validate().is_err());
    }
}
