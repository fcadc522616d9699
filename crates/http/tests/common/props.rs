//! The properties every input to `parse_request` must satisfy, shared by the seeded mutation
//! loop (`tests/fuzz.rs`) and the proptest generators (`tests/properties.rs`):
//!
//! - no panic, and no hang: each input is timed ([`MAX_PER_INPUT`]) and a [`Watchdog`] aborts
//!   the run, naming the input, if one never returns;
//! - split invariance: reading the bytes in any pieces gives the outcome of reading them at
//!   once (the same requests, the same consumed total, the same error, to the message);
//! - a refused input ends the stream with exactly one error, whose status is one of the
//!   codec's; nothing after it is parsed (every `ParseError` closes the connection);
//! - what parses is self-consistent: each request is complete exactly at its last byte and
//!   parses the same without the bytes that follow it (so the pipelined remainder starts
//!   where `consumed` says), its body fits `max_body` and matches the framing its head declares.
//!
//! `CLAB_FUZZ_CASES` sets how many inputs the whole harness generates (default
//! [`DEFAULT_CASES`]); each test runs its share ([`cases`]).

use clab_http::{Limits, ParseError, Parsed, Request, parse_request};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Inputs across the fuzz harness in a plain `cargo test` run.
pub const DEFAULT_CASES: usize = 60_000;

/// Longest any one input may take to check (all its parses). Real inputs take microseconds;
/// the bound is loose because debug builds share two cores with other work.
pub const MAX_PER_INPUT: Duration = Duration::from_secs(2);

/// How long the watchdog waits for the next input before it calls the run hung.
const STALL: Duration = Duration::from_secs(30);

/// The total number of inputs: `CLAB_FUZZ_CASES` (underscores allowed), else the default.
pub fn total_cases() -> usize {
    std::env::var("CLAB_FUZZ_CASES").map_or(DEFAULT_CASES, |v| {
        v.replace('_', "")
            .parse()
            .expect("CLAB_FUZZ_CASES must be a whole number")
    })
}

/// This test's share of [`total_cases`], in percent.
pub fn cases(percent: usize) -> usize {
    (total_cases() * percent).div_ceil(100)
}

/// How a stream of pipelined requests ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every byte belonged to a complete request.
    Drained,
    /// The last request is incomplete.
    Partial,
    /// Refused: the server answers this error and closes.
    Refused(ParseError),
}

/// Everything a server learns from a stream: its requests (with the bytes each used) and
/// how it ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub requests: Vec<(Request, usize)>,
    pub end: End,
}

/// Parse `buf` as a server does whose reads end at `cuts` (ascending) and then at its end:
/// after each read, parse requests from the unconsumed bytes until one is incomplete.
pub fn feed(buf: &[u8], limits: &Limits, cuts: &[usize]) -> Outcome {
    let mut requests = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([&buf.len()]) {
        let end = cut.clamp(start, buf.len());
        while start < end {
            match parse_request(&buf[start..end], limits) {
                Ok(Parsed::Complete { request, consumed }) => {
                    requests.push((request, consumed));
                    start += consumed;
                }
                Ok(Parsed::Partial) => break,
                Err(e) => {
                    return Outcome {
                        requests,
                        end: End::Refused(e),
                    };
                }
            }
        }
    }
    let end = if start == buf.len() {
        End::Drained
    } else {
        End::Partial
    };
    Outcome { requests, end }
}

/// Check every property of the module docs for `buf`, read whole and in the pieces `cuts`
/// makes. Returns the outcome of reading it whole.
pub fn check(buf: &[u8], limits: &Limits, cuts: &[usize]) -> Outcome {
    let whole = feed(buf, limits, &[]);
    let mut start = 0;
    for (request, consumed) in &whole.requests {
        let (request, consumed) = (request, *consumed);
        assert!(consumed > 0 && start + consumed <= buf.len());
        let own = &buf[start..start + consumed];
        match parse_request(own, limits) {
            Ok(Parsed::Complete {
                request: again,
                consumed: n,
            }) => {
                assert_eq!(
                    (&again, n),
                    (request, consumed),
                    "framing depends on what follows"
                )
            }
            other => panic!("a request's own bytes gave {other:?}"),
        }
        assert_eq!(
            parse_request(&own[..consumed - 1], limits),
            Ok(Parsed::Partial),
            "complete before its last byte"
        );
        body_matches_framing(request, limits);
        start += consumed;
    }
    if let End::Refused(e) = &whole.end {
        assert!(
            matches!(e.status(), 400 | 413 | 414 | 431 | 501 | 505),
            "{e:?}"
        );
    }
    let mut cuts = cuts.to_vec();
    cuts.sort_unstable();
    assert_eq!(feed(buf, limits, &cuts), whole, "split at {cuts:?}");
    whole
}

/// The body is within the limit and has the length its head declares.
fn body_matches_framing(request: &Request, limits: &Limits) {
    assert!(request.body.len() <= limits.max_body);
    let chunked = request.header("transfer-encoding").is_some();
    match request.header("content-length") {
        Some(cl) => {
            assert!(
                !chunked,
                "Content-Length and Transfer-Encoding both accepted"
            );
            let cl: usize = std::str::from_utf8(cl).unwrap().parse().unwrap();
            assert_eq!(request.body.len(), cl);
        }
        None if !chunked => assert!(request.body.is_empty()),
        None => {}
    }
}

/// Time one input's checks against [`MAX_PER_INPUT`], and keep the slowest.
#[derive(Debug, Default)]
pub struct Timer {
    pub inputs: usize,
    pub slowest: Duration,
    pub total: Duration,
}

impl Timer {
    pub fn time<T>(&mut self, input: &[u8], f: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = f();
        let took = started.elapsed();
        assert!(
            took < MAX_PER_INPUT,
            "{took:?} for {:?}",
            String::from_utf8_lossy(input)
        );
        self.inputs += 1;
        self.total += took;
        self.slowest = self.slowest.max(took);
        out
    }

    /// One line for `--nocapture` runs (the figures behind the harness's cost).
    pub fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} inputs in {:.2?}, slowest {:.2?}",
            self.inputs, self.total, self.slowest
        );
    }
}

/// Turns a hang into a failure: if no new input is announced for [`STALL`], print the one
/// that is stuck and abort the test process (a test cannot interrupt its own thread).
#[derive(Debug)]
pub struct Watchdog {
    current: Arc<Mutex<Vec<u8>>>,
    ticks: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
}

impl Watchdog {
    pub fn start(name: &'static str) -> Self {
        let dog = Self {
            current: Arc::default(),
            ticks: Arc::default(),
            done: Arc::default(),
        };
        let (current, ticks, done) = (dog.current.clone(), dog.ticks.clone(), dog.done.clone());
        std::thread::spawn(move || {
            let (mut seen, mut since) = (0, Instant::now());
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let now = ticks.load(Ordering::Relaxed);
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() > STALL {
                    let input = current.lock().map(|i| i.clone()).unwrap_or_default();
                    eprintln!(
                        "{name}: no progress for {STALL:?}, stuck on {:?}",
                        String::from_utf8_lossy(&input)
                    );
                    std::process::abort();
                }
            }
        });
        dog
    }

    /// Announce the next input.
    pub fn input(&self, input: &[u8]) {
        if let Ok(mut current) = self.current.lock() {
            current.clear();
            current.extend_from_slice(input);
        }
        self.ticks.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}
