//! Incremental input: every prefix of a valid request is `Partial`, and every two-way split of
//! a request stream (a server accumulating bytes: parse `buf[..i]`, then the whole) parses the
//! same as the whole.

mod common;

use clab_http::Parsed;
use clab_http::corpus::VALID;
use common::{parse, parse_all};

#[test]
fn every_prefix_is_partial() {
    for req in VALID {
        for i in 0..req.len() {
            assert_eq!(
                parse(&req[..i]),
                Ok(Parsed::Partial),
                "prefix {i} of {:?}",
                String::from_utf8_lossy(req)
            );
        }
        assert!(
            matches!(parse(req), Ok(Parsed::Complete { consumed, .. }) if consumed == req.len())
        );
    }
}

fn stream() -> Vec<u8> {
    VALID.concat()
}

#[test]
fn pipelined_stream_parses_in_order() {
    let all = parse_all(&stream()).unwrap();
    assert_eq!(all.len(), VALID.len());
    let paths: Vec<&str> = all.iter().map(|r| r.path()).collect();
    assert_eq!(paths, ["/", "/x", "/", "/echo", "/", "/c", "*"]);
    assert_eq!(all[3].body, b"hello world");
    assert_eq!(all[4].body, b"hello world");
    assert!(!all[1].keep_alive);
}

/// Feed `stream[..i]` first, as a server that has read i bytes does, then the whole stream,
/// consuming requests as they complete: the result must equal parsing the whole at once.
#[test]
fn every_two_way_split_parses_like_the_whole() {
    let stream = stream();
    let whole = parse_all(&stream).unwrap();
    for i in 0..=stream.len() {
        let mut got = Vec::new();
        let mut start = 0;
        for end in [i, stream.len()] {
            while start < end {
                match parse(&stream[start..end]).unwrap() {
                    Parsed::Complete { request, consumed } => {
                        got.push(request);
                        start += consumed;
                    }
                    Parsed::Partial => break,
                }
            }
        }
        assert_eq!(start, stream.len(), "split at {i}: stream fully consumed");
        assert_eq!(got, whole, "split at {i}");
    }
}

/// Pipelined requests are framed by `consumed` even when a body looks like a request.
#[test]
fn body_that_looks_like_a_request_is_body() {
    let inner = b"GET /evil HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut s = format!(
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
        inner.len()
    )
    .into_bytes();
    s.extend_from_slice(inner);
    s.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    let all = parse_all(&s).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].body, inner);
    assert_eq!(all[1].path(), "/next");
}

/// A bad request behind a good one does not spoil the good one: the first is answered, the
/// second refused (the server then closes).
#[test]
fn bad_request_after_a_good_one() {
    let stream = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost : a\r\n\r\n";
    let Ok(Parsed::Complete { request, consumed }) = parse(stream) else {
        panic!("first request should parse");
    };
    assert_eq!(request.path(), "/a");
    assert_eq!(parse(&stream[consumed..]), Err(400));
}
