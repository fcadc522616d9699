//! Parse one request from the front of a buffer (RFC 9112), strictly.
//!
//! Order of work: [`crate::head`] pre-scans the head (line endings, control characters,
//! obs-fold, whitespace before colons, version, limits — on partial input too); `httparse`
//! then parses the complete head (method token, request-target bytes, single SP delimiters);
//! this module applies the field semantics below and frames the body.
//!
//! - RFC 9112 §3.2 / RFC 9110 §7.2: "A server MUST respond with a 400 (Bad Request) status
//!   code to any HTTP/1.1 request message that lacks a Host header field and to any request
//!   message that contains more than one Host header field line or a Host header field with
//!   an invalid field value." Valid means `uri-host [ ":" port ]` ([`crate::host`]).
//! - §6.1: "A server MAY reject a request that contains both Content-Length and
//!   Transfer-Encoding or process such a request in accordance with the Transfer-Encoding
//!   alone. Regardless, the server MUST close the connection after responding to such a
//!   request" — rejected (400; every [`crate::ParseError`] closes).
//! - §6.1: "A server that receives a request message with a transfer coding it does not
//!   understand SHOULD respond with 501 (Not Implemented)." Only `chunked` is understood.
//! - RFC 9110 §10.1.4 / RFC 9112 §7.1: a Transfer-Encoding element that is not a
//!   `transfer-coding`, or `chunked` with parameters, is malformed framing: 400 (checked
//!   before the rules on the codings' order and names).
//! - §6.3 rule 4: "If a Transfer-Encoding header field is present in a request and the
//!   chunked transfer coding is not the final encoding, the message body length cannot be
//!   determined reliably; the server MUST respond with the 400 (Bad Request) status code and
//!   then close the connection." This is checked before the 501 rule: framing comes first.
//! - §6.1: a Transfer-Encoding in an HTTP/1.0 request means "the framing is faulty": 400.
//! - §6.3 rule 5: "If a message is received without Transfer-Encoding and with an invalid
//!   Content-Length header field, then the message framing is invalid and the recipient MUST
//!   treat it as an unrecoverable error ... the server MUST respond with a 400". Repeated
//!   Content-Length lines or lists are refused even when the values agree (see
//!   [`crate::fields::content_length`]).
//! - §6.3 rule 7: a request with neither has a zero-length body.
//! - §9.3: keep-alive. "If the "close" connection option is present, the connection will not
//!   persist"; otherwise HTTP/1.1 persists, and HTTP/1.0 persists only with "keep-alive".

use crate::ParseErrorKind::{BadRequest, BodyTooLarge, UnsupportedTransferCoding};
use crate::chunked::{self, ChunkLimits};
use crate::fields::{TransferCodings, content_length, has_token};
use crate::{Limits, Method, ParseError, Request, Version, head, host, target};

/// Result of a parse attempt. `Partial` means "read more bytes and call again".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request and how many bytes of the buffer it used (pipelined requests follow).
    Complete { request: Request, consumed: usize },
    /// Not enough bytes yet. Limits are still enforced on what has arrived, so a client cannot
    /// grow the buffer without bound by never finishing its head.
    Partial,
}

/// Header slots kept on the stack; heads with more fields (up to `Limits::max_headers`) use a
/// heap array instead.
const STACK_HEADERS: usize = 32;

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
}

/// What the header fields say, after the semantic checks.
struct HeadFacts {
    framing: Framing,
    keep_alive: bool,
}

fn bad(why: &'static str) -> ParseError {
    BadRequest(why).into()
}

