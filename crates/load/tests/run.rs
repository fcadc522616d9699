//! End-to-end runs of the load generator against the in-process test server.
//! Assertions are on counts and on orders of magnitude, never on tight timings: the machine
//! is a shared 2-vCPU VM.

mod support;

use clab_load::{Config, Mode, RequestMix, Schedule, Stop, TargetSpec, run};
use std::time::Duration;
use support::{Behavior, TestServer};

fn schedule(mode: Mode, stop: Stop) -> Schedule {
    Schedule {
        mode,
        stop,
        warmup: Duration::ZERO,
        pipeline: 1,
    }
}

fn config(server: &TestServer, schedule: Schedule) -> Config {
    let mut c = Config::new(&server.url("/hello"), schedule).unwrap();
    c.threads = 2;
    c
}

#[test]
fn closed_loop_count_is_exact() {
    let server = TestServer::start(Behavior::Hello);
    let report = run(&config(
        &server,
        schedule(Mode::Closed { connections: 8 }, Stop::Count(2000)),
    ))
    .unwrap();
    assert_eq!(report.responses, 2000);
    assert_eq!(report.errors.total(), 0);
    assert_eq!(report.status_codes.get("200"), Some(&2000));
    assert_eq!(report.body_bytes, 2000 * 13);
    // The preflight connect is the only extra connection.
    assert_eq!(server.requests(), 2000);
    assert_eq!(report.connects, 8);
    assert!(report.latency_corrected_ms.is_none());
    let timeline_total: u64 = report.timeline.iter().map(|s| s.responses).sum();
    assert_eq!(timeline_total, 2000);
    // Closed loop: the workers give up wakeup preemption (see `SchedPolicy`).
    assert_eq!(report.settings.sched, "batch");
}

#[test]
fn closed_loop_duration_runs_for_its_duration() {
    let server = TestServer::start(Behavior::Hello);
    let started = std::time::Instant::now();
    let mut sched = schedule(
        Mode::Closed { connections: 4 },
        Stop::Duration(Duration::from_millis(800)),
    );
    sched.warmup = Duration::from_millis(200);
    let report = run(&config(&server, sched)).unwrap();
    let wall = started.elapsed();
    assert!(wall >= Duration::from_millis(1000), "{wall:?}");
    assert!(wall < Duration::from_secs(5), "{wall:?}");
    assert!(report.responses > 0);
    // Warmup requests reach the server but are not recorded.
    assert!(server.requests() > report.responses);
    assert!((report.elapsed_s - 0.8).abs() < 1e-9);
}

#[test]
fn open_loop_count_follows_the_schedule() {
    let server = TestServer::start(Behavior::Hello);
    let started = std::time::Instant::now();
    let sched = schedule(
        Mode::Open {
            rate: 400.0,
            connections: 4,
        },
        Stop::Count(400),
    );
    let report = run(&config(&server, sched)).unwrap();
    assert_eq!(report.responses, 400);
    assert_eq!(server.requests(), 400);
    // The last intended send is at 399/400 s: the run cannot be faster than its schedule.
    assert!(started.elapsed() >= Duration::from_millis(990));
    assert!(report.elapsed_s >= 0.99, "{}", report.elapsed_s);
    let corrected = report.latency_corrected_ms.unwrap();
    let uncorrected = report.latency_uncorrected_ms.unwrap();
    assert!(corrected.max >= uncorrected.max * 0.999);
    // Open loop: sends are due at fixed times, so the workers keep their preemption.
    assert_eq!(report.settings.sched, "normal");
}

#[test]
fn pipelining_keeps_several_requests_in_flight() {
    let server = TestServer::start(Behavior::Hello);
    let mut sched = schedule(Mode::Closed { connections: 2 }, Stop::Count(4000));
    sched.pipeline = 16;
    let report = run(&config(&server, sched)).unwrap();
    assert_eq!(report.responses, 4000);
    assert_eq!(report.errors.total(), 0);
    let batch = server
        .counters
        .max_batch
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        batch > 1,
        "the server never saw two requests in one read (max batch {batch})"
    );
}

/// Bodies near the server's 1 MB limit go out whole and every response is counted. (On
/// loopback the kernel's buffers usually absorb a whole request, so this does not force the
/// write to stop on a full send buffer; a 120 KB x 16 pipelined run against `clab serve`
/// did, see the commit that made writability on-demand.)
#[test]
fn large_bodies_are_sent_whole() {
    let server = TestServer::start(Behavior::Hello);
    let sched = schedule(Mode::Closed { connections: 2 }, Stop::Count(40));
    let mut cfg = config(&server, sched);
    post_upload(&mut cfg, 1_000_000);
    cfg.timeout = Duration::from_secs(20);
    let report = run(&cfg).unwrap();
    assert_eq!(report.errors.total(), 0);
    assert_eq!(report.responses, 40);
    assert_eq!(server.requests(), 40);
}

