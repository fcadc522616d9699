//! The URL under test: `http://host[:port][/path][?query]`. HTTPS is not supported (the
//! load generator measures servers, not TLS libraries), and says so.

use crate::LoadError;
use std::net::{SocketAddr, ToSocketAddrs};

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host as written (a name, an IPv4 address or a bracketed IPv6 address without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
    /// The `Host` header value: `host` or `host:port` when the port is not 80.
    pub authority: String,
}

impl HttpUrl {
    /// Parses `http://host[:port][/path]`.
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let bad = |reason: &str| LoadError::BadUrl {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = if let Some(rest) = text.strip_prefix("http://") {
            rest
        } else if text.starts_with("https://") {
            return Err(bad("https is not supported; use an http:// URL"));
        } else if text.contains("://") {
            return Err(bad("only http:// URLs are supported"));
        } else {
            return Err(bad("expected http://host[:port][/path]"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err(bad("user information in URLs is not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6
                .find(']')
                .ok_or_else(|| bad("unclosed `[` in IPv6 address"))?;
            let port = &v6[end + 1..];
            (v6[..end].to_owned(), port.strip_prefix(':').unwrap_or(port))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p),
                None => (authority.to_owned(), ""),
            }
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("host contains whitespace"));
        }
        let port = if port.is_empty() {
            80
        } else {
            port.parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("bad port"))?
        };
        if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("path contains whitespace (percent-encode it)"));
        }
        Ok(Self {
            host,
            port,
            path,
            authority: authority.to_owned(),
        })
    }

    /// Resolves the host (first address wins, IPv4 preferred).
    pub fn resolve(&self) -> Result<SocketAddr, LoadError> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| LoadError::Unreachable {
                addr: self.authority.clone(),
                reason: e.to_string(),
            })?
            .collect();
        addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| LoadError::Unreachable {
                addr: self.authority.clone(),
                reason: "the name resolved to no address".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let u = HttpUrl::parse("http://127.0.0.1:8080/plaintext?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8080, "/plaintext?x=1")
        );
        assert_eq!(u.authority, "127.0.0.1:8080");
        let u = HttpUrl::parse("http://localhost").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = HttpUrl::parse("http://[::1]:9000/a").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9000));
        let u = HttpUrl::parse("http://h?q").unwrap();
        assert_eq!(u.path, "/?q");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "localhost:80",
            "https://x",
            "ftp://x",
            "http://",
            "http://h:0",
            "http://h:99999",
            "http://h:x/",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
