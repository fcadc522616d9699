//! Property tests with generated requests: proptest builds pipelined streams of valid
//! requests from the grammar's parts (methods up to `Limits::MAX_METHOD`, targets, Host forms,
//! Content-Length and chunked bodies with extensions and trailers), reads them in random
//! pieces, and sometimes corrupts a few bytes. Every stream must satisfy `common::props`; an
//! uncorrupted one must parse to exactly the requests it was built from. `CLAB_FUZZ_CASES`
//! raises the number of cases (see `common::props`).

mod common;

use clab_http::{Limits, Method, Version};
use common::props::{End, Timer, Watchdog, cases, check};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;

/// One generated request: its bytes and what it must parse to.
#[derive(Debug, Clone)]
struct Built {
    bytes: Vec<u8>,
    method: String,
    version: Version,
    body: Vec<u8>,
    keep_alive: bool,
}

/// A string of `len` bytes drawn from `class` (cheaper to generate than a regex strategy).
fn string_of(
    class: &'static [u8],
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> + Clone {
    proptest::collection::vec(prop::sample::select(class), len)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

const TCHAR: &[u8] =
    b"!#$%&'*+.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-";
const VCHAR_SP: &[u8] = b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

fn token(max: usize) -> impl Strategy<Value = String> + Clone {
    string_of(TCHAR, 1..=max)
}

/// Optional whitespace: none most of the time.
fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just(""), 1 => Just(" "), 1 => Just("\t"), 1 => Just(" \t ")]
}

/// A quoted-string: qdtext, and quoted-pairs escaping `"` or `\\`.
fn quoted_string() -> impl Strategy<Value = String> {
    string_of(VCHAR_SP, 0..=8).prop_map(|inner| {
        let escaped: String = inner
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("\"{escaped}\"")
    })
}

/// RFC 9112 §7.1.1 chunk extensions, BWS included.
fn chunk_ext() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just(None),
        token(6).prop_map(Some),
        quoted_string().prop_map(Some)
    ];
    let one =
        (ows(), ows(), token(6), ows(), ows(), value).prop_map(|(a, b, name, c, d, value)| {
            match value {
                Some(v) => format!("{a};{b}{name}{c}={d}{v}"),
                None => format!("{a};{b}{name}"),
            }
        });
    proptest::collection::vec(one, 0..3).prop_map(|e| e.concat())
}

/// A chunk size for `n`: any case, sometimes with leading zeros.
fn size(n: usize) -> impl Strategy<Value = String> {
    (0..3usize, any::<bool>()).prop_map(move |(zeros, upper)| {
        let hex = if upper {
            format!("{n:X}")
        } else {
            format!("{n:x}")
        };
        format!("{}{hex}", "0".repeat(zeros))
    })
}

fn chunked_body() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let chunk = proptest::collection::vec(any::<u8>(), 1..24)
        .prop_flat_map(|data| (size(data.len()), chunk_ext(), Just(data)));
    let trailer =
        (token(8), string_of(VCHAR_SP, 0..=8)).prop_map(|(n, v)| format!("X-{n}: {v}\r\n"));
    (
        proptest::collection::vec(chunk, 0..4),
        size(0),
        chunk_ext(),
        proptest::collection::vec(trailer, 0..3),
    )
        .prop_map(|(chunks, last, last_ext, trailers)| {
            let (mut wire, mut body) = (Vec::new(), Vec::new());
            for (size, ext, data) in chunks {
                wire.extend_from_slice(format!("{size}{ext}\r\n").as_bytes());
                wire.extend_from_slice(&data);
                wire.extend_from_slice(b"\r\n");
                body.extend_from_slice(&data);
            }
            wire.extend_from_slice(
                format!("{last}{last_ext}\r\n{}\r\n", trailers.concat()).as_bytes(),
            );
            (wire, body)
        })
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (
            proptest::collection::vec(
                prop_oneof![
                    4 => string_of(b"abcz019._~!$&'()*+,;=:@/-", 1..=1),
                    1 => string_of(b"0123456789ABCDEFabcdef", 2..=2).prop_map(|h| format!("%{h}")),
                ],
                0..16,
            ),
            prop_oneof![Just(String::new()), string_of(b"az09=&/?", 0..=8).prop_map(|q| format!("?{q}"))],
        )
            .prop_map(|(path, query)| format!("/{}{query}", path.concat())),
        1 => Just("http://a/p?q".to_owned()),
    ]
}

fn host() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "a",
            "example.com:8080",
            "127.0.0.1",
            "[::1]:80",
            "[2001:db8::1]",
            "",
        ][..],
    )
}