/// An open-loop run at `rate` over 4 connections for `secs` seconds, with `timeout`.
fn open_loop_for(
    server: &TestServer,
    rate: f64,
    secs: u64,
    timeout: Duration,
) -> clab_load::Report {
    let sched = schedule(
        Mode::Open {
            rate,
            connections: 4,
        },
        Stop::Duration(Duration::from_secs(secs)),
    );
    let mut cfg = config(server, sched);
    cfg.timeout = timeout;
    run(&cfg).unwrap()
}

/// The wrk2 lesson: a 1 s stall shows in the corrected p99 (requests that should have been
/// sent during the stall waited for it) but barely in the uncorrected one (only the handful
/// of requests in flight when it began waited).
#[test]
fn a_stall_shows_in_corrected_but_not_uncorrected_p99() {
    let server = TestServer::start(Behavior::Stall {
        after: Duration::from_secs(1),
        length: Duration::from_secs(1),
    });
    let report = open_loop_for(&server, 400.0, 4, Duration::from_secs(3));
    let corrected = report.latency_corrected_ms.unwrap();
    let uncorrected = report.latency_uncorrected_ms.unwrap();
    assert!(corrected.p99 > 500.0, "corrected p99 {} ms", corrected.p99);
    assert!(
        uncorrected.p99 < 200.0,
        "uncorrected p99 {} ms",
        uncorrected.p99
    );
    // The few requests caught in flight did wait the whole stall.
    assert!(
        uncorrected.max > 500.0,
        "uncorrected max {} ms",
        uncorrected.max
    );
    // Nothing failed. A request or two due in the last instant may not have gone out before
    // the end on a loaded machine (the catch-up after the stall leaves no slack there): the
    // report counts them as not sent, which is the truth and no failure of the server's.
    let e = &report.errors;
    assert_eq!(e.total() - e.not_sent, 0, "{e:?}");
    assert!(
        e.not_sent * 100 <= report.responses,
        "{e:?} of {}",
        report.responses
    );
}

fn one_second(server: &TestServer) -> Config {
    let mut c = config(
        server,
        schedule(
            Mode::Closed { connections: 2 },
            Stop::Duration(Duration::from_millis(700)),
        ),
    );
    c.timeout = Duration::from_millis(200);
    c
}

#[test]
fn resets_are_classified() {
    let server = TestServer::start(Behavior::Reset);
    let report = run(&one_second(&server)).unwrap();
    assert_eq!(report.responses, 0);
    assert!(report.errors.reset > 0, "{:?}", report.errors);
}

#[test]
fn timeouts_are_classified() {
    let server = TestServer::start(Behavior::Silent);
    let report = run(&one_second(&server)).unwrap();
    assert_eq!(report.responses, 0);
    assert!(report.errors.timeout >= 2, "{:?}", report.errors);
    assert_eq!(report.errors.total(), report.errors.timeout);
}

#[test]
fn closes_and_bad_responses_are_classified() {
    let server = TestServer::start(Behavior::CloseWithoutAnswer);
    let report = run(&one_second(&server)).unwrap();
    assert!(report.errors.closed > 0, "{:?}", report.errors);
    assert_eq!(report.errors.total(), report.errors.closed);

    let server = TestServer::start(Behavior::Garbage);
    let report = run(&one_second(&server)).unwrap();
    assert!(report.errors.bad_response > 0, "{:?}", report.errors);
    assert_eq!(report.errors.total(), report.errors.bad_response);
}

#[test]
fn refused_reconnects_are_connect_errors() {
    // One accept for the preflight, two for the connections; every reconnect is refused.
    let server = TestServer::start(Behavior::RefuseAfter { accepts: 3 });
    let report = run(&one_second(&server)).unwrap();
    assert!(
        report.responses >= 1 && report.responses <= 2,
        "{}",
        report.responses
    );
    assert!(report.errors.connect > 0, "{:?}", report.errors);
}

#[test]
fn an_unreachable_host_is_one_clear_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sched = schedule(Mode::Closed { connections: 1 }, Stop::Count(1));
    let cfg = Config::new(&format!("http://127.0.0.1:{port}/"), sched).unwrap();
    let err = run(&cfg).unwrap_err().to_string();
    assert!(err.starts_with("cannot reach 127.0.0.1:"), "{err}");
    assert!(!err.contains('\n'));
}

