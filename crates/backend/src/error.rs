//! Backend failures.

/// A failed backend call.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The database, cache or upstream could not be reached or the pool is exhausted: the
    /// service answers 503 with this message.
    #[error("{0} unavailable: {1}")]
    Unavailable(&'static str, String),
    /// A query failed for another reason: 500.
    #[error("query failed: {0}")]
    Query(String),
    /// Bad configuration (unparseable URL, …).
    #[error("configuration: {0}")]
    Config(String),
}
