//! Routes that public HTTP/1.1 conformance probes assume exist.

use clab_http::{Request, Response};

/// `GET /` (and `HEAD /`): 200 `OK`.
pub(crate) fn root() -> Response {
    Response::text(200, &b"OK"[..])
}

/// `OPTIONS <route>` and `OPTIONS *`: 200 with `Allow` and an empty body. 200 rather than 204
/// so the response is valid whatever the encoder does with `Content-Length` (RFC 9110 §8.6
/// forbids it on 204; on 200 `Content-Length: 0` is exactly right).
pub(crate) fn options(allow: &'static str) -> Response {
    Response::new(200, Vec::new()).with_header("Allow", allow)
}

/// `POST /`: echo the body back, with the request's content type when it sent one.
pub(crate) fn echo_body(req: &Request) -> Response {
    let content_type = req.header("content-type").map_or_else(
        || "application/octet-stream".to_owned(),
        |v| String::from_utf8_lossy(v).into_owned(),
    );
    Response::new(200, req.body.clone()).with_header("Content-Type", content_type)
}

/// `POST /echo`: the received header fields, one `Name: Value` line each, in order and with
/// names as sent (non-UTF-8 bytes in values are shown as U+FFFD).
pub(crate) fn echo_headers(req: &Request) -> Response {
    let mut body = String::new();
    for (name, value) in &req.headers {
        body.push_str(name);
        body.push_str(": ");
        body.push_str(&String::from_utf8_lossy(value));
        body.push('\n');
    }
    Response::text(200, body)
}
