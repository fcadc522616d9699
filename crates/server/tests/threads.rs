//! What each model does with OS threads, counted from `/proc/self/task`. One `#[test]` that
//! runs the models one after another, because the count is per process and the test harness
//! would otherwise run other servers beside it.

mod support;

use clab_server::Model;
use std::time::{Duration, Instant};
use support::{Client, TestServer};

/// Threads of this process now.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Threads of this process now, except the load generator's (named `clab-load-*`, and the
/// thread that drives it, named `load-driver`).
fn threads_but_load() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.flatten()
                .filter(|t| {
                    let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                    !comm.starts_with("clab-load-") && !comm.starts_with("load-driver")
                })
                .count()
        })
        .unwrap_or(0)
}

/// Run `clab load` (the library) against `url` with `connections` for `secs` on its own
/// threads while sampling [`threads_but_load`] every 10 ms; returns the report and the
/// largest and smallest count seen (minus `base`) while the load ran.
fn load_while_counting(
    url: &str,
    connections: usize,
    secs: u64,
    base: usize,
) -> (clab_load::Report, usize, usize) {
    let schedule = clab_load::Schedule {
        mode: clab_load::Mode::Closed { connections },
        stop: clab_load::Stop::Duration(Duration::from_secs(secs)),
        warmup: Duration::ZERO,
        pipeline: 1,
    };
    let mut config = clab_load::Config::new(url, schedule).expect("load config");
    config.timeout = Duration::from_secs(10);
    let load = std::thread::Builder::new()
        .name("load-driver".into())
        .spawn(move || clab_load::run(&config).expect("load runs"))
        .unwrap();
    // A new thread carries its parent's name until it has named itself: count from when the
    // load's threads are up and named, not in the microseconds before.
    std::thread::sleep(Duration::from_millis(300));
    let (mut max, mut min) = (0, usize::MAX);
    while !load.is_finished() {
        let n = threads_but_load().saturating_sub(base);
        max = max.max(n);
        min = min.min(n);
        std::thread::sleep(Duration::from_millis(10));
    }
    (load.join().unwrap(), max, min)
}

/// The event loop is one thread, all of it: under a load of 1,000 connections with CPU work
/// inline, and (with `CLAB_TEST_DATABASE_URL`) while its PostgreSQL queries are in flight on
/// the loop's own sockets, 200 connections over a pool of 4.
fn event_loop_is_one_thread(base: usize) {
    let server = TestServer::start(Model::EventLoop, |o| {
        o.backend.cpu_policy = clab_backend::CpuPolicy::Inline;
        o.backend.latency = "5".parse().unwrap();
    });
    let url = format!("http://{}/users/1", server.addr);
    let (report, max, min) = load_while_counting(&url, 1000, 3, base);
    eprintln!(
        "event-loop: {} responses over 1,000 connections, server threads {min}..={max}",
        report.responses
    );
    assert!(report.responses > 1000, "{report:?}");
    assert_eq!(report.errors.total(), 0, "{:?}", report.errors);
    assert_eq!((min, max), (1, 1), "event-loop threads under load");
    server.stop().expect("stops");

    let Ok(pg) = std::env::var("CLAB_TEST_DATABASE_URL") else {
        eprintln!(
            "NOTICE: CLAB_TEST_DATABASE_URL is unset: event-loop on PostgreSQL (one thread, 200 \
             connections over a pool of 4) not tested"
        );
        return;
    };
    let server = TestServer::start(Model::EventLoop, |o| {
        o.backend.database = pg.parse().expect("postgres URL");
        o.backend.pool_size = 4;
    });
    let url = format!("http://{}/users/7/dashboard", server.addr);
    let (report, max, min) = load_while_counting(&url, 200, 2, base);
    eprintln!(
        "event-loop on PostgreSQL: {} dashboard responses over 200 connections, pool 4, \
         server threads {min}..={max}",
        report.responses
    );
    assert!(report.responses >= 200, "{report:?}");
    assert_eq!(
        report.status_codes.get("200"),
        Some(&report.responses),
        "{report:?}"
    );
    assert_eq!(report.errors.total(), 0, "{:?}", report.errors);
    assert_eq!(
        (min, max),
        (1, 1),
        "event-loop threads with PostgreSQL queries in flight"
    );
    let stats = server.client().roundtrip(&support::get("/debug/stats"));
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    assert!(
        stats["event_loop"]["turns"].as_u64().unwrap() > 0,
        "{stats}"
    );
    server.stop().expect("stops");
}

