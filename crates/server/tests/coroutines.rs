//! The `coroutines` model's own claims: threads do not follow connections, waits overlap on
//! one carrier, inline CPU work and blocking drivers stall the carrier, the CPU pool does not.
//!
//! may's configuration is process-global and fixed by the first server in the process, so
//! every server in this binary runs on ONE carrier (`workers = 1`) and the tests run one at a
//! time (`serial`): one test's CPU work must not stall another's timing, and the thread count
//! must not see another test's client threads.
#![cfg(feature = "coroutines")]

mod support;

use clab_backend::{CpuPolicy, DatabaseUrl};
use clab_server::models::coroutines::MAY_THREAD_NAME;
use clab_server::{Model, ServeOptions};
use clab_testkit::PgSchema;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};
use support::{Client, TestServer, get, with_latency};

const WORKERS: usize = 1;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn start(tweak: impl FnOnce(&mut ServeOptions)) -> TestServer {
    TestServer::start(Model::Coroutines, |o| {
        o.workers = Some(WORKERS);
        tweak(o);
    })
}

/// The process's OS threads, by name (`/proc/self/task/*/comm`).
fn threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|e| e.ok())
        .map(|e| {
            std::fs::read_to_string(e.path().join("comm"))
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn a_thousand_connections_add_no_thread() {
    let _one_at_a_time = serial();
    let before = threads();
    let server = start(|_| {});
    let mut first = server.client();
    assert_eq!(first.roundtrip(&get("/plaintext")).status, 200);
    let with_one = threads();
    let rss_one = rss_kib();
    let mut open: Vec<Client> = (0..1000)
        .map(|_| {
            let mut c = server.client();
            assert_eq!(c.roundtrip(&get("/plaintext")).status, 200);
            c
        })
        .collect();
    let with_thousand = threads();
    let rss_thousand = rss_kib();
    let stats = first.roundtrip(&get("/debug/stats"));
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).expect("JSON");
    eprintln!(
        "threads: {} before the server, {} with 1 connection, {} with 1001 \
         (connections_open {}, RSS {rss_one} KiB -> {rss_thousand} KiB, {:.1} KiB per connection \
         including the client side)",
        before.len(),
        with_one.len(),
        with_thousand.len(),
        stats["connections_open"],
        (rss_thousand.saturating_sub(rss_one)) as f64 / 1000.0
    );
    eprintln!("threads before the server: {before:?}");
    eprintln!("threads with 1001 connections: {with_thousand:?}");
    assert!(stats["connections_open"].as_u64() >= Some(1001), "{stats}");
    // No more threads (one may fewer: a short-lived start-up thread can still be exiting when
    // the first count is taken).
    assert!(
        with_thousand.len() <= with_one.len(),
        "1,000 more connections added threads: {with_one:?} -> {with_thousand:?}"
    );
    // may's threads: `WORKERS` carriers and its timer thread, named after the thread that
    // started the scheduler; the server adds only its serve thread besides them.
    let may_threads = with_thousand
        .iter()
        .filter(|n| *n == MAY_THREAD_NAME)
        .count();
    assert_eq!(may_threads, WORKERS + 1, "{with_thousand:?}");
    assert!(
        with_thousand.len() <= before.len() + WORKERS + 2,
        "{} threads before the server, {} after",
        before.len(),
        with_thousand.len()
    );
    for c in &mut open {
        assert_eq!(c.roundtrip(&get("/plaintext")).status, 200);
    }
    drop(open);
    server.stop().expect("drains");
}

#[test]
fn four_waits_overlap_on_one_carrier() {
    let _one_at_a_time = serial();
    let server = start(|o| with_latency(o, "100"));
    let one = {
        let started = Instant::now();
        assert_eq!(server.client().roundtrip(&get("/users/1")).status, 200);
        started.elapsed()
    };
    let mut clients: Vec<Client> = (0..4).map(|_| server.client()).collect();
    let started = Instant::now();
    for c in &mut clients {
        c.send(&get("/users/1"));
    }
    for c in &mut clients {
        assert_eq!(c.response().status, 200);
    }
    let four = started.elapsed();
    eprintln!(
        "one carrier: one /users/1 {one:?}, four concurrent {four:?} ({:.2}x)",
        four.as_secs_f64() / one.as_secs_f64()
    );
    assert!(
        one >= Duration::from_millis(200),
        "two 100 ms round trips took {one:?}"
    );
    assert!(
        four < one.mul_f64(1.5),
        "four concurrent took {four:?}, one took {one:?}: the waits did not overlap"
    );
}

/// Send `heavy` on one connection; `after` it, how long a `/plaintext` on `light` waits for
/// its answer. Then reads the heavy response (it must be 200).
fn plaintext_delay_beside(
    heavy: &mut Client,
    path: &str,
    after: Duration,
    light: &mut Client,
) -> Duration {
    heavy.send(&get(path));
    thread::sleep(after);
    let started = Instant::now();
    assert_eq!(light.roundtrip(&get("/plaintext")).status, 200);
    let delay = started.elapsed();
    assert_eq!(heavy.response().status, 200, "{path}");
    delay
}

/// How long a `/plaintext` waits when sent 20 ms after a `/cpu?ms=200` on another connection.
fn plaintext_delay_beside_cpu(policy: CpuPolicy) -> Duration {
    let server = start(|o| o.backend.cpu_policy = policy);
    let (mut heavy, mut light) = (server.client(), server.client());
    assert_eq!(light.roundtrip(&get("/plaintext")).status, 200);
    let after = Duration::from_millis(20);
    plaintext_delay_beside(&mut heavy, "/cpu?ms=200", after, &mut light)
}

#[test]
fn inline_cpu_work_stalls_the_carrier_and_the_pool_does_not() {
    let _one_at_a_time = serial();
    let inline = plaintext_delay_beside_cpu(CpuPolicy::Inline);
    let pooled = plaintext_delay_beside_cpu(CpuPolicy::BlockingPool);
    eprintln!(
        "/plaintext beside /cpu?ms=200 on one carrier: inline {inline:?}, blocking-pool {pooled:?}"
    );
    assert!(inline >= Duration::from_millis(150), "inline: {inline:?}");
    assert!(
        pooled < Duration::from_millis(50),
        "blocking-pool: {pooled:?}"
    );
}

/// Runs in a private schema on the test PostgreSQL, dropped at the end: the test holds an
/// exclusive lock on `users`, which must stall only its own server, not other tests or a
/// `clab serve` on the same database.
#[test]
fn a_blocking_postgres_query_pins_the_carrier() {
    let Ok(base) = std::env::var("CLAB_TEST_DATABASE_URL") else {
        eprintln!("CLAB_TEST_DATABASE_URL not set: skipping the PostgreSQL pinning test");
        return;
    };
    let _one_at_a_time = serial();
    let schema = PgSchema::create(&base, "coro");
    let server = start(|o| {
        o.backend.database = DatabaseUrl::Postgres(schema.url());
        o.backend.pool_size = 2;
    });
    let (mut slow, mut light) = (server.client(), server.client());
    assert_eq!(slow.roundtrip(&get("/users/1")).status, 200);
    assert_eq!(light.roundtrip(&get("/plaintext")).status, 200);

    // A slow query, cheaply: another session holds an exclusive lock on `users` for 300 ms,
    // so the server's `SELECT … FROM users` waits inside PostgreSQL, and the sync driver
    // waits for the answer in a blocking `read` on the carrier thread.
    let mut client = schema.client();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let locker = thread::spawn(move || {
        let mut tx = client.transaction().expect("begin");
        tx.batch_execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .expect("lock");
        locked_tx.send(Instant::now()).unwrap();
        thread::sleep(Duration::from_millis(300));
        tx.commit().expect("commit");
    });
    let locked = locked_rx.recv().expect("locked");
    let after = Duration::from_millis(50);
    let delay = plaintext_delay_beside(&mut slow, "/users/1", after, &mut light);
    let slow_took = locked.elapsed();
    locker.join().unwrap();
    eprintln!(
        "one carrier: /users/1 held by a PostgreSQL lock for {slow_took:?}; a /plaintext sent \
         beside it waited {delay:?}"
    );
    assert!(
        delay >= Duration::from_millis(150),
        "the /plaintext was not delayed ({delay:?}): the PostgreSQL wait did not pin the carrier"
    );
    drop(server);
}