/// Parse the request at the front of `buf`. Stateless: call again with the same (grown) buffer.
pub fn parse_request(buf: &[u8], limits: &Limits) -> Result<Parsed, ParseError> {
    let Some(head) = head::scan(buf, limits)? else {
        return Ok(Parsed::Partial);
    };
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut heap;
    let slots = if head.fields <= STACK_HEADERS {
        &mut stack[..head.fields]
    } else {
        heap = vec![httparse::EMPTY_HEADER; head.fields];
        &mut heap[..]
    };
    let mut req = httparse::Request::new(slots);
    match req.parse(&buf[..head.len]) {
        Ok(httparse::Status::Complete(n)) if n == head.len => {}
        Ok(_) => return Err(bad("malformed request head")),
        Err(e) => return Err(bad(httparse_reason(e))),
    }
    let version = match req.version {
        Some(0) => Version::Http10,
        Some(1) => Version::Http11,
        _ => return Err(bad("malformed HTTP version")),
    };
    let method = Method::from_token(req.method.unwrap_or_default());
    let target = req.path.unwrap_or_default();
    target::validate(&method, target)?;
    let facts = head_facts(req.headers, version, limits)?;

    let (body, consumed) = match facts.framing {
        Framing::Length(n) => {
            let end = head.len + n;
            if buf.len() < end {
                return Ok(Parsed::Partial);
            }
            (buf[head.len..end].to_vec(), end)
        }
        Framing::Chunked => {
            let chunk_limits = ChunkLimits {
                max_body: limits.max_body,
                // Framing overhead allowance: twice the body plus a head's worth of trailers.
                max_wire: limits
                    .max_body
                    .saturating_mul(2)
                    .saturating_add(limits.max_head),
                max_trailer: limits.max_head,
                max_trailer_fields: limits.max_headers,
            };
            match chunked::decode(&buf[head.len..], chunk_limits)? {
                Some((body, wire_len)) => (body, head.len + wire_len),
                None => return Ok(Parsed::Partial),
            }
        }
    };
    let headers = req
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect();
    let request = Request {
        method,
        target: target.to_owned(),
        version,
        headers,
        body,
        keep_alive: facts.keep_alive,
    };
    Ok(Parsed::Complete { request, consumed })
}

/// Apply the field rules of the module docs to a parsed head.
fn head_facts(
    headers: &[httparse::Header<'_>],
    version: Version,
    limits: &Limits,
) -> Result<HeadFacts, ParseError> {
    let mut hosts = 0;
    let mut length: Option<u64> = None;
    let mut codings = TransferCodings::default();
    let mut te_lines = 0;
    let (mut close, mut keep_alive) = (false, false);
    for h in headers {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"host") {
            hosts += 1;
            if !host::valid(h.value) {
                return Err(bad("invalid Host"));
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            if length.is_some() {
                return Err(bad("repeated Content-Length"));
            }
            length = Some(content_length(h.value)?);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            te_lines += 1;
            codings.add(h.value);
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= has_token(h.value, "close");
            keep_alive |= has_token(h.value, "keep-alive");
        }
    }
    match (version, hosts) {
        (Version::Http11, 0) => return Err(bad("missing Host")),
        (_, 2..) => return Err(bad("repeated Host")),
        _ => {}
    }
    let framing = if te_lines > 0 {
        if length.is_some() {
            return Err(bad("both Content-Length and Transfer-Encoding"));
        }
        if codings.malformed {
            return Err(bad("malformed Transfer-Encoding"));
        }
        if version == Version::Http10 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        if !codings.last_is_chunked {
            return Err(bad("final transfer coding is not chunked"));
        }
        if codings.chunked > 1 {
            return Err(bad("chunked applied more than once"));
        }
        if codings.other {
            return Err(UnsupportedTransferCoding.into());
        }
        Framing::Chunked
    } else {
        let n = length.unwrap_or(0);
        // Refused from the head alone, before any of the body arrives.
        if n > limits.max_body as u64 {
            return Err(BodyTooLarge.into());
        }
        Framing::Length(n as usize)
    };
    let keep_alive = !close && (version == Version::Http11 || keep_alive);
    Ok(HeadFacts {
        framing,
        keep_alive,
    })
}

fn httparse_reason(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid field name",
        httparse::Error::HeaderValue => "invalid field value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid method or request line",
        httparse::Error::TooManyHeaders => "too many fields",
        httparse::Error::Version => "malformed HTTP version",
    }
}
