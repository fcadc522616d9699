//! Request smuggling (RFC 9112 §11.2): a request whose end two parsers could place
//! differently lets a client hide a second request inside the first. Every variant below is
//! refused with 400 (`BadRequest`), and a request appended behind it is never parsed: no
//! prefix of the bytes ever yields a request, so the caller has nothing to answer but the
//! error, after which it closes (every `ParseError` closes the connection; the server's
//! `Conn::refuse` does so). A few RFC-allowed forms are accepted on purpose; they are in
//! `ACCEPTED` with the reason, and must frame exactly one request.

mod common;

use clab_http::{Limits, ParseErrorKind, Parsed, parse_request};
use common::parse_all;

/// The request a smuggler hopes the server will see next.
const NEXT: &[u8] = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/// Refused variants: (bytes, why it must be refused).
#[rustfmt::skip]
const REFUSED: &[(&[u8], &str)] = &[
    // Content-Length (RFC 9112 §6.3 rule 5, RFC 9110 §8.6).
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "repeated CL, equal: refused so no two parsers pick different lines"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "repeated CL, different: the length is ambiguous"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", "CL list of equal values: §6.3 lets a recipient accept it, this codec does not"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,6\r\n\r\nhello!", "CL list of different values"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", "signed CL: not 1*DIGIT, some parsers read it as 5"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello", "negative CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", "hex CL: a prefix-parsing atoi reads 0"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\nhello", "decimal point in CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\nhello", "space inside CL: 5 or 55"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \"5\"\r\n\r\nhello", "quoted CL"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\nhello", "CL of 2^64: wraps to 0 in a 64-bit parser; malformed (400), not too large (413)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b5\r\n\r\nhello", "vertical tab before CL: whitespace to some parsers, a control character here"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\x00\r\n\r\nhello", "NUL after CL: a C parser stops at it"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", "SP before colon (§5.1): one parser sees Content-Length, another an unknown field"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n 5\r\n\r\nhello", "obs-fold in CL (§5.2): an unfolding parser sees 5, another an empty CL"),
    // Content-Length with Transfer-Encoding (§6.1).
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "CL.TE: the classic; §6.1 lets a server drop CL, refusing is the stricter choice"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "TE.CL: the same in the other order"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: identity\r\n\r\nabc", "CL with a non-chunked TE"),
    // Transfer-Encoding (§6.1, §6.3 rule 4, §7, RFC 9110 §10.1.4).
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", "chunked not final: the body length cannot be determined (§6.3 rule 4)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", "TE gzip alone: only close-delimited, which a request cannot be"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", "identity alone (no longer a registered coding): not chunked"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "xchunked: a substring match would call it chunked"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked x\r\n\r\n0\r\n\r\n", "trailing junk after chunked: not a transfer-coding"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", "parameters on chunked: §7.1 says their presence SHOULD be an error"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", "quoted chunked: not a token"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", "vertical tab before chunked: trimmed by some parsers, a control character here"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n", "NUL after chunked: a C parser stops at it"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n0\r\n\r\n", "chunked twice (§7: MUST NOT be applied more than once)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "chunked on two lines: a first-line-wins parser differs from a combining one"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", "chunked not final across lines (RFC 9110 §5.3 combines them)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "SP before colon (§5.1)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", "HTAB before colon (§5.1)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", "obs-fold in TE (§5.2): chunked to one parser, empty to another"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "a folded line that looks like TE to a parser that does not unfold"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTrans\x00fer-Encoding: chunked\r\n\r\n0\r\n\r\n", "NUL in a field name"),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "TE in HTTP/1.0: framing is faulty (§6.1), a 1.0 proxy ignores TE"),
    // Line endings (§2.2).
    (b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n0\n\n", "bare LF line endings: accepted by lenient parsers, so one head has two framings"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\r\n\r\n0\r\n\r\n", "bare CR at the end of a field line"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "bare CR inside a field: a CR-as-line-end parser sees TE"),
    // Chunked framing (§7.1).
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nz\r\nhello\r\n0\r\n\r\n", "non-hex chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", "0x prefix: a strtol parser reads 5, a strict one 0"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", "negative chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", "signed chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", "leading SP before the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", "trailing garbage after the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", "BWS after the size that no extension follows"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", "size over 2^64: truncates to 5 in a 64-bit parser; malformed (400), not 413"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n", "chunk extension outside the §7.1.1 grammar"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\"\r\n0\r\n\r\n", "unterminated quoted extension: a quote-aware parser reads past the CRLF"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nhello\r\n0\r\n\r\n", "bare LF ending an extension"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n", "bare CR after the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", "bare LF after the chunk size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n", "missing CRLF after chunk data"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", "chunk data longer than its size"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", "bare LF after chunk data"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\n", "bare LF ending the chunked body"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", "no final CRLF: the next request's line is read as a trailer field and refused"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\r\n z\r\n\r\n", "obs-fold in the trailer section"),
];

/// Accepted on purpose: (bytes, decoded body, why the RFC allows it and why it is safe).
#[rustfmt::skip]
const ACCEPTED: &[(&[u8], &[u8], &str)] = &[
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "trailing SP is OWS around the value, not part of it (RFC 9110 §5.5)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "HTAB is OWS too"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "coding names are case-insensitive (RFC 9112 §7)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", "empty list elements MUST be ignored (RFC 9110 §5.6.1)"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello", b"hello", "leading zeros are 1*DIGIT, decimal for every parser"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\t\r\n\r\nhello", b"hello", "trailing HTAB is OWS"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n005\r\nhello\r\n0\r\n\r\n", b"hello", "leading zeros in a chunk size are 1*HEXDIG"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ; a = \"b;\\\"c\"\r\nhello\r\n0\r\n\r\n", b"hello", "extension by the §7.1.1 grammar (BWS, quoted-string with quoted-pair), ignored"),
    (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n", b"hello", "a trailer named Content-Length is discarded, never merged into the head (§7.1.2)"),
];

#[test]
fn at_least_25_variants_are_refused() {
    assert!(REFUSED.len() >= 25, "{} refused rows", REFUSED.len());
}

#[test]
fn every_variant_is_refused_and_hides_no_request() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for (raw, why) in REFUSED {
        let stream = [raw, NEXT].concat();
        match parse_request(&stream, &limits) {
            Err(e) if matches!(e.kind, ParseErrorKind::BadRequest(_)) => {}
            other => failures.push(format!("{why}: got {other:?}")),
        }
        // However the bytes arrive, no request is ever handed out, and the verdict is the same.
        let whole = parse_request(&stream, &limits);
        for i in 0..stream.len() {
            match parse_request(&stream[..i], &limits) {
                Ok(Parsed::Partial) => {}
                Err(e) if Err(e) == whole => {}
                other => {
                    failures.push(format!("{why}: prefix {i} gave {other:?}, whole {whole:?}"));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn accepted_forms_frame_exactly_one_request() {
    for (raw, body, why) in ACCEPTED {
        let stream = [raw, NEXT].concat();
        let all = parse_all(&stream).unwrap_or_else(|s| panic!("{why}: refused with {s}"));
        assert_eq!(all.len(), 2, "{why}");
        assert_eq!(all[0].body, *body, "{why}");
        assert_eq!(all[1].path(), "/smuggled", "{why}");
    }
}
