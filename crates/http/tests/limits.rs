//! Every limit of [`clab_http::Limits`] at its boundary and one past it, on complete and on
//! partial input (a client that never finishes its head must be refused once it crosses a
//! limit, not buffered forever).

mod common;

use clab_http::{Limits, Parsed, parse_request};
use common::{complete, parse, status};

const LINE: usize = Limits::DEFAULT_MAX_REQUEST_LINE;
const HEAD: usize = Limits::DEFAULT_MAX_HEAD;
const FIELDS: usize = Limits::DEFAULT_MAX_HEADERS;
const BODY: usize = Limits::DEFAULT_MAX_BODY;

/// A request line of exactly `len` bytes (without CRLF).
fn request_line(len: usize) -> Vec<u8> {
    let fixed = "GET / HTTP/1.1".len();
    let mut line = b"GET /".to_vec();
    line.resize(len - fixed + 5, b'a');
    line.extend_from_slice(b" HTTP/1.1");
    assert_eq!(line.len(), len);
    line
}

#[test]
fn request_line_at_limit_and_one_past() {
    let mut ok = request_line(LINE);
    ok.extend_from_slice(b"\r\nHost: a\r\n\r\n");
    assert_eq!(complete(&ok).target.len(), LINE - 14 + 1);

    let mut long = request_line(LINE + 1);
    long.extend_from_slice(b"\r\nHost: a\r\n\r\n");
    assert_eq!(status(&long), 414);
}

#[test]
fn endless_request_line_is_refused_once_past_the_limit() {
    let mut buf = b"GET /".to_vec();
    buf.resize(LINE, b'a');
    assert_eq!(parse(&buf), Ok(Parsed::Partial));
    // A CR that may begin the CRLF does not count towards the line.
    buf.push(b'\r');
    assert_eq!(parse(&buf), Ok(Parsed::Partial));
    buf.pop();
    buf.push(b'a');
    assert_eq!(status(&buf), 414);
}

