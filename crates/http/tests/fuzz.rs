//! Seeded mutation fuzzing: random bytes, and random mutations of a corpus of valid requests
//! and responses, checked against the properties of `common::props` (no panic or hang, split
//! invariance, one terminal error, self-consistent requests); responses must frame
//! consistently. A fixed-seed xorshift PRNG keeps every run on the same inputs, so a failure
//! reproduces; `CLAB_FUZZ_CASES` raises the number of inputs (see `common::props`).

mod common;

use clab_http::{Limits, ParsedResponse, parse_response, parse_response_at_eof};
use common::corpus::{MORE_VALID, VALID};
use common::props::{Timer, Watchdog, cases, check};

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
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
}

const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
];

/// Bytes that matter to the grammar, so mutations hit interesting paths often.
const ALPHABET: &[u8] = b"\r\n :;,=\"\\\t0123456789abcdefABCDEF/[]%\x00\x0b\x7f\xffHTTP";

/// Fragments a smuggler would splice in: framing fields, codings, odd numbers and line ends.
const DICTIONARY: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"\r\n ",
    b"Content-Length: 5\r\n",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: ",
    b"chunked",
    b", chunked",
    b"gzip, ",
    b"Host: a\r\n",
    b"Host: [::1]:80\r\n",
    b"Connection: close\r\n",
    b"0\r\n\r\n",
    b"5\r\nhello\r\n",
    b";a=\"b\"",
    b";x",
    b"ffffffffffffffffff",
    b"18446744073709551616",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
];

/// Apply one to four random edits: overwrite, delete or insert a byte, splice in a
/// dictionary fragment, or duplicate a slice of the input.
fn mutate(rng: &mut XorShift, buf: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(buf.len() + 1);
        match rng.below(6) {
            0 if at < buf.len() => buf[at] = *rng.pick(ALPHABET),
            1 if at < buf.len() => {
                buf.remove(at);
            }
            2 => {
                let fragment = rng.pick(DICTIONARY);
                buf.splice(at..at, fragment.iter().copied());
            }
            3 if at < buf.len() => {
                let end = at + rng.below(buf.len() - at + 1);
                let copy = buf[at..end].to_vec();
                let to = rng.below(buf.len() + 1);
                buf.splice(to..to, copy);
            }
            _ => buf.insert(at, *rng.pick(ALPHABET)),
        }
    }
}

/// Up to three read boundaries inside `len` bytes.
fn cuts(rng: &mut XorShift, len: usize) -> Vec<usize> {
    (0..rng.below(4)).map(|_| rng.below(len + 1)).collect()
}

/// Limits small enough for mutated corpus entries to cross every one of them.
const SMALL: Limits = Limits {
    max_request_line: 24,
    max_head: 64,
    max_headers: 3,
    max_body: 8,
};

/// The client side: no panic, and a complete response frames a body that decodes.
fn check_response(buf: &[u8]) {
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
fn random_bytes() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (dog, mut timer) = (Watchdog::start("random_bytes"), Timer::default());
    let limits = Limits::default();
    for _ in 0..cases(10) {
        let len = rng.below(200);
        let buf: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(2) == 0 {
                    rng.next() as u8
                } else {
                    *rng.pick(ALPHABET)
                }
            })
            .collect();
        let cuts = cuts(&mut rng, buf.len());
        dog.input(&buf);
        timer.time(&buf, || {
            check(&buf, &limits, &cuts);
            check_response(&buf);
        });
    }
    timer.report("random_bytes");
}

#[test]
fn mutated_requests() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let (dog, mut timer) = (Watchdog::start("mutated_requests"), Timer::default());
    let corpus: Vec<&[u8]> = VALID.iter().chain(MORE_VALID).copied().collect();
    let limits = Limits::default();
    for _ in 0..cases(45) {
        // Often a pipelined pair, so the remainder after a request is exercised too.
        let mut buf = rng.pick(&corpus).to_vec();
        if rng.below(3) == 0 {
            let next = rng.pick(&corpus);
            buf.extend_from_slice(next);
        }
        mutate(&mut rng, &mut buf);
        let cuts = cuts(&mut rng, buf.len());
        dog.input(&buf);
        timer.time(&buf, || {
            check(&buf, &limits, &cuts);
            check(&buf, &SMALL, &cuts);
        });
    }
    timer.report("mutated_requests");
}

#[test]
fn mutated_responses() {
    let mut rng = XorShift(0xd1b5_4a32_d192_ed03);
    let (dog, mut timer) = (Watchdog::start("mutated_responses"), Timer::default());
    for _ in 0..cases(5) {
        let mut buf = rng.pick(RESPONSES).to_vec();
        mutate(&mut rng, &mut buf);
        dog.input(&buf);
        timer.time(&buf, || check_response(&buf));
    }
    timer.report("mutated_responses");
}
