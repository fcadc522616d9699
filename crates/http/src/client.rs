//! The client side: encode a request, frame a response (RFC 9112 §6.3).
//!
//! Used by the load generator (on its hot path) and by the backend's upstream HTTP call.
//! [`parse_response`] never allocates: headers go to a stack array and a chunked body is only
//! measured, not copied; the caller reads the body from its own buffer.
//!
//! Message body length of a response, in the order of RFC 9112 §6.3:
//! 1. "Any response to a HEAD request and any response with a 1xx (Informational), 204 (No
//!    Content), or 304 (Not Modified) status code is always terminated by the first empty line
//!    after the header fields ... and thus cannot contain a message body".
//! 2. (CONNECT tunnels: not used by this client.)
//! 3. "If a message is received with both a Transfer-Encoding and a Content-Length header
//!    field, the Transfer-Encoding overrides the Content-Length."
//!    "If a Transfer-Encoding header field is present in a response and the chunked transfer
//!    coding is not the final encoding, the message body length is determined by reading the
//!    connection until it is closed by the server."
//! 4. Otherwise a valid Content-Length gives the length; an invalid one is "an unrecoverable
//!    error" (here: `Err`). Repeated lines must agree (a response may legitimately repeat it).
//! 5. Otherwise the body is close-delimited: [`parse_response`] says `Partial` until the caller
//!    sees EOF and calls [`parse_response_at_eof`].
//!
//! Errors reuse [`ParseError`]: a malformed response is `BadRequest("…response…")`, a head
//! with more than [`MAX_RESPONSE_HEADERS`] fields or over [`MAX_RESPONSE_HEAD`] bytes is
//! `HeadersTooLarge`.

use crate::ParseError;
use std::borrow::Cow;

use crate::ParseErrorKind::{BadRequest, HeadersTooLarge};
use crate::chunked::{ChunkLimits, ChunkedDecoder, Progress};
use crate::digits::write_usize;
use crate::fields::{TransferCodings, content_length, has_token};

/// Most header fields in a response this client accepts.
pub const MAX_RESPONSE_HEADERS: usize = 64;
/// Largest response head (status line and fields) this client accepts while waiting for its end.
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// Append a request to `out`: `METHOD target HTTP/1.1`, `Host`, the given headers, a
/// `Content-Length` when the body is non-empty or the method is POST/PUT/PATCH (RFC 9110 §8.6:
/// a user agent SHOULD send it when the method defines a meaning for content), then the body.
pub fn encode_request(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    out: &mut Vec<u8>,
) {
    let extra: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    out.reserve(method.len() + target.len() + host.len() + extra + body.len() + 64);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        out.extend_from_slice(b"Content-Length: ");
        write_usize(out, body.len());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// A framed response at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedResponse {
    /// `consumed` bytes make the whole response. `body_start`/`body_len` locate a
    /// Content-Length or close-delimited body inside the buffer; for a chunked body
    /// `body_len` is the decoded length and `body_start` is where the chunked data begins.
    /// `close`: the server will close the connection after it (`Connection: close`, an
    /// HTTP/1.0 response without keep-alive, or a close-delimited body).
    /// A 1xx interim response is returned as complete with no body: skip it and parse again.
    Complete {
        status: u16,
        consumed: usize,
        body_start: usize,
        body_len: usize,
        close: bool,
    },
    /// More bytes needed (or, for a close-delimited body, EOF).
    Partial,
}

/// Frame the response at the front of `buf`. `head_only`: the request was HEAD, so there is
/// no body whatever the fields say.
pub fn parse_response(buf: &[u8], head_only: bool) -> Result<ParsedResponse, ParseError> {
    parse(buf, head_only, false)
}

/// Like [`parse_response`], once the peer has closed the connection: a close-delimited body
/// ends at the end of `buf`, and any other incomplete response is an error (truncated).
pub fn parse_response_at_eof(buf: &[u8]) -> Result<ParsedResponse, ParseError> {
    match parse(buf, false, true)? {
        ParsedResponse::Partial => Err(BadRequest("truncated response").into()),
        done => Ok(done),
    }
}