/// RFC 9112 §3: a method longer than any the server implements is not a long URI. A method
/// over `Limits::MAX_METHOD` is refused as a malformed request line (400) as soon as its
/// 33rd token byte arrives, even when it would also overflow the request line (414).
#[test]
fn overlong_method_is_400_not_414() {
    let mut buf = vec![b'A'; Limits::MAX_METHOD];
    assert_eq!(parse(&buf), Ok(Parsed::Partial));
    buf.push(b'A');
    assert_eq!(status(&buf), 400);
    buf.resize(LINE + 100, b'A');
    buf.extend_from_slice(b" / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(status(&buf), 400);
    // With a request-line limit below MAX_METHOD, 414 comes first, for every prefix alike.
    let small = Limits {
        max_request_line: 16,
        ..Limits::default()
    };
    let parse_small = |b: &[u8]| parse_request(b, &small).map_err(|e| e.status());
    assert_eq!(parse_small(&buf[..16]), Ok(Parsed::Partial));
    assert_eq!(parse_small(&buf[..17]), Err(414));
    assert_eq!(parse_small(&buf), Err(414));
}

/// Once the request line holds one byte more than the limit it is 414, whatever byte comes
/// next: the verdict on a prefix and on the whole input agree.
#[test]
fn request_line_verdict_does_not_depend_on_what_follows() {
    let mut buf = request_line(LINE + 1);
    buf.truncate(LINE + 1);
    assert_eq!(status(&buf), 414);
    for next in [b'\x01', b'\r', b'\n', b'a'] {
        let mut longer = buf.clone();
        longer.push(next);
        assert_eq!(status(&longer), 414, "followed by {next:#x}");
    }
}

/// A head of exactly `len` bytes (through the final CRLF) made of filler fields.
fn head_of(len: usize) -> Vec<u8> {
    let mut head = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    // One big field fills the rest: "X: vvvv\r\n" then the final "\r\n".
    let filler = len - head.len() - "X: \r\n\r\n".len();
    head.extend_from_slice(b"X: ");
    head.resize(head.len() + filler, b'v');
    head.extend_from_slice(b"\r\n\r\n");
    assert_eq!(head.len(), len);
    head
}

#[test]
fn head_at_limit_and_one_past() {
    complete(&head_of(HEAD));
    assert_eq!(status(&head_of(HEAD + 1)), 431);
}

#[test]
fn endless_head_is_refused_once_past_the_limit() {
    let full = head_of(HEAD + 100);
    // Everything up to max_head bytes without the end of the head is still acceptable.
    assert_eq!(parse(&full[..HEAD]), Ok(Parsed::Partial));
    assert_eq!(status(&full[..HEAD + 1]), 431);
    // The head of exactly max_head bytes whose last LF has not arrived is Partial, not 431.
    let exact = head_of(HEAD);
    assert_eq!(parse(&exact[..HEAD - 1]), Ok(Parsed::Partial));
}

fn with_fields(n: usize) -> Vec<u8> {
    let mut req = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 1..n {
        req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req
}

#[test]
fn field_count_at_limit_and_one_past() {
    assert_eq!(complete(&with_fields(FIELDS)).headers.len(), FIELDS);
    assert_eq!(status(&with_fields(FIELDS + 1)), 431);
    // Refused on partial input as soon as field number 101 starts.
    let too_many = with_fields(FIELDS + 1);
    let start_of_last = too_many.len() - "X-100: v\r\n\r\n".len();
    assert_eq!(parse(&too_many[..start_of_last]), Ok(Parsed::Partial));
    assert_eq!(status(&too_many[..start_of_last + 1]), 431);
}

fn post(len: usize) -> Vec<u8> {
    let mut req =
        format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {len}\r\n\r\n").into_bytes();
    req.resize(req.len() + len, b'b');
    req
}

#[test]
fn content_length_body_at_limit_and_one_past() {
    assert_eq!(complete(&post(BODY)).body.len(), BODY);
    // Refused from the head alone: no body byte has to arrive.
    let head_only = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n";
    assert_eq!(status(head_only), 413);
    assert_eq!(status(&post(BODY + 1)), 413);
}

fn chunked(sizes: &[usize]) -> Vec<u8> {
    let mut req = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for &n in sizes {
        req.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        req.resize(req.len() + n, b'c');
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

#[test]
fn chunked_body_at_limit_and_one_past() {
    assert_eq!(complete(&chunked(&[BODY / 2, BODY / 2])).body.len(), BODY);
    assert_eq!(status(&chunked(&[BODY / 2, BODY / 2 + 1])), 413);
    // The size line of the chunk that crosses the limit is enough to refuse.
    let mut partial = chunked(&[BODY]);
    partial.truncate(partial.len() - 5);
    let head_len = partial.len() - BODY - 2 - "100000\r\n".len();
    let crossing = [&partial[..head_len], b"100001\r\n"].concat();
    assert_eq!(status(&crossing), 413);
}

#[test]
fn custom_limits_apply() {
    let limits = Limits {
        max_request_line: 20,
        max_head: 48,
        max_headers: 2,
        max_body: 3,
    };
    let parse = |b: &[u8]| parse_request(b, &limits).map_err(|e| e.status());
    assert!(matches!(
        parse(b"GET /aaaaaa HTTP/1.1\r\nHost: a\r\n\r\n"),
        Ok(Parsed::Complete { .. })
    ));
    assert_eq!(parse(b"GET /aaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n"), Err(414));
    assert_eq!(
        parse(b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"),
        Err(431)
    );
    assert_eq!(
        parse(b"GET / HTTP/1.1\r\nHost: aaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
        Err(431)
    );
    assert_eq!(
        parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"),
        Err(413)
    );
}

/// A chunked body may cost at most `2 × max_body + max_head` bytes on the wire (413 past it),
/// so a client cannot make the server buffer far more than the decoded limit by sending many
/// tiny chunks with long extensions.
#[test]
fn chunked_wire_overhead_is_bounded() {
    let limits = Limits {
        max_request_line: 64,
        max_head: 64,
        max_headers: 4,
        max_body: 8,
    };
    let parse = |b: &[u8]| parse_request(b, &limits).map_err(|e| e.status());
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut cheap = head.to_vec();
    cheap.extend_from_slice(b"8\r\n12345678\r\n0\r\n\r\n");
    assert!(matches!(parse(&cheap), Ok(Parsed::Complete { .. })));
    let mut costly = head.to_vec();
    for _ in 0..8 {
        costly.extend_from_slice(b"1;ext=0123456789\r\nx\r\n");
    }
    costly.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(parse(&costly), Err(413));
}
