//! The one error type of the service, and the status code each variant answers with.

use crate::json;
use clab_backend::BackendError;
use clab_http::Response;

/// Why a request failed. Every variant maps to exactly one status code in
/// [`AppError::into_response`], so a handler never builds an error response by hand.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input (non-numeric id, bad JSON, out-of-range parameter). → 400.
    #[error("{0}")]
    BadRequest(String),
    /// Unknown route or unknown entity. → 404.
    #[error("{0}")]
    NotFound(String),
    /// Known route, method not supported. → 405 with `Allow` listing the route's methods.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The value of the `Allow` header.
        allow: &'static str,
    },
    /// A backend call failed: `Unavailable` → 503 with `Retry-After: 1`, anything else → 500.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A bug-shaped failure on our side (a hash that could not be computed, …). → 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The status code this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::Backend(BackendError::Unavailable(..)) => 503,
            Self::Backend(_) | Self::Internal(_) => 500,
        }
    }

    /// The JSON error response (`{"error": "..."}`) with the headers the status needs.
    pub fn into_response(self) -> Response {
        let status = self.status();
        match self {
            Self::MethodNotAllowed { allow } => {
                json::error(status, "method not allowed").with_header("Allow", allow)
            }
            // A client may retry soon: the pool or server may be back (RFC 9110 §10.2.3).
            Self::Backend(ref e @ BackendError::Unavailable(..)) => {
                json::error(status, &format!("service unavailable: {e}"))
                    .with_header("Retry-After", "1")
            }
            // Query/config errors may carry details of the deployment: log them, answer
            // with a generic message so nothing sensitive reaches the client.
            Self::Backend(ref e) => {
                tracing::error!(error = %e, "backend call failed");
                json::error(status, "internal error: backend call failed")
            }
            Self::Internal(ref msg) => {
                tracing::error!(error = %msg, "internal error");
                json::error(status, "internal error")
            }
            Self::BadRequest(msg) | Self::NotFound(msg) => json::error(status, &msg),
        }
    }
}

/// What every handler returns; the router turns the error side into a response.
pub type AppResult = Result<Response, AppError>;
