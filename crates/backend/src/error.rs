//! Backend failures.

/// A failed backend call.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The database, cache or upstream could not be reached or the pool is exhausted: the
    /// service answers 503 with this message. The first field names the part (`"database"`,
    /// `"cache"`, `"upstream"`); the message never contains credentials.
    #[error("{0} unavailable: {1}")]
    Unavailable(&'static str, String),
    /// A query failed for another reason: 500.
    #[error("query failed: {0}")]
    Query(String),
    /// Bad configuration (unparseable URL, …).
    #[error("configuration: {0}")]
    Config(String),
}

impl BackendError {
    /// True for [`BackendError::Unavailable`]: answer 503 (and perhaps `Retry-After`).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(..))
    }

    /// The HTTP status a handler should answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unavailable(..) => 503,
            Self::Query(_) | Self::Config(_) => 500,
        }
    }
}

/// `part` (`"database"`, `"cache"`, `"upstream"`) at `whom` did not answer within `deadline`:
/// the one wording of a dependency that hangs, whichever driver noticed.
pub(crate) fn no_answer(
    part: &'static str,
    whom: impl std::fmt::Display,
    deadline: std::time::Duration,
) -> BackendError {
    BackendError::Unavailable(part, format!("{whom}: no answer within {deadline:?}"))
}

impl From<rusqlite::Error> for BackendError {
    /// SQLite is in-process: it is never "unreachable", except a database locked longer than
    /// the busy timeout, which is a capacity problem like an exhausted pool.
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Unavailable("database", format!("sqlite: {e}"))
            }
            _ => Self::Query(format!("sqlite: {e}")),
        }
    }
}

impl From<tokio_postgres::Error> for BackendError {
    /// A lost or refused connection is `Unavailable`; an error the server sent about the
    /// statement itself is `Query`. tokio-postgres messages carry no connection strings.
    fn from(e: tokio_postgres::Error) -> Self {
        if e.as_db_error().is_none() {
            Self::Unavailable("database", format!("postgres: {e}"))
        } else {
            Self::Query(format!("postgres: {e}"))
        }
    }
}

impl From<redis::RedisError> for BackendError {
    fn from(e: redis::RedisError) -> Self {
        Self::Unavailable("cache", format!("redis: {e}"))
    }
}