/// The body of a complete response as bytes: borrowed from `buf` for a Content-Length or
/// close-delimited body, decoded (one allocation) for a chunked one. `Partial` gives an empty
/// body. A chunked body is recognised by its framing overhead: only then does `consumed`
/// exceed `body_start + body_len` (the last chunk alone is 5 bytes).
pub fn response_body<'a>(
    buf: &'a [u8],
    parsed: &ParsedResponse,
) -> Result<Cow<'a, [u8]>, ParseError> {
    let ParsedResponse::Complete {
        consumed,
        body_start,
        body_len,
        ..
    } = *parsed
    else {
        return Ok(Cow::Borrowed(&[]));
    };
    let framed = buf
        .get(body_start..consumed)
        .ok_or_else(|| bad("response outside buffer"))?;
    if framed.len() == body_len {
        return Ok(Cow::Borrowed(framed));
    }
    let limits = ChunkLimits {
        max_body: body_len,
        max_wire: usize::MAX,
        max_trailer: MAX_RESPONSE_HEAD,
        max_trailer_fields: MAX_RESPONSE_HEADERS,
    };
    match crate::chunked::decode(framed, limits)? {
        Some((body, _)) => Ok(Cow::Owned(body)),
        None => Err(bad("truncated chunked response")),
    }
}

fn bad(why: &'static str) -> ParseError {
    BadRequest(why).into()
}

fn parse(buf: &[u8], head_only: bool, at_eof: bool) -> Result<ParsedResponse, ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_RESPONSE_HEAD => {
            return Err(HeadersTooLarge.into());
        }
        Ok(httparse::Status::Partial) => return Ok(ParsedResponse::Partial),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadersTooLarge.into()),
        Err(_) => return Err(bad("malformed response head")),
    };
    let status = resp.code.unwrap_or_default();
    let http10 = resp.version == Some(0);
    let mut length: Option<u64> = None;
    let mut codings = TransferCodings::default();
    let (mut close, mut keep_alive) = (false, false);
    for h in resp.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let n =
                content_length(h.value).map_err(|_| bad("invalid Content-Length in response"))?;
            if length.is_some_and(|m| m != n) {
                return Err(bad("conflicting Content-Length in response"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            codings.add(h.value);
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= has_token(h.value, "close");
            keep_alive |= has_token(h.value, "keep-alive");
        }
    }
    let close = close || (http10 && !keep_alive);
    let complete = |consumed, body_len| ParsedResponse::Complete {
        status,
        consumed,
        body_start: head_len,
        body_len,
        close,
    };

    // Rule 1: no body.
    if head_only || matches!(status, 100..=199 | 204 | 304) {
        return Ok(complete(head_len, 0));
    }
    // Rule 3: chunked last, or else read until close.
    if codings.any {
        if codings.last_is_chunked {
            return chunked_body(buf, head_len, status, close);
        }
        return Ok(close_delimited(buf, head_len, status, at_eof));
    }
    // Rule 4: Content-Length.
    if let Some(n) = length {
        let n = usize::try_from(n).map_err(|_| bad("Content-Length too large"))?;
        let end = head_len
            .checked_add(n)
            .ok_or_else(|| bad("Content-Length too large"))?;
        if buf.len() < end {
            return Ok(ParsedResponse::Partial);
        }
        return Ok(complete(end, n));
    }
    // Rule 5: close-delimited.
    Ok(close_delimited(buf, head_len, status, at_eof))
}

fn chunked_body(
    buf: &[u8],
    head_len: usize,
    status: u16,
    close: bool,
) -> Result<ParsedResponse, ParseError> {
    let limits = ChunkLimits {
        max_body: usize::MAX,
        max_wire: usize::MAX,
        max_trailer: MAX_RESPONSE_HEAD,
        max_trailer_fields: MAX_RESPONSE_HEADERS,
    };
    match ChunkedDecoder::new(limits).advance(&buf[head_len..], None)? {
        Progress::Done { wire_len, body_len } => Ok(ParsedResponse::Complete {
            status,
            consumed: head_len + wire_len,
            body_start: head_len,
            body_len,
            close,
        }),
        Progress::NeedMore => Ok(ParsedResponse::Partial),
    }
}

fn close_delimited(buf: &[u8], head_len: usize, status: u16, at_eof: bool) -> ParsedResponse {
    if !at_eof {
        return ParsedResponse::Partial;
    }
    ParsedResponse::Complete {
        status,
        consumed: buf.len(),
        body_start: head_len,
        body_len: buf.len() - head_len,
        close: true,
    }
}
