//! The `Host` field value (RFC 9110 §7.2, RFC 3986 §3.2.2–3.2.3).
//!
//! ```text
//! Host        = uri-host [ ":" port ]
//! uri-host    = IP-literal / IPv4address / reg-name
//! IP-literal  = "[" ( IPv6address / IPvFuture ) "]"
//! IPvFuture   = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
//! reg-name    = *( unreserved / pct-encoded / sub-delims )
//! port        = *DIGIT
//! ```
//!
//! An IPv4address is also a reg-name, so it needs no rule of its own; an IPv6address is
//! judged by the standard library's parser. RFC 9110 §4.2.1: "A sender MUST NOT generate an
//! "http" URI with an empty host identifier", so a port without a host (`:80`) is refused,
//! while an entirely empty value stays allowed (RFC 9110 §7.2: a client sends an empty Host
//! when the target URI has no authority).

use crate::syntax::byte_table;
use crate::target::percent_encoded_at;
use std::net::Ipv6Addr;

/// RFC 3986 unreserved and sub-delims.
static REG_NAME: [bool; 256] = byte_table(b"-._~!$&'()*+,;=");

/// Whether `value` is a valid Host field value; see the module docs.
pub(crate) fn valid(value: &[u8]) -> bool {
    if value.is_empty() {
        return true;
    }
    let (host, port) = if value.first() == Some(&b'[') {
        let Some(close) = value.iter().position(|&b| b == b']') else {
            return false;
        };
        let (literal, rest) = value.split_at(close + 1);
        if !ip_literal(&literal[1..close]) {
            return false;
        }
        match rest {
            [] => return true,
            [b':', port @ ..] => (literal, port),
            _ => return false,
        }
    } else {
        let (host, port) = match value.iter().rposition(|&b| b == b':') {
            Some(colon) => (&value[..colon], &value[colon + 1..]),
            None => (value, &b""[..]),
        };
        if host.is_empty() || !reg_name(host) {
            return false;
        }
        (host, port)
    };
    debug_assert!(!host.is_empty());
    port.iter().all(u8::is_ascii_digit)
}

/// Every byte unreserved or a sub-delim, or the "%" of a pct-encoded triplet (whose two hex
/// digits are unreserved bytes themselves).
fn reg_name(host: &[u8]) -> bool {
    host.iter()
        .enumerate()
        .all(|(i, &b)| REG_NAME[usize::from(b)] || (b == b'%' && percent_encoded_at(host, i)))
}

/// The inside of `[...]`: an IPv6address or an IPvFuture.
fn ip_literal(inner: &[u8]) -> bool {
    if let [b'v' | b'V', rest @ ..] = inner {
        let Some(dot) = rest.iter().position(|&b| b == b'.') else {
            return false;
        };
        let (version, addr) = (&rest[..dot], &rest[dot + 1..]);
        static FUTURE: [bool; 256] = byte_table(b"-._~!$&'()*+,;=:");
        return !version.is_empty()
            && version.iter().all(u8::is_ascii_hexdigit)
            && !addr.is_empty()
            && addr.iter().all(|&b| FUTURE[usize::from(b)]);
    }
    std::str::from_utf8(inner).is_ok_and(|s| s.parse::<Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::valid;

    #[test]
    fn hosts() {
        for ok in [
            &b""[..],
            b"a",
            b"example.com",
            b"example.com:8080",
            b"127.0.0.1:80",
            b"a:",
            b"xn--bcher-kva.example",
            b"a%2Db",
            b"!$&'()*+,;=",
            b"[::1]",
            b"[::1]:8080",
            b"[2001:db8::ffff:1.2.3.4]",
            b"[v1.fe80::a+en1]",
        ] {
            assert!(valid(ok), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b":80"[..],
            b"a:b",
            b"a:1:2",
            b"a b",
            b"a/b",
            b"user@a",
            b"a%zz",
            b"a%2",
            b"[::1",
            b"::1",
            b"[::1]x",
            b"[::1]:x",
            b"[zz]",
            b"[]",
            b"a]",
            b"[v1.]",
            b"[v.x]",
            b"[fe80::1%25eth0]",
        ] {
            assert!(!valid(bad), "{}", String::from_utf8_lossy(bad));
        }
    }
}
