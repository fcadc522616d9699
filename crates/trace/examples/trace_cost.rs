//! What a recorded span costs, with tracing off and on: the basis for the target "tracing on
//! costs ≤ 10% of /plaintext throughput" (a /plaintext request records two spans, its
//! `Request` and one `Run`).
//!
//! Run with `cargo run --release -p clab-trace --example trace_cost [ITERATIONS]`. Single
//! threaded on purpose: the per-thread rings make the cost per thread, uncontended.

use clab_trace::{RingConfig, WaitKind};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Nanoseconds per iteration of `f`, best of three rounds (the machine is shared).
fn ns_per(iterations: u32, mut f: impl FnMut(u32)) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            for i in 0..iterations {
                f(black_box(i));
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .fold(f64::INFINITY, f64::min)
}

fn request(i: u32) -> u32 {
    block_on(clab_trace::traced(
        "/plaintext",
        async move { black_box(i) },
    ))
}

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    let bare = ns_per(iterations, |i| {
        black_box(block_on(async move { black_box(i) }));
    });
    let off = ns_per(iterations, |i| {
        black_box(request(i));
    });
    // Every span costs two clock reads (start, end); on a VM they can dominate.
    let clock = ns_per(iterations, |_| {
        black_box(Instant::now());
    });
    let wait_off = ns_per(iterations, |_| drop(clab_trace::wait(WaitKind::Db)));

    // Rings fill up within the first round, so this is the steady state: every push also
    // overwrites (and frees) the oldest span.
    clab_trace::enable(RingConfig::DEFAULT);
    let on = ns_per(iterations, |i| {
        black_box(request(i));
    });
    clab_trace::set_current(Some(clab_trace::RequestId::next()));
    let wait_on = ns_per(iterations, |_| drop(clab_trace::wait(WaitKind::Db)));
    clab_trace::set_current(None);

    println!("iterations per round: {iterations} (best of 3 rounds)");
    println!("bare future, no wrapper:          {bare:7.1} ns/request");
    println!(
        "traced request, tracing off:      {off:7.1} ns/request ({:+.1} ns vs bare)",
        off - bare
    );
    println!(
        "traced request, tracing on:       {on:7.1} ns/request (2 spans: {:.1} ns/span)",
        (on - off) / 2.0
    );
    println!("one Instant::now():               {clock:7.1} ns (a span reads it twice)");
    println!("wait guard, tracing off:          {wait_off:7.1} ns");
    println!("wait guard, tracing on:           {wait_on:7.1} ns/span");
    let snap = clab_trace::snapshot(0);
    println!(
        "kept {} spans, dropped {} (ring bound holds)",
        snap.spans.len(),
        snap.dropped
    );
}
