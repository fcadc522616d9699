//! Basic behaviour of the codec, end to end.

mod common;

use clab_http::{HttpDate, Method, Parsed, ParsedResponse, Response, Version};
use clab_http::{encode_request, encode_response, parse_response};
use common::{complete, parse};

#[test]
fn simple_get() {
    let r = complete(b"GET /users/7?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n");
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.path(), "/users/7");
    assert_eq!(r.query(), Some("x=1"));
    assert_eq!(r.version, Version::Http11);
    assert_eq!(r.header("accept"), Some(&b"*/*"[..]));
    assert!(r.keep_alive);
    assert!(r.body.is_empty());
}

#[test]
fn post_with_body_and_chunked() {
    let r = complete(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(r.body, b"hello");
    let r = complete(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(r.body, b"hello");
    assert_eq!(
        parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel"),
        Ok(Parsed::Partial)
    );
}

#[test]
fn response_round_trip() {
    let mut out = Vec::new();
    let mut date = HttpDate::new();
    encode_response(
        &Response::text(200, "Hello"),
        false,
        true,
        &mut date,
        &mut out,
    );
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\nServer: clab\r\nDate: "),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\nHello"));
    match parse_response(&out, false).unwrap() {
        ParsedResponse::Complete {
            status,
            consumed,
            body_start,
            body_len,
            close,
        } => {
            assert_eq!((status, consumed, close), (200, out.len(), false));
            assert_eq!(&out[body_start..body_start + body_len], b"Hello");
        }
        ParsedResponse::Partial => panic!("partial"),
    }
}

#[test]
fn request_round_trip() {
    let mut out = Vec::new();
    encode_request(
        "POST",
        "/hash",
        "localhost:8080",
        &[("X-A", "1")],
        b"pw",
        &mut out,
    );
    let r = complete(&out);
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.body, b"pw");
    assert_eq!(r.header("host"), Some(&b"localhost:8080"[..]));
}
