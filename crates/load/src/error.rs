//! The one error type of the crate: everything a user can get wrong, and every limit the
//! machine can impose, as a variant whose message fits on one line.

use std::io;

/// Errors of `clab-load`. Messages are written for the user of `clab load`: one line that
/// says what is wrong and, where a machine limit is involved, which knob moves it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The URL could not be understood (only `http://host[:port][/path]` is supported).
    #[error("bad URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    /// A duration such as `500ms`, `5s` or `2m` could not be parsed.
    #[error(
        "bad duration `{0}`: expected a number followed by ms, s, m or h (e.g. 500ms, 30s, 2m)"
    )]
    BadDuration(String),
    /// A `--target` spec, template or targets file is malformed.
    #[error("bad target `{spec}`: {reason}")]
    BadTarget { spec: String, reason: String },
    /// A header given with `-H` is not `Name: value`.
    #[error("bad header `{0}`: expected `Name: value`")]
    BadHeader(String),
    /// The schedule cannot be run (zero connections, a rate below one per connection-second, …).
    #[error("{0}")]
    BadSchedule(String),
    /// The targets file could not be read or parsed.
    #[error("targets file {path}: {reason}")]
    TargetsFile { path: String, reason: String },
    /// The host name did not resolve, or the first connection failed before the run started.
    #[error("cannot reach {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    /// A machine limit stops the run before it starts (file descriptors, …).
    #[error("{0}")]
    Limit(String),
    /// An OS error in the load generator itself (epoll, thread spawn).
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: io::Error,
    },
}

impl LoadError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| Self::Io { context, source }
    }
}
