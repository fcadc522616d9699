//! JSON response helpers: one place that serialises bodies and error objects.

use crate::error::AppError;
use clab_http::Response;
use serde::Serialize;

/// Serialise `value` into a JSON response with the given status.
pub fn to_response<T: Serialize + ?Sized>(status: u16, value: &T) -> Result<Response, AppError> {
    serde_json::to_vec(value)
        .map(|body| Response::json(status, body))
        .map_err(|e| AppError::Internal(format!("serialising response: {e}")))
}

/// `{"error": message}` with the given status. Built with serde_json so any message is escaped.
pub fn error(status: u16, message: &str) -> Response {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        error: &'a str,
    }
    // Serialising a struct of one &str cannot fail; fall back to a fixed body rather than panic.
    let body = serde_json::to_vec(&ErrorBody { error: message })
        .unwrap_or_else(|_| br#"{"error":"error"}"#.to_vec());
    Response::json(status, body)
}

/// Parse a JSON request body into `T`; any failure is a 400 that says why.
pub fn parse_body<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
}
