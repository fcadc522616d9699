//! Encode a response into bytes.
//!
//! RFC 9112 §4: `status-line = HTTP-version SP status-code SP [ reason-phrase ]`.
//! RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any response with a
//! status code of 1xx (Informational) or 204 (No Content)"; such responses, and 304, carry no
//! content (§6.3 rule 1 of RFC 9112), so neither length nor body is written for them.
//! RFC 9110 §9.3.2: a response to HEAD keeps the Content-Length a GET would have had but
//! sends no body.
//! RFC 9112 §9.6: a server that is going to close the connection "SHOULD send a "close"
//! connection option in its response".

use crate::digits::write_usize;
use crate::{HttpDate, Response, Version};

/// Fields the encoder writes itself; a handler's copy would corrupt the framing.
const RESERVED: [&str; 5] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "date",
    "server",
];

/// Append the bytes of `resp` to `out`: status line, `Server`, `Date`, `Content-Length`, extra
/// headers, `Connection: close` when `!keep_alive || resp.close`, then the body unless
/// `head_only` (a response to HEAD keeps Content-Length but sends no body).
///
/// Extra headers named like the ones above are skipped, and CR/LF inside a header value is
/// written as SP, so a handler can never split a response.
pub fn encode_response(
    resp: &Response,
    head_only: bool,
    keep_alive: bool,
    date: &mut HttpDate,
    out: &mut Vec<u8>,
) {
    encode_response_for(resp, Version::Http11, head_only, keep_alive, date, out);
}

/// [`encode_response`] for a request of HTTP version `request_version`. The only difference:
/// an HTTP/1.0 client that asked for keep-alive gets `Connection: keep-alive` when the
/// connection persists, since an HTTP/1.0 recipient assumes close otherwise (RFC 9112
/// Appendix C.2.2, the keep-alive mechanism of RFC 2068 §19.7.1; e.g. `ab -k` waits for it).
pub fn encode_response_for(
    resp: &Response,
    request_version: Version,
    head_only: bool,
    keep_alive: bool,
    date: &mut HttpDate,
    out: &mut Vec<u8>,
) {
    let has_content = !matches!(resp.status, 100..=199 | 204 | 304);
    let extra: usize = resp
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum();
    out.reserve(96 + extra + if head_only { 0 } else { resp.body.len() });

    out.extend_from_slice(b"HTTP/1.1 ");
    write_usize(out, usize::from(resp.status));
    out.push(b' ');
    out.extend_from_slice(reason_phrase(resp.status).as_bytes());
    out.extend_from_slice(b"\r\nServer: clab\r\nDate: ");
    out.extend_from_slice(date.now());
    out.extend_from_slice(b"\r\n");
    if has_content {
        out.extend_from_slice(b"Content-Length: ");
        write_usize(out, resp.body.len());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in &resp.headers {
        if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        let start = out.len();
        out.extend_from_slice(value.as_bytes());
        for b in &mut out[start..] {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    if !keep_alive || resp.close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if request_version == Version::Http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if has_content && !head_only {
        out.extend_from_slice(&resp.body);
    }
}

/// The reason phrase for a status code (RFC 9110 §15); empty for codes this service never
/// sends, which the status-line grammar allows.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
