//! Why a request was refused, and the status code that says so.

/// What went wrong. Each kind maps to exactly one status code ([`ParseErrorKind::status`]).
///
/// The client side ([`crate::parse_response`]) reuses this type: a malformed or truncated
/// response is `BadRequest` (with a message naming the response), an oversized response head
/// is `HeadersTooLarge`; the status code is then only a classification, never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// Malformed request line or header field, bare CR, control characters, obs-fold,
    /// whitespace before a colon, missing/repeated Host (HTTP/1.1), invalid or repeated
    /// Content-Length, Content-Length together with Transfer-Encoding, Transfer-Encoding whose
    /// final coding is not chunked, malformed chunked framing. → 400, close.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Request line or URI longer than [`crate::Limits::max_request_line`]. → 414.
    #[error("URI too long")]
    UriTooLong,
    /// Head over [`crate::Limits::max_head`] or more than [`crate::Limits::max_headers`] fields. → 431.
    #[error("request header fields too large")]
    HeadersTooLarge,
    /// Body over [`crate::Limits::max_body`]. → 413.
    #[error("content too large")]
    BodyTooLarge,
    /// A transfer coding other than chunked. → 501.
    #[error("transfer coding not implemented")]
    UnsupportedTransferCoding,
    /// HTTP version other than 1.0 or 1.1. → 505.
    #[error("HTTP version not supported")]
    UnsupportedVersion,
}

impl ParseErrorKind {
    /// The status code this error answers with. The connection is always closed afterwards.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::UriTooLong => 414,
            Self::HeadersTooLarge => 431,
            Self::BodyTooLarge => 413,
            Self::UnsupportedTransferCoding => 501,
            Self::UnsupportedVersion => 505,
        }
    }
}

/// A refused request. The server answers `kind.status()` with `Connection: close` and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl From<ParseErrorKind> for ParseError {
    fn from(kind: ParseErrorKind) -> Self {
        Self { kind }
    }
}
