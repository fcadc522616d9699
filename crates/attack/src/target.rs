//! The server under attack: an `http://` URL (parsed by `clab-load`, the same rules as
//! `clab load`) resolved to the one address every check connects to, refused when that address
//! is not on loopback unless the caller allows remote targets. A lab tool must not become a
//! weapon by a typo, so the check is on the address actually used, after name resolution.

use clab_load::{HttpUrl, LoadError};
use std::net::{IpAddr, SocketAddr};

/// Why a target is refused. Each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The URL is not `http://host[:port][/path]`, or its host did not resolve.
    #[error(transparent)]
    Url(#[from] LoadError),
    /// The address is outside 127.0.0.0/8 and ::1, and remote targets were not allowed.
    #[error(
        "refusing to attack {authority} ({addr}): it is not a loopback address \
         (127.0.0.0/8 or ::1); pass --allow-remote if you own that server"
    )]
    Remote { authority: String, addr: SocketAddr },
    /// Nothing accepted a connection there.
    #[error("cannot reach {addr}: {reason}")]
    Unreachable { addr: SocketAddr, reason: String },
}

/// A parsed and resolved target.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: HttpUrl,
    /// Where every connection of every check goes.
    pub addr: SocketAddr,
}

impl Target {
    /// Parses and resolves `url`; refuses a non-loopback address unless `allow_remote`.
    pub fn parse(url: &str, allow_remote: bool) -> Result<Self, TargetError> {
        let url = HttpUrl::parse(url)?;
        let addr = url.resolve()?;
        if !allow_remote && !is_loopback(addr.ip()) {
            return Err(TargetError::Remote {
                authority: url.authority.clone(),
                addr,
            });
        }
        Ok(Self { url, addr })
    }

    /// The URL as `clab-load` takes it (`http://authority/path`), aimed at the resolved
    /// address so that the load generator cannot resolve the name to somewhere else.
    pub fn load_url(&self) -> String {
        format!("http://{}{}", self.addr, self.url.path)
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> &str {
        &self.url.authority
    }
}

/// 127.0.0.0/8, ::1, and an IPv4-mapped loopback address (`::ffff:127.0.0.1`).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_allowed() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3:9/x",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]:80",
            "http://localhost:8080/plaintext",
        ] {
            let t = Target::parse(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(is_loopback(t.addr.ip()), "{url}");
        }
        let t = Target::parse("http://localhost:8080/plaintext", false).unwrap();
        assert_eq!(t.url.path, "/plaintext");
        assert_eq!(t.host_header(), "localhost:8080");
        assert_eq!(t.load_url(), format!("http://{}/plaintext", t.addr));
    }

    #[test]
    fn remote_targets_are_refused_unless_allowed() {
        for url in [
            "http://10.0.0.1:8080",
            "http://192.168.1.1/",
            "http://8.8.8.8",
            "http://[2001:db8::1]:80",
            "http://[::ffff:10.0.0.1]:80",
            "http://0.0.0.0:8080",
        ] {
            let err = Target::parse(url, false).unwrap_err();
            assert!(matches!(err, TargetError::Remote { .. }), "{url}: {err}");
            let line = err.to_string();
            assert!(
                line.contains("--allow-remote") && !line.contains('\n'),
                "{line}"
            );
            assert!(Target::parse(url, true).is_ok(), "{url} with allow_remote");
        }
    }

    #[test]
    fn bad_urls_are_one_line_errors() {
        for url in [
            "127.0.0.1:8080",
            "https://127.0.0.1",
            "http://",
            "http://h:0",
        ] {
            let err = Target::parse(url, true).unwrap_err();
            assert!(matches!(err, TargetError::Url(_)), "{url}: {err}");
            assert!(!err.to_string().contains('\n'));
        }
    }
}