#[test]
fn an_interrupted_run_reports_what_it_measured() {
    let server = TestServer::start(Behavior::Hello);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let started = std::time::Instant::now();
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(600));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        clab_load::run_until(
            &config(
                &server,
                schedule(
                    Mode::Closed { connections: 4 },
                    Stop::Duration(Duration::from_secs(30)),
                ),
            ),
            &stop,
        )
        .unwrap()
    });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not stop early"
    );
    // The measured window is the time until the stop, not the 30 s asked for.
    assert!(
        (0.5..2.0).contains(&report.elapsed_s),
        "elapsed {}",
        report.elapsed_s
    );
    assert!(report.responses > 0);
    assert!((report.throughput - report.responses as f64 / report.elapsed_s).abs() < 1e-6);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("interrupted after")),
        "{:?}",
        report.notes
    );
}

/// Every request a `POST /upload` with a body of `len` bytes.
fn post_upload(cfg: &mut Config, len: usize) {
    let spec = TargetSpec {
        method: "POST".to_owned(),
        path: "/upload".to_owned(),
        weight: 1,
        headers: Vec::new(),
        body: Some(vec![b'x'; len]),
    };
    cfg.mix = RequestMix::new(&[spec], &cfg.url.authority, &[], &[]).unwrap();
}

/// A close-delimited response whose body and FIN arrive in one segment (one epoll event):
/// the EOF ends the body at once, instead of the response waiting out `--timeout`.
#[test]
fn an_eof_that_arrives_with_the_body_ends_it() {
    let report = quick_and_clean(Behavior::CloseDelimited, 20);
    assert_eq!(report.body_bytes, 20 * 13);
}

/// `count` requests over 2 connections with a 5 s timeout: all answered, no error, in well
/// under one timeout (waiting one out per request would take `count` / 2 x 5 s).
fn quick_and_clean(behavior: Behavior, count: u64) -> clab_load::Report {
    let server = TestServer::start(behavior);
    let mut cfg = config(
        &server,
        schedule(Mode::Closed { connections: 2 }, Stop::Count(count)),
    );
    cfg.timeout = Duration::from_secs(5);
    let started = std::time::Instant::now();
    let report = run(&cfg).unwrap();
    assert_eq!(report.responses, count, "{:?}", report.errors);
    assert_eq!(report.errors.total(), 0, "{:?}", report.errors);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    report
}

/// A server that closes a keep-alive connection right after a response (the FIN in the
/// response's segment): the client sees the close before it reuses the connection, so no
/// request is sent into it to be lost (counted as a reset or a timeout).
#[test]
fn a_keep_alive_connection_closed_with_its_response_takes_no_request() {
    let report = quick_and_clean(Behavior::AnswerThenClose, 40);
    assert_eq!(report.connects, 40, "one connection per response");
}

/// Latency counts from when a request's last byte left, not from when it was queued: a
/// 16 MiB request that waits 600 ms in this client (the server reads nothing yet, the socket
/// buffers are full) is not charged to the server for that wait.
#[test]
fn the_send_time_is_when_the_last_byte_left() {
    let delay = Duration::from_millis(600);
    let server = TestServer::start(Behavior::ReadLate(delay));
    let mut cfg = config(
        &server,
        schedule(Mode::Closed { connections: 1 }, Stop::Count(1)),
    );
    cfg.threads = 1;
    post_upload(&mut cfg, 16 << 20);
    cfg.timeout = Duration::from_secs(20);
    let started = std::time::Instant::now();
    let report = run(&cfg).unwrap();
    assert_eq!(report.responses, 1, "{:?}", report.errors);
    assert!(started.elapsed() >= delay);
    let latency = report.latency_uncorrected_ms.unwrap();
    // The server reads the body (some ms) and answers; the 600 ms the bytes waited to leave
    // are not in it.
    assert!(
        latency.max < delay.as_secs_f64() * 1000.0 / 2.0,
        "send->response {} ms includes the client's own wait",
        latency.max
    );
}

/// Open loop against a server that never answers: the connections stay busy with their first
/// request, and every later intended request counts as not sent, its wait up to the end of the
/// run in the corrected latency. The headline cannot look healthy.
#[test]
fn intended_requests_never_sent_are_counted_and_their_wait_recorded() {
    let server = TestServer::start(Behavior::Silent);
    let report = open_loop_for(&server, 500.0, 1, Duration::from_secs(10));
    assert_eq!(report.responses, 0);
    let e = report.errors;
    // 500 intended in 1 s; 4 went out (one per connection) and wait for an answer.
    assert!((480..=500).contains(&e.not_sent), "{e:?}");
    let corrected = report
        .latency_corrected_ms
        .expect("not-sent waits are recorded");
    // Intended times spread over the second; each waited until its end: median about 0.5 s.
    assert!(
        (300.0..=700.0).contains(&corrected.p50),
        "corrected p50 {} ms",
        corrected.p50
    );
    let mut human = Vec::new();
    clab_load::write_human(&report, &mut human).unwrap();
    let human = String::from_utf8(human).unwrap();
    assert!(human.contains("were never sent"), "{human}");
}
