//! Parse one request from the front of a buffer (RFC 9112), strictly.

use crate::{Limits, ParseError, Request};

/// Result of a parse attempt. `Partial` means "read more bytes and call again".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole request and how many bytes of the buffer it used (pipelined requests follow).
    Complete { request: Request, consumed: usize },
    /// Not enough bytes yet. Limits are still enforced on what has arrived, so a client cannot
    /// grow the buffer without bound by never finishing its head.
    Partial,
}

/// Parse the request at the front of `buf`. Stateless: call again with the same (grown) buffer.
pub fn parse_request(buf: &[u8], limits: &Limits) -> Result<Parsed, ParseError> {
    let _ = (buf, limits);
    todo!("clab-http helper implements this")
}
