//! Seeded mutation fuzzing: random bytes, and random mutations of a corpus of valid requests
//! and responses, checked against the properties of `common::props` (no panic or hang, split
//! invariance, one terminal error, self-consistent requests); responses must frame
//! consistently. A fixed-seed xorshift PRNG keeps every run on the same inputs, so a failure
//! reproduces; `CLAB_FUZZ_CASES` raises the number of inputs (see `common::props`).

mod common;

use clab_http::corpus::{ALPHABET, MORE_VALID, VALID, XorShift, mutate};
use clab_http::{Limits, ParsedResponse, parse_response, parse_response_at_eof};
use common::props::{Timer, Watchdog, cases, check};

const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
];

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
