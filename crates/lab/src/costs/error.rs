//! The one error type of the cost measurements.

use std::io;

/// What can go wrong while measuring. Hitting a limit on purpose is *not* an error: the limit
/// probe reports it as a result ([`super::limit::LimitResult`]).
#[derive(Debug, thiserror::Error)]
pub enum CostsError {
    /// Reading a `/proc` or `/sys` file failed.
    #[error("reading {path}: {source}")]
    Proc {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A `/proc` file did not contain the field we need (kernel too old or too new).
    #[error("{path} has no field `{field}`")]
    MissingField {
        /// The file.
        path: String,
        /// The field name.
        field: String,
    },
    /// A system call a measurement depends on failed.
    #[error("{what}: {source}")]
    Os {
        /// What we were doing.
        what: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// A unit could not be created outside the limit probe (where failure is the result).
    #[error("creating a {unit} failed: {detail}")]
    Spawn {
        /// Which kind of unit.
        unit: &'static str,
        /// The error as text (it may come from a panic payload).
        detail: String,
    },
    /// A measured unit panicked or a channel closed early: the measurement is void.
    #[error("measurement broke: {0}")]
    Broken(String),
    /// `--raise-limits` needs root.
    #[error("--raise-limits needs root (it writes /proc/sys and restores it afterwards)")]
    NotRoot,
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, CostsError>;

impl CostsError {
    pub(crate) fn os(what: &'static str, source: io::Error) -> Self {
        Self::Os { what, source }
    }
}