/// Field lines that carry no framing: names are prefixed so none is Host, Content-Length,
/// Transfer-Encoding or Connection.
fn other_fields() -> impl Strategy<Value = String> {
    // Values are SP, HTAB, VCHAR and obs-text (U+00E9 is sent as the bytes C3 A9).
    let value = proptest::collection::vec(
        prop_oneof![8 => string_of(VCHAR_SP, 1..=1), 1 => Just("\t".to_owned()), 1 => Just("\u{e9}".to_owned())],
        0..12,
    );
    let field =
        (token(10), ows(), value).prop_map(|(n, sp, v)| format!("X-{n}:{sp}{}\r\n", v.concat()));
    proptest::collection::vec(field, 0..4).prop_map(|f| f.concat())
}

fn request() -> impl Strategy<Value = Built> {
    let method = prop_oneof![
        prop::sample::select(&["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH"][..])
            .prop_map(str::to_owned),
        token(Limits::MAX_METHOD),
    ];
    let connection = prop::sample::select(&["", "close", "keep-alive", "foo, Close"][..]);
    let body = prop_oneof![
        Just(None),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| Some((false, b.clone(), b))),
        chunked_body().prop_map(|(wire, body)| Some((true, wire, body))),
    ];
    (
        method,
        target(),
        any::<bool>(),
        host(),
        other_fields(),
        connection,
        body,
    )
        .prop_map(|(method, target, http11, host, fields, connection, body)| {
            let version = if http11 {
                Version::Http11
            } else {
                Version::Http10
            };
            let mut head = format!(
                "{method} {target} HTTP/1.{}\r\nHost: {host}\r\n{fields}",
                u8::from(http11)
            );
            if !connection.is_empty() {
                head.push_str(&format!("Connection: {connection}\r\n"));
            }
            // A chunked request needs HTTP/1.1 (RFC 9112 §6.1); send it as a length there.
            let (wire, decoded) = match body {
                Some((true, wire, body)) if http11 => {
                    head.push_str("Transfer-Encoding: chunked\r\n");
                    (wire, body)
                }
                Some((_, _, body)) => {
                    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
                    (body.clone(), body)
                }
                None => (Vec::new(), Vec::new()),
            };
            head.push_str("\r\n");
            let close = connection.to_ascii_lowercase().contains("close");
            let keep_alive = !close && (http11 || connection == "keep-alive");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&wire);
            Built {
                bytes,
                method,
                version,
                body: decoded,
                keep_alive,
            }
        })
}

/// Byte edits that may turn a valid stream into any other: (where, what, how).
fn corruption() -> impl Strategy<Value = Vec<(Index, u8, u8)>> {
    let byte = prop_oneof![
        prop::sample::select(&b"\r\n :;,=\"\\\t0aF/\x00\x0b\x7f"[..]),
        any::<u8>()
    ];
    prop_oneof![
        3 => Just(Vec::new()),
        2 => proptest::collection::vec((any::<Index>(), byte, 0..3u8), 1..4),
    ]
}

fn corrupt(bytes: &mut Vec<u8>, edits: &[(Index, u8, u8)]) {
    for (at, byte, how) in edits {
        let i = at.index(bytes.len() + 1);
        match how {
            0 if i < bytes.len() => bytes[i] = *byte,
            1 if i < bytes.len() => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, *byte),
        }
    }
}

#[test]
fn generated_streams() {
    let config = Config {
        cases: u32::try_from(cases(40)).unwrap_or(u32::MAX),
        // Failures are reported with the shrunk input; no regression files in the tree.
        failure_persistence: None,
        ..Config::default()
    };
    let dog = Watchdog::start("generated_streams");
    let timer = RefCell::new(Timer::default());
    let strategy = (
        proptest::collection::vec(request(), 1..4),
        corruption(),
        proptest::collection::vec(any::<Index>(), 0..4),
    );
    let limits = Limits::default();
    TestRunner::new(config)
        .run(&strategy, |(requests, edits, cut_at)| {
            let mut bytes = requests
                .iter()
                .flat_map(|r| r.bytes.clone())
                .collect::<Vec<_>>();
            corrupt(&mut bytes, &edits);
            let cuts: Vec<usize> = cut_at.iter().map(|c| c.index(bytes.len() + 1)).collect();
            dog.input(&bytes);
            let outcome = timer
                .borrow_mut()
                .time(&bytes, || check(&bytes, &limits, &cuts));
            if edits.is_empty() {
                prop_assert_eq!(&outcome.end, &End::Drained);
                prop_assert_eq!(outcome.requests.len(), requests.len());
                for ((got, consumed), want) in outcome.requests.iter().zip(&requests) {
                    prop_assert_eq!(*consumed, want.bytes.len());
                    prop_assert_eq!(&got.method, &Method::from_token(&want.method));
                    prop_assert_eq!(got.version, want.version);
                    prop_assert_eq!(&got.body, &want.body);
                    prop_assert_eq!(got.keep_alive, want.keep_alive);
                }
            }
            Ok(())
        })
        .unwrap();
    timer.borrow().report("generated_streams");
}
