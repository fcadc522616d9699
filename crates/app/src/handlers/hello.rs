//! The raw-speed routes: no backend, no allocation beyond the response itself.

use clab_http::Response;

/// `GET /plaintext`: the TechEmpower plaintext body.
pub(crate) fn plaintext() -> Response {
    Response::text(200, &b"Hello, World!"[..])
}

/// `GET /json`: a constant JSON document. Written out rather than serialised: the body never
/// changes, so serde would only add work to the route that measures raw speed.
pub(crate) fn json() -> Response {
    Response::json(200, &br#"{"message":"Hello, World!"}"#[..])
}

/// `GET /health`: liveness only; it deliberately touches no backend so a slow database does
/// not make the process look dead.
pub(crate) fn health() -> Response {
    Response::json(200, &br#"{"status":"ok"}"#[..])
}
