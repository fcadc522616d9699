//! Every limit of the codec, named once, with the status code its violation answers.

/// Limits enforced by [`crate::parse_request`]. Each field documents the status it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line (method SP target SP version) in bytes. Over it: 414 URI Too Long.
    pub max_request_line: usize,
    /// Longest request head (request line + headers + final CRLF). Over it: 431.
    pub max_head: usize,
    /// Most header fields. Over it: 431 Request Header Fields Too Large.
    pub max_headers: usize,
    /// Largest decoded body. Over it: 413 Content Too Large.
    pub max_body: usize,
}

impl Limits {
    pub const DEFAULT_MAX_REQUEST_LINE: usize = 8 * 1024;
    pub const DEFAULT_MAX_HEAD: usize = 16 * 1024;
    pub const DEFAULT_MAX_HEADERS: usize = 100;
    pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

    /// Longest method token, fixed. Over it: 400 (a malformed request line). Twice the longest
    /// method in the IANA registry (`UPDATEREDIRECTREF`, 17 bytes) leaves room for extensions
    /// while refusing a "method" that is only a way to fill the request line.
    pub const MAX_METHOD: usize = 32;

    /// Longest chunk-size line of a chunked body (size and extensions, before its CRLF),
    /// fixed. Over it: 400. Extensions carry nothing this codec uses, so a long one is only a
    /// way to waste the server's time and memory.
    pub const MAX_CHUNK_LINE: usize = 4096;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_line: Self::DEFAULT_MAX_REQUEST_LINE,
            max_head: Self::DEFAULT_MAX_HEAD,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            max_body: Self::DEFAULT_MAX_BODY,
        }
    }
}
