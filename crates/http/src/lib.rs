//! Sans-IO HTTP/1.1 codec for Concurrency Lab.
//!
//! # Brief overview
//! - [`parse_request`] reads one request from the front of a caller-owned buffer and returns
//!   [`Parsed::Partial`] (a status, not an error) until the request is complete.
//! - [`Request`] is an owned request (method, target, version, headers, decoded body, keep-alive).
//! - [`Response`] plus [`encode_response`] write the bytes of a response (`Date`, `Server`,
//!   `Content-Length`, `Connection: close` when closing).
//! - [`Limits`] names every limit in one place; [`ParseError`] carries the status code each
//!   violation maps to (400, 413, 414, 431, 501, 505) so every model answers the same way.
//! - [`encode_response_for`] is the same for a known request version: an HTTP/1.0 client that
//!   asked for keep-alive gets `Connection: keep-alive`.
//! - The client side: [`encode_request`], and [`parse_response`] / [`parse_response_at_eof`]
//!   which frame a response without allocating (for the load generator and upstream calls);
//!   [`response_body`] then borrows the body, or de-chunks it.
//!
//! The codec never touches a socket: every concurrency model feeds it bytes the same way, so
//! differences the experiments measure are differences of scheduling, not of parsing.
//!
//! Strictness (RFC 9112): each rule is quoted at the code that implements it — the head
//! pre-scan in `head.rs`, field semantics in `parse.rs`, the request-target in `target.rs`,
//! chunked framing in `chunked.rs`, response framing in `client.rs`.

mod chunked;
mod client;
#[doc(hidden)]
pub mod corpus;
mod date;
mod digits;
mod encode;
mod error;
mod fields;
mod head;
mod host;
mod limits;
mod parse;
mod request;
mod response;
mod syntax;
mod target;

pub use client::{
    MAX_RESPONSE_HEAD, MAX_RESPONSE_HEADERS, ParsedResponse, encode_request, parse_response,
    parse_response_at_eof, response_body,
};
pub use date::HttpDate;
pub use encode::{encode_response, encode_response_for, reason_phrase};
pub use error::{ParseError, ParseErrorKind};
pub use limits::Limits;
pub use parse::{Parsed, parse_request};
pub use request::{Method, Request, Version};
pub use response::Response;
