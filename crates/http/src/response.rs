//! The response a handler returns; [`crate::encode_response`] turns it into bytes.

/// A response: status, extra headers and a body. `Date`, `Server`, `Content-Length` and
/// `Connection` are added by the encoder, never by handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Extra header fields (e.g. `Content-Type`, `Allow`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Forces `Connection: close` and closing after the write, whatever the request asked.
    pub close: bool,
}

impl Response {
    /// A response with this status and body and no extra headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            close: false,
        }
    }

    /// `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, body).with_header("Content-Type", "text/plain; charset=utf-8")
    }

    /// `application/json` response from already-serialised JSON.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, body).with_header("Content-Type", "application/json")
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }
}
