//! The owned request handed to handlers.

/// Request method. Unknown tokens are kept verbatim so routes can answer 405/501 precisely.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Other(String),
}

impl Method {
    /// The method for a request-line token. Methods are case-sensitive (RFC 9110 §9.1), so
    /// `get` is `Other("get")`, not `Get`.
    pub fn from_token(token: &str) -> Self {
        match token {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            "PATCH" => Self::Patch,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The method token as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Patch => "PATCH",
            Self::Other(token) => token,
        }
    }
}

/// HTTP version of the request line. Anything but 1.0 and 1.1 is refused with 505 by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Http10,
    Http11,
}

/// A complete, owned request: head plus decoded body (chunked bodies already de-chunked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The request target exactly as sent: origin-form (`/users/7?x=1`), `*` (OPTIONS only) or
    /// absolute-form (`http://host/users/7`); [`Request::path`] hides the difference.
    pub target: String,
    pub version: Version,
    /// Header fields in order, names as sent (compare case-insensitively via [`Request::header`]).
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Whether the connection stays open after the response (HTTP/1.1 default unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
}

impl Request {
    /// The path part of the target (before `?`). For an absolute-form target the scheme and
    /// authority are skipped (`http://h/a?b` → `/a`; `http://h` → `/`).
    pub fn path(&self) -> &str {
        let without_query = self
            .target
            .split_once('?')
            .map_or(self.target.as_str(), |(p, _)| p);
        match crate::target::absolute_form_scheme_len(without_query) {
            Some(scheme) => {
                let rest = &without_query[scheme..];
                rest.find('/').map_or("/", |slash| &rest[slash..])
            }
            None => without_query,
        }
    }

    /// The query part of the target (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// First header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}
