//! The common syntax rules of RFC 9110 §5.6 that several parts of the codec share: byte
//! classes, tokens, whitespace, quoted strings and `;`-parameters.
//!
//! ```text
//! token          = 1*tchar
//! OWS / BWS      = *( SP / HTAB )
//! quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//! qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//! quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
//! ```
//!
//! Two grammars differ only in details and share [`parameters_end`]: a transfer-coding's
//! parameters (RFC 9110 §10.1.4, `*( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) )`)
//! and chunk extensions (RFC 9112 §7.1.1, the same with the `=` value optional).

/// A 256-entry membership table: alphanumerics plus `extra`.
pub(crate) const fn byte_table(extra: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

static TOKEN: [bool; 256] = byte_table(b"!#$%&'*+-.^_`|~");

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// A byte allowed inside a field value (RFC 9110 §5.5): VCHAR, obs-text, SP, HTAB.
pub(crate) fn is_field_byte(b: u8) -> bool {
    (b >= b' ' && b != 0x7f) || b == b'\t'
}

/// Optional (or "bad") whitespace, RFC 9110 §5.6.3.
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` without leading and trailing OWS.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s
        && is_ows(*first)
    {
        s = rest;
    }
    while let [rest @ .., last] = s
        && is_ows(*last)
    {
        s = rest;
    }
    s
}

/// Index of the first byte at or after `i` that is not OWS.
pub(crate) fn skip_ows(s: &[u8], i: usize) -> usize {
    i + s[i..].iter().take_while(|&&b| is_ows(b)).count()
}

/// Index just past the run of `tchar` starting at `i` (`i` itself when there is none).
pub(crate) fn token_end(s: &[u8], i: usize) -> usize {
    i + s[i..].iter().take_while(|&&b| is_token(b)).count()
}

/// Index just past the quoted-string that starts at `i` (which must hold `"`), or `None` if
/// it is unterminated or holds a byte neither qdtext nor a quoted-pair allows.
pub(crate) fn quoted_string_end(s: &[u8], i: usize) -> Option<usize> {
    debug_assert_eq!(s.get(i), Some(&b'"'));
    let mut j = i + 1;
    loop {
        match *s.get(j)? {
            b'"' => return Some(j + 1),
            // quoted-pair: any field byte may be escaped (HTAB / SP / VCHAR / obs-text).
            b'\\' if s.get(j + 1).is_some_and(|&b| is_field_byte(b)) => j += 2,
            b'\\' => return None,
            // qdtext is every field byte but DQUOTE and backslash, handled above.
            b if is_field_byte(b) => j += 1,
            _ => return None,
        }
    }
}

/// `token / quoted-string` starting at `i`: the index just past it, or `None`.
fn value_end(s: &[u8], i: usize) -> Option<usize> {
    if s.get(i) == Some(&b'"') {
        return quoted_string_end(s, i);
    }
    let end = token_end(s, i);
    (end > i).then_some(end)
}

/// Parse `*( BWS ";" BWS name [ BWS "=" BWS value ] )` from `i`, `value` being a token or a
/// quoted-string and required when `value_required`. Returns the index where the parameters
/// stop (whitespace not followed by `;` is left to the caller), or `None` if one of them is
/// malformed (`;` without a name, `=` without a value, a missing required value).
pub(crate) fn parameters_end(s: &[u8], mut i: usize, value_required: bool) -> Option<usize> {
    loop {
        let semi = skip_ows(s, i);
        if s.get(semi) != Some(&b';') {
            return Some(i);
        }
        let name = skip_ows(s, semi + 1);
        let name_end = token_end(s, name);
        if name_end == name {
            return None;
        }
        let eq = skip_ows(s, name_end);
        i = if s.get(eq) == Some(&b'=') {
            value_end(s, skip_ows(s, eq + 1))?
        } else if value_required {
            return None;
        } else {
            name_end
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings() {
        assert_eq!(quoted_string_end(b"\"\"", 0), Some(2));
        assert_eq!(quoted_string_end(b"\"a b\\\"c\"rest", 0), Some(8));
        assert_eq!(quoted_string_end(b"\"\xe9\t\"", 0), Some(4));
        for bad in [&b"\""[..], b"\"abc", b"\"a\\", b"\"a\x01\"", b"\"a\\\x7f\""] {
            assert_eq!(quoted_string_end(bad, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn parameters() {
        let whole = |s: &[u8], required| parameters_end(s, 0, required) == Some(s.len());
        for ok in [
            &b""[..],
            b";a",
            b"; a = b",
            b";a=b;c",
            b"\t;\ta\t=\t\"x;y\"",
        ] {
            assert!(whole(ok, false), "{ok:?}");
        }
        for ok in [&b""[..], b";a=b", b" ; q=0.5 ;x=\"\""] {
            assert!(whole(ok, true), "{ok:?}");
        }
        // Malformed: no name, no value after "=", a non-token name or value, junk.
        for bad in [
            &b";"[..],
            b";=b",
            b";a=",
            b";a=\"x",
            b";a b",
            b";a=b c",
            b";(a)",
            b";a=b,",
        ] {
            assert!(!whole(bad, false), "{bad:?}");
        }
        assert!(!whole(b";a", true));
        // Trailing whitespace is not part of the parameters: the caller decides.
        assert_eq!(parameters_end(b";a=b  ,", 0, true), Some(4));
    }
}
