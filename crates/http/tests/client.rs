//! The client side: encode_request → parse_request and encode_response → parse_response round
//! trips, and response framing by RFC 9112 §6.3.

mod common;

use clab_http::{
    HttpDate, Method, ParsedResponse, Response, Version, encode_request, encode_response,
    encode_response_for, parse_response, parse_response_at_eof,
};
use common::{complete, parse_all};

fn encode(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_request(method, target, "127.0.0.1:8080", headers, body, &mut out);
    out
}

#[test]
fn encode_request_shape() {
    assert_eq!(
        encode("GET", "/json", &[], b""),
        b"GET /json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
    );
    assert_eq!(
        encode("POST", "/", &[("X-A", "b")], b""),
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-A: b\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(
        encode("DELETE", "/x", &[], b"ab"),
        b"DELETE /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 2\r\n\r\nab"
    );
}

/// (method, target, extra headers, body)
type RequestCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8]);

#[test]
fn encode_request_then_parse_request() {
    let cases: &[RequestCase<'_>] = &[
        ("GET", "/plaintext", &[], b""),
        (
            "GET",
            "/users/42/dashboard?x=1",
            &[("Accept", "application/json")],
            b"",
        ),
        ("HEAD", "/", &[("Connection", "close")], b""),
        (
            "POST",
            "/hash",
            &[("Content-Type", "application/json")],
            br#"{"password":"x","cost":1}"#,
        ),
        ("PUT", "/a", &[], b""),
        ("PATCH", "/a", &[], &[0, 1, 2, 255]),
        ("OPTIONS", "*", &[], b""),
    ];
    let mut stream = Vec::new();
    for (method, target, headers, body) in cases {
        let bytes = encode(method, target, headers, body);
        let r = complete(&bytes);
        assert_eq!(r.method, Method::from_token(method));
        assert_eq!(r.method.as_str(), *method);
        assert_eq!(r.target, *target);
        assert_eq!(r.body, *body);
        assert_eq!(r.header("host"), Some(&b"127.0.0.1:8080"[..]));
        for (n, v) in *headers {
            assert_eq!(r.header(n), Some(v.as_bytes()));
        }
        assert_eq!(r.keep_alive, !headers.contains(&("Connection", "close")));
        stream.extend_from_slice(&bytes);
    }
    assert_eq!(parse_all(&stream).unwrap().len(), cases.len());
}

fn complete_response(buf: &[u8], head_only: bool) -> (u16, usize, &[u8], bool) {
    match parse_response(buf, head_only).unwrap() {
        ParsedResponse::Complete {
            status,
            consumed,
            body_start,
            body_len,
            close,
        } => (
            status,
            consumed,
            &buf[body_start..body_start + body_len],
            close,
        ),
        ParsedResponse::Partial => panic!("partial: {:?}", String::from_utf8_lossy(buf)),
    }
}