/// Context switches of every thread of this process except the calling one, by thread id,
/// with each thread's name: the per-thread figures say which thread ticks when one does.
fn switches_of_others() -> std::collections::BTreeMap<String, (String, u64)> {
    let me = unsafe { libc::gettid() }.to_string();
    let mut by_thread = std::collections::BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let tid = task.file_name().to_string_lossy().into_owned();
        if tid == me {
            continue;
        }
        let text = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        let mut total = 0;
        let mut name = String::new();
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("Name:") {
                name = n.trim().to_string();
            }
            if line.starts_with("voluntary_ctxt_switches:")
                || line.starts_with("nonvoluntary_ctxt_switches:")
            {
                total += line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
        by_thread.insert(tid, (name, total));
    }
    by_thread
}

/// Open `n` keep-alive connections, each after one answered `GET /plaintext`.
fn open_idle(addr: std::net::SocketAddr, n: usize) -> Vec<Client> {
    (0..n)
        .map(|_| {
            let mut c = Client::connect(addr);
            assert!(
                still_answers(&mut c),
                "the first request on a new connection"
            );
            c
        })
        .collect()
}

#[test]
fn each_model_uses_the_threads_its_doc_says() {
    // The serve thread of TestServer is the one extra thread every model has here.
    let cases: &[(Model, Option<usize>)] = &[
        (Model::AsyncSingle, None),
        (Model::EventLoop, None),
        (Model::AsyncMulti, Some(2)),
        (Model::ThreadPerCore, Some(2)),
        (Model::ThreadPerRequest, None),
    ];
    let base = threads();
    // A stopped server's threads (tokio workers, shards) exit a moment after `stop` returns:
    // wait for the count to come back down before counting the next model.
    let settle = || {
        let until = Instant::now() + Duration::from_secs(10);
        while threads() > base && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    for &(model, workers) in cases {
        settle();
        let server = TestServer::start(model, |o| o.workers = workers);
        let conns = open_idle(server.addr, 1000);
        let during = threads() - base;
        let expected = match model {
            // The runtime (or the loop) runs on the serve thread itself.
            Model::AsyncSingle | Model::EventLoop => 1,
            // The serve thread blocks on the accept loop; workers run the tasks.
            Model::AsyncMulti => 1 + 2,
            // The serve thread waits for the shards.
            Model::ThreadPerCore => 1 + 2,
            // The acceptor, the lingering thread, and one thread per open connection.
            Model::ThreadPerRequest => 1 + 1 + 1000,
            _ => unreachable!(),
        };
        eprintln!("{model}: {during} threads with 1,000 connections open (expected {expected})");
        assert_eq!(during, expected, "{model}");
        drop(conns);
        if model == Model::ThreadPerRequest {
            // Threads follow the connections down, too.
            let until = Instant::now() + Duration::from_secs(10);
            while threads() - base > 2 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(
                threads() - base,
                2,
                "{model}: threads exit with their connections"
            );
        }
        server.stop().expect("stops");
    }

    settle();
    event_loop_is_one_thread(threads_but_load());

    settle();
    // A thread-pool at rest with 100 idle keep-alive connections makes (almost) no context
    // switches: its threads sleep in poll(2) until something happens, with no tick.
    let server = TestServer::start(Model::ThreadPool, |o| o.workers = Some(100));
    let mut conns = open_idle(server.addr, 100);
    std::thread::sleep(Duration::from_millis(300));
    let before = switches_of_others();
    std::thread::sleep(Duration::from_secs(2));
    let after = switches_of_others();
    // A thread that appeared in the window counts from zero; one that exited counts nothing.
    let busy: Vec<(String, String, u64)> = after
        .iter()
        .map(|(tid, (name, n))| {
            let was = before.get(tid).map_or(0, |(_, b)| *b);
            (tid.clone(), name.clone(), n.saturating_sub(was))
        })
        .filter(|(_, _, d)| *d > 0)
        .collect();
    let per_second = busy.iter().map(|(_, _, d)| d).sum::<u64>() as f64 / 2.0;
    eprintln!(
        "thread-pool at rest with 100 idle connections: {per_second} context switches/s \
         (by thread: {busy:?})"
    );
    assert!(
        per_second < 10.0,
        "{per_second} context switches per second at rest, by thread: {busy:?}"
    );
    // At rest because the pool held them all, not because it closed them: every connection
    // still answers.
    let held = conns.iter_mut().map(still_answers).filter(|&ok| ok).count();
    assert_eq!(held, 100, "idle connections the pool kept open");
    server.stop().expect("stops");
}

/// Whether the keep-alive connection `c` answers one more `GET /plaintext` with a 200.
fn still_answers(c: &mut Client) -> bool {
    c.send(&support::get("/plaintext"));
    c.try_response().is_ok_and(|r| r.status == 200)
}
