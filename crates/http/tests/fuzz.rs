//! Fuzz-style robustness: random bytes, and random mutations of valid requests and responses,
//! must never panic; whatever parses must be self-consistent. A fixed-seed xorshift PRNG keeps
//! the test deterministic (same inputs on every run) and dependency-free.

use clab_http::{
    Limits, Parsed, ParsedResponse, parse_request, parse_response, parse_response_at_eof,
};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e\r\nhello\r\n0\r\nT: v\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
];

/// Bytes that matter to the grammar, so mutations hit interesting paths often.
const ALPHABET: &[u8] = b"\r\n :;,\t0123456789abcdefABCDEF/\x00\x7f\xffHTTP";

fn check(buf: &[u8], limits: &Limits) {
    if let Ok(Parsed::Complete { request, consumed }) = parse_request(buf, limits) {
        assert!(consumed <= buf.len());
        assert!(request.body.len() <= limits.max_body);
    }
    for head_only in [false, true] {
        if let Ok(
            parsed @ ParsedResponse::Complete {
                consumed,
                body_start,
                body_len,
                ..
            },
        ) = parse_response(buf, head_only)
        {
            assert!(consumed <= buf.len() && body_start <= consumed);
            assert!(body_len <= consumed - body_start);
            let body = clab_http::response_body(buf, &parsed).expect("a framed body decodes");
            assert_eq!(body.len(), body_len);
        }
    }
    let _ = parse_response_at_eof(buf);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let limits = Limits::default();
    for _ in 0..20_000 {
        let len = rng.below(200);
        let buf: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(2) == 0 {
                    rng.next() as u8
                } else {
                    ALPHABET[rng.below(ALPHABET.len())]
                }
            })
            .collect();
        check(&buf, &limits);
    }
}

#[test]
fn mutated_messages_never_panic() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let small = Limits {
        max_request_line: 24,
        max_head: 64,
        max_headers: 3,
        max_body: 8,
    };
    for _ in 0..20_000 {
        let mut buf = SEEDS[rng.below(SEEDS.len())].to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(buf.len() + 1);
            let byte = ALPHABET[rng.below(ALPHABET.len())];
            match rng.below(3) {
                0 if at < buf.len() => buf[at] = byte,
                1 if at < buf.len() => {
                    buf.remove(at);
                }
                _ => buf.insert(at, byte),
            }
        }
        check(&buf, &Limits::default());
        check(&buf, &small);
    }
}
