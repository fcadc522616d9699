//! What each model does with OS threads, counted from `/proc/self/task`. One `#[test]` that
//! runs the models one after another, because the count is per process and the test harness
//! would otherwise run other servers beside it.

mod support;

use clab_server::Model;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::TestServer;

/// Threads of this process now.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Context switches of every thread of this process except the calling one.
fn switches_of_others() -> u64 {
    let me = unsafe { libc::gettid() }.to_string();
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if task.file_name().to_string_lossy() == me {
            continue;
        }
        let text = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in text.lines() {
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
    }
    total
}

/// Open `n` keep-alive connections, each after one answered `GET /plaintext`.
fn open_idle(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        while !got.ends_with(b"Hello, World!") {
            let k = s.read(&mut buf).expect("response");
            assert!(k > 0, "closed");
            got.extend_from_slice(&buf[..k]);
        }
        conns.push(s);
    }
    conns
}

#[test]
fn each_model_uses_the_threads_its_doc_says() {
    // The serve thread of TestServer is the one extra thread every model has here.
    let cases: &[(Model, Option<usize>)] = &[
        (Model::AsyncSingle, None),
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
            // The runtime runs on the serve thread itself.
            Model::AsyncSingle => 1,
            // The serve thread blocks on the accept loop; workers run the tasks.
            Model::AsyncMulti => 1 + 2,
            // The serve thread waits for the shards.
            Model::ThreadPerCore => 1 + 2,
            // The acceptor plus one thread per open connection.
            Model::ThreadPerRequest => 1 + 1000,
            _ => unreachable!(),
        };
        eprintln!("{model}: {during} threads with 1,000 connections open (expected {expected})");
        assert_eq!(during, expected, "{model}");
        drop(conns);
        if model == Model::ThreadPerRequest {
            // Threads follow the connections down, too.
            let until = Instant::now() + Duration::from_secs(10);
            while threads() - base > 1 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(
                threads() - base,
                1,
                "{model}: threads exit with their connections"
            );
        }
        server.stop().expect("stops");
    }

    settle();
    // A thread-pool at rest with 100 idle keep-alive connections makes (almost) no context
    // switches: its threads sleep in poll(2) until something happens, with no tick.
    let server = TestServer::start(Model::ThreadPool, |o| o.workers = Some(100));
    let conns = open_idle(server.addr, 100);
    std::thread::sleep(Duration::from_millis(300));
    let before = switches_of_others();
    std::thread::sleep(Duration::from_secs(2));
    let per_second = (switches_of_others() - before) as f64 / 2.0;
    eprintln!("thread-pool at rest with 100 idle connections: {per_second} context switches/s");
    assert!(
        per_second < 10.0,
        "{per_second} context switches per second at rest"
    );
    drop(conns);
    server.stop().expect("stops");
}
