//! Field semantics shared by the request parser and the response parser: list tokens,
//! `Content-Length`, `Transfer-Encoding`, `Connection`.

use crate::ParseError;
use crate::ParseErrorKind::BadRequest;
use crate::syntax::{is_ows, parameters_end, skip_ows, token_end, trim_ows};

/// The non-empty elements of a comma-separated list (RFC 9110 §5.6.1: "a recipient MUST
/// parse and ignore a reasonable number of empty list elements").
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Whether the list `value` holds `token`, compared case-insensitively (e.g. `Connection`).
pub(crate) fn has_token(value: &[u8], token: &str) -> bool {
    list_elements(value).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// RFC 9112 §6.3 / RFC 9110 §8.6: `Content-Length = 1*DIGIT`. Anything else, including a list
/// such as `5, 5` (which §6.3 permits a recipient to accept), is refused: this codec is strict
/// so that it can never disagree with another parser about where a message ends.
pub(crate) fn content_length(value: &[u8]) -> Result<u64, ParseError> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(BadRequest("invalid Content-Length").into());
    }
    value
        .iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(|| BadRequest("Content-Length overflows").into())
}

/// What the `Transfer-Encoding` field lines of a message say, accumulated over every line
/// in order (RFC 9110 §5.3: repeated lines combine into one list).
///
/// Each list element must be a `transfer-coding` (RFC 9110 §10.1.4):
/// `token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) )`. RFC 9112 §7.1:
/// "The chunked coding does not define any parameters. Their presence SHOULD be treated as an
/// error." Either fault sets `malformed`, which the request parser refuses (400); the client
/// side frames by the coding names alone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransferCodings {
    /// At least one coding was listed.
    pub any: bool,
    /// The final coding is `chunked`.
    pub last_is_chunked: bool,
    /// How many times `chunked` appears (§7: a sender MUST NOT apply it more than once).
    pub chunked: usize,
    /// A coding other than `chunked` appears (this codec decodes no other).
    pub other: bool,
    /// An element is not a transfer-coding, or `chunked` carries parameters.
    pub malformed: bool,
}

impl TransferCodings {
    /// Fold one `Transfer-Encoding` field value into the summary.
    pub(crate) fn add(&mut self, value: &[u8]) {
        let mut i = 0;
        loop {
            // RFC 9110 §5.6.1: empty list elements (and the OWS around commas) are ignored.
            while value.get(i).is_some_and(|&b| b == b',' || is_ows(b)) {
                i += 1;
            }
            if i == value.len() {
                return;
            }
            let name_end = token_end(value, i);
            let name = &value[i..name_end];
            // The element ends at a comma or the end of the value, after optional OWS.
            let end = parameters_end(value, name_end, true)
                .map(|e| skip_ows(value, e))
                .filter(|&e| !name.is_empty() && value.get(e).is_none_or(|&b| b == b','));
            let chunked = end.is_some() && name.eq_ignore_ascii_case(b"chunked");
            self.any = true;
            self.last_is_chunked = chunked;
            if chunked {
                self.chunked += 1;
                let params = trim_ows(&value[name_end..end.unwrap_or(name_end)]);
                self.malformed |= !params.is_empty();
            } else {
                self.other = true;
            }
            i = match end {
                Some(e) => e,
                None => {
                    // Not a transfer-coding: skip to the next comma and go on counting.
                    self.malformed = true;
                    value[i..]
                        .iter()
                        .position(|&b| b == b',')
                        .map_or(value.len(), |p| i + p)
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_case_insensitive_and_listed() {
        assert!(has_token(b"keep-alive, Close", "close"));
        assert!(has_token(b" ,,close ,", "close"));
        assert!(!has_token(b"closed", "close"));
        assert!(!has_token(b"", "close"));
    }

    #[test]
    fn content_length_is_digits_only() {
        assert_eq!(content_length(b"0").unwrap(), 0);
        assert_eq!(content_length(b"0042").unwrap(), 42);
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b"1 2",
            b"5, 5",
            b"0x10",
            b"99999999999999999999999",
        ] {
            assert!(content_length(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn transfer_codings_fold_over_lines() {
        let mut te = TransferCodings::default();
        te.add(b"gzip");
        te.add(b"Chunked");
        assert!(te.any && te.last_is_chunked && te.other);
        assert_eq!(te.chunked, 1);
        let mut te = TransferCodings::default();
        te.add(b"chunked, gzip;q=1");
        assert!(!te.last_is_chunked && !te.malformed);
        // Parameter values may be quoted strings holding commas.
        let mut te = TransferCodings::default();
        te.add(b"gzip;a=\"x, y\" , ,chunked");
        assert!(te.last_is_chunked && te.other && !te.malformed);
        assert_eq!(te.chunked, 1);
    }

    #[test]
    fn transfer_codings_must_be_well_formed() {
        for bad in [
            &b"chunked;a=1"[..],
            b"chunked ;a",
            b"chunked x",
            b"\"chunked\"",
            b"chunked;",
            b"gzip;q, chunked",
            b"gzip;q=\"1, chunked",
            b"(chunked)",
        ] {
            let mut te = TransferCodings::default();
            te.add(bad);
            assert!(te.malformed, "{bad:?}");
        }
        // Malformed elements never count as chunked (a client frames by names).
        let mut te = TransferCodings::default();
        te.add(b"chunked x");
        assert!(!te.last_is_chunked && te.other);
    }
}
