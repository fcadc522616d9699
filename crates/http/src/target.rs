//! Request-target validation (RFC 9112 §3.2).
//!
//! ```text
//! request-target = origin-form / absolute-form / authority-form / asterisk-form
//! origin-form    = absolute-path [ "?" query ]
//! ```
//!
//! - origin-form (`/users/7?x=1`) is the normal case.
//! - asterisk-form (`*`) "is only used for a server-wide OPTIONS request" (§3.2.4): any other
//!   method with `*` is refused (400).
//! - absolute-form (`http://host/path`): "a server MUST accept the absolute-form in requests"
//!   (§3.2.2), so it is accepted; [`crate::Request::path`] strips the scheme and authority.
//! - authority-form (`host:port`) is only for CONNECT to a proxy; this server is not a proxy,
//!   so it is refused (400) like any other target.
//!
//! Every byte must be one RFC 3986 allows in a URI (unreserved, sub-delims, `:@/?`, and `%`
//! followed by two hex digits; `[]` in absolute-form hosts). A fragment (`#`) is never sent in
//! a request-target, so it is refused too.

use crate::Method;
use crate::ParseError;
use crate::ParseErrorKind::BadRequest;

/// Whether `target` starts with an `http://` or `https://` scheme (case-insensitive).
pub(crate) fn absolute_form_scheme_len(target: &str) -> Option<usize> {
    let b = target.as_bytes();
    ["http://", "https://"]
        .into_iter()
        .find(|scheme| {
            b.len() >= scheme.len() && b[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        })
        .map(str::len)
}

/// RFC 3986 unreserved, sub-delims, gen-delims other than `#`, and `%`.
static URI: [bool; 256] = crate::syntax::byte_table(b"-._~!$&'()*+,;=:@/?%[]");

fn is_uri_byte(b: u8) -> bool {
    URI[usize::from(b)]
}

/// Whether the `%` at `bytes[i]` starts a pct-encoded triplet (RFC 3986 §2.1:
/// `"%" HEXDIG HEXDIG`).
pub(crate) fn percent_encoded_at(bytes: &[u8], i: usize) -> bool {
    bytes
        .get(i + 1..i + 3)
        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
}

/// Check `target` for `method`; see the module docs.
pub(crate) fn validate(method: &Method, target: &str) -> Result<(), ParseError> {
    if target == "*" {
        return if *method == Method::Options {
            Ok(())
        } else {
            Err(BadRequest("asterisk-form target is only for OPTIONS").into())
        };
    }
    let bytes = target.as_bytes();
    let brackets_ok = absolute_form_scheme_len(target).is_some();
    if !(bytes.first() == Some(&b'/') || brackets_ok) {
        return Err(BadRequest("request-target must be origin-form or absolute-form").into());
    }
    for (i, &b) in bytes.iter().enumerate() {
        if !is_uri_byte(b) || (!brackets_ok && (b == b'[' || b == b']')) {
            return Err(BadRequest("invalid byte in request-target").into());
        }
        if b == b'%' && !percent_encoded_at(bytes, i) {
            return Err(BadRequest("invalid percent-encoding in request-target").into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert!(validate(&Method::Get, "/").is_ok());
        assert!(validate(&Method::Get, "/a/b?c=d&e=%2F").is_ok());
        assert!(validate(&Method::Get, "http://example.com/x").is_ok());
        assert!(validate(&Method::Get, "HTTPS://[::1]:8080").is_ok());
        assert!(validate(&Method::Options, "*").is_ok());
        for bad in [
            "*",
            "",
            "example.com:443",
            "/a#frag",
            "/%zz",
            "/%2",
            "/a[b]",
            "/a\"b",
            "/{}",
        ] {
            assert!(validate(&Method::Get, bad).is_err(), "{bad}");
        }
    }
}