#[test]
fn encode_response_then_parse_response() {
    let mut date = HttpDate::new();
    let cases = [
        (Response::text(200, "Hello, World!"), false, true),
        (Response::json(201, r#"{"a":1}"#), false, true),
        (Response::new(404, "nope"), false, false),
        (
            Response::new(503, "busy")
                .with_header("Retry-After", "1")
                .closing(),
            false,
            true,
        ),
        (Response::new(200, "body of a HEAD"), true, true),
        (Response::new(204, "ignored"), false, true),
        (Response::new(304, ""), false, true),
        (Response::new(431, ""), false, false),
    ];
    let mut stream = Vec::new();
    for (resp, head_only, keep_alive) in &cases {
        let mut out = Vec::new();
        encode_response(resp, *head_only, *keep_alive, &mut date, &mut out);
        let (status, consumed, body, close) = complete_response(&out, *head_only);
        assert_eq!(status, resp.status);
        assert_eq!(consumed, out.len(), "{:?}", String::from_utf8_lossy(&out));
        let sends_body = !head_only && !matches!(resp.status, 204 | 304);
        assert_eq!(body, if sends_body { &resp.body[..] } else { b"" });
        let parsed = parse_response(&out, *head_only).unwrap();
        assert_eq!(&clab_http::response_body(&out, &parsed).unwrap()[..], body);
        assert_eq!(close, !keep_alive || resp.close);
        for i in 0..out.len() {
            assert_eq!(
                parse_response(&out[..i], *head_only).unwrap(),
                ParsedResponse::Partial
            );
        }
        if !head_only {
            stream.extend_from_slice(&out);
        }
    }
    // Pipelined responses are framed one after another by `consumed`.
    let mut rest = &stream[..];
    let mut statuses = Vec::new();
    while !rest.is_empty() {
        let (status, consumed, _, _) = complete_response(rest, false);
        statuses.push(status);
        rest = &rest[consumed..];
    }
    assert_eq!(statuses, [200, 201, 404, 503, 204, 304, 431]);
}

#[test]
fn encoder_writes_required_fields_and_guards_framing() {
    let mut date = HttpDate::new();
    let mut out = Vec::new();
    let resp = Response::new(200, "abc")
        .with_header("Content-Length", "99")
        .with_header("X-Evil", "a\r\nSet-Cookie: x");
    encode_response(&resp, false, false, &mut date, &mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\nServer: clab\r\nDate: "));
    assert!(text.contains("\r\nContent-Length: 3\r\n"));
    assert!(!text.contains("99"));
    assert!(text.contains("X-Evil: a  Set-Cookie: x\r\n"));
    assert!(text.ends_with("Connection: close\r\n\r\nabc"));
    let mut out = Vec::new();
    encode_response(&Response::new(204, ""), false, true, &mut date, &mut out);
    assert!(!String::from_utf8(out).unwrap().contains("Content-Length"));
}

#[test]
fn http10_keep_alive_is_confirmed() {
    let mut date = HttpDate::new();
    let resp = Response::new(200, "x");
    let mut out = Vec::new();
    encode_response_for(&resp, Version::Http10, false, true, &mut date, &mut out);
    assert!(String::from_utf8_lossy(&out).contains("\r\nConnection: keep-alive\r\n"));
    assert!(
        !complete_response(&out, false).3,
        "HTTP/1.1 response without close persists"
    );
    out.clear();
    encode_response_for(&resp, Version::Http10, false, false, &mut date, &mut out);
    assert!(String::from_utf8_lossy(&out).contains("\r\nConnection: close\r\n"));
    out.clear();
    encode_response_for(&resp, Version::Http11, false, true, &mut date, &mut out);
    assert!(!String::from_utf8_lossy(&out).contains("Connection"));
}

#[test]
fn reason_phrases_for_codes_in_use() {
    for code in [
        200, 201, 204, 400, 404, 405, 408, 413, 414, 415, 422, 429, 431, 500, 501, 503, 505,
    ] {
        assert!(!clab_http::reason_phrase(code).is_empty(), "{code}");
    }
}

#[test]
fn chunked_response_body_is_measured() {
    let buf = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x\r\n!\r\n0\r\nT: v\r\n\r\nNEXT";
    let head_len = buf.iter().position(|&b| b == b'5').unwrap();
    let want = ParsedResponse::Complete {
        status: 200,
        consumed: buf.len() - 4,
        body_start: head_len,
        body_len: 6,
        close: false,
    };
    assert_eq!(parse_response(buf, false).unwrap(), want);
    let body = clab_http::response_body(buf, &want).unwrap();
    assert_eq!(&body[..], b"hello!");
    let whole = buf.len() - 4;
    for i in 0..whole {
        assert_eq!(
            parse_response(&buf[..i], false).unwrap(),
            ParsedResponse::Partial,
            "{i}"
        );
    }
}

#[test]
fn response_framing_rules() {
    // §6.3 rule 1: HEAD responses and 1xx/204/304 have no body whatever Content-Length says.
    let (_, consumed, body, _) =
        complete_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true);
    assert_eq!((consumed, body), (38, &b""[..]));
    let (status, consumed, _, _) =
        complete_response(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200", false);
    assert_eq!((status, consumed), (100, 25));
    // §9.3: HTTP/1.0 closes unless keep-alive; "close" closes any version.
    assert!(complete_response(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false).3);
    assert!(
        !complete_response(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            false
        )
        .3
    );
    assert!(
        complete_response(
            b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n",
            false
        )
        .3
    );
    // §6.3 rule 4: repeated identical Content-Length is tolerated in a response; different is not.
    assert_eq!(
        complete_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
            false
        )
        .2,
        b"a"
    );
    assert!(
        parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            false
        )
        .is_err()
    );
    assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false).is_err());
    assert!(parse_response(b"HTTP/1.1 2000 OK\r\n\r\n", false).is_err());
    // §6.3 rule 3: Transfer-Encoding overrides Content-Length.
    let te_cl =
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(complete_response(te_cl, false).1, te_cl.len());
}

#[test]
fn close_delimited_bodies_end_at_eof() {
    // §6.3 rule 5 (no length) and rule 3 (final coding not chunked): read until close.
    for buf in [
        &b"HTTP/1.1 200 OK\r\n\r\nuntil close"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nuntil close",
    ] {
        assert_eq!(parse_response(buf, false).unwrap(), ParsedResponse::Partial);
        match parse_response_at_eof(buf).unwrap() {
            ParsedResponse::Complete {
                consumed,
                body_start,
                body_len,
                close,
                ..
            } => {
                assert_eq!(&buf[body_start..body_start + body_len], b"until close");
                assert_eq!(consumed, buf.len());
                assert!(close);
            }
            ParsedResponse::Partial => panic!("partial at eof"),
        }
    }
    // A framed response cut short by EOF is an error, not a body.
    assert!(parse_response_at_eof(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab").is_err());
    assert!(parse_response_at_eof(b"HTTP/1.1 200 OK\r\nContent-").is_err());
    // A complete framed response at EOF parses normally.
    assert!(matches!(
        parse_response_at_eof(b"HTTP/1.1 204 No Content\r\n\r\n"),
        Ok(ParsedResponse::Complete { status: 204, .. })
    ));
}

#[test]
fn response_head_limits() {
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..=clab_http::MAX_RESPONSE_HEADERS {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    assert_eq!(parse_response(&many, false).unwrap_err().status(), 431);
    let mut endless = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    endless.resize(clab_http::MAX_RESPONSE_HEAD, b'v');
    assert_eq!(
        parse_response(&endless, false).unwrap(),
        ParsedResponse::Partial
    );
    endless.push(b'v');
    assert_eq!(parse_response(&endless, false).unwrap_err().status(), 431);
}
