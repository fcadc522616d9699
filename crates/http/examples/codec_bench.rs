//! Rough throughput of the codec's hot paths on this machine (not a unit test: timings vary).
//! Run: `cargo run --release -p clab-http --example codec_bench`

use std::hint::black_box;
use std::time::Instant;

use clab_http::{
    HttpDate, Limits, Response, encode_request, encode_response, parse_request, parse_response,
};

fn time(name: &str, iters: u32, mut f: impl FnMut()) {
    // An optional divisor shortens the runs, e.g. under `valgrind --tool=callgrind`.
    let iters = iters
        / std::env::args()
            .nth(1)
            .and_then(|d| d.parse().ok())
            .unwrap_or(1);
    for _ in 0..iters / 10 {
        f();
    }
    // Best of five runs: the machine is shared, the minimum is the least disturbed figure.
    let mut ns = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        ns = ns.min(start.elapsed().as_nanos() as f64 / f64::from(iters));
    }
    println!("{name:<44} {ns:>8.1} ns/op  ({:.2} M ops/s)", 1e3 / ns);
}

fn main() {
    let limits = Limits::default();
    // The request wrk sends for `wrk http://127.0.0.1:8080/plaintext`.
    let wrk = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
    // A browser-like request with more fields.
    let browser = b"GET /users/42/dashboard?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nCookie: session=abcdef0123456789\r\n\r\n";
    time("parse_request (wrk GET, 2 lines)", 400_000, || {
        black_box(parse_request(black_box(wrk), &limits).ok());
    });
    time("parse_request (browser GET, 8 fields)", 200_000, || {
        black_box(parse_request(black_box(browser), &limits).ok());
    });
    let mut date = HttpDate::new();
    let resp = Response::text(200, "Hello, World!");
    let mut out = Vec::with_capacity(256);
    time("encode_response (plaintext)", 400_000, || {
        out.clear();
        encode_response(black_box(&resp), false, true, &mut date, &mut out);
        black_box(&out);
    });
    let encoded = out.clone();
    time("parse_response (plaintext)", 400_000, || {
        black_box(parse_response(black_box(&encoded), false).ok());
    });
    let mut req = Vec::with_capacity(256);
    time("encode_request (GET)", 400_000, || {
        req.clear();
        encode_request("GET", "/plaintext", "127.0.0.1:8080", &[], b"", &mut req);
        black_box(&req);
    });
}
