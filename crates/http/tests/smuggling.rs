//! Request smuggling (RFC 9112 §11.2): a request whose end two parsers could place
//! differently lets a client hide a second request inside the first. Every variant below is
//! refused with 400 (`BadRequest`), and a request appended behind it is never parsed: no
//! prefix of the bytes ever yields a request, so the caller has nothing to answer but the
//! error, after which it closes (every `ParseError` closes the connection; the server's
//! `Conn::refuse` does so). A few RFC-allowed forms are accepted on purpose; they are in
//! `ACCEPTED` with the reason, and must frame exactly one request.

mod common;

use clab_http::corpus::{ACCEPTED, NEXT, REFUSED};
use clab_http::{Limits, ParseErrorKind, Parsed, parse_request};
use common::parse_all;

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
