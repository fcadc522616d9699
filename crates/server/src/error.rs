//! Why a model could not serve.

use clab_backend::BackendError;

/// A failure that stops [`crate::serve`]. Per-connection errors never surface here: a bad
/// client costs only its own connection.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A socket or thread operation failed (context says which).
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The backend could not be built (database unreachable, bad URL, …).
    #[error("backend: {0}")]
    Backend(#[from] BackendError),
    /// The options ask for something this model cannot do (e.g. `sync` with 4 workers).
    #[error("{0}")]
    Config(String),
}

impl ServerError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        move |source| Self::Io { context, source }
    }
}

/// `--model` named no model. The message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model `{given}`; valid models: {valid}")]
pub struct UnknownModel {
    pub given: String,
    pub valid: String,
}
