//! One conformance suite, run against every model.
//!
//! Each test boots a model in-process on 127.0.0.1:0 (a thread running `serve`) over
//! in-memory SQLite and asserts on raw bytes over a std `TcpStream`. `for_each_model!`
//! instantiates every test once per model (as tokio's `rt_test!` does for runtimes); a model
//! is done when it passes the whole suite.

mod support;

use clab_server::Model;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};
use support::{Client, TestServer, get, with_latency};

use clab_server::for_each_model;

for_each_model! {
    fn every_route_answers(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        let r = c.roundtrip(&get("/"));
        assert_eq!(r.status, 200, "{r:?}");

        let r = c.roundtrip_head(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.body.is_empty(), "HEAD must not carry a body: {r:?}");
        assert!(r.header("content-length").is_some(), "{r:?}");

        let r = c.roundtrip(b"OPTIONS / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!((200..300).contains(&r.status), "{r:?}");
        assert!(r.header("allow").is_some(), "{r:?}");

        let r = c.roundtrip(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]), "{r:?}");

        let r = c.roundtrip(b"POST /echo HTTP/1.1\r\nHost: t\r\nX-Probe: 42\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.text().contains("X-Probe: 42"), "{r:?}");

        let r = c.roundtrip(&get("/plaintext"));
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]), "{r:?}");

        let r = c.roundtrip(&get("/json"));
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.text(), r#"{"message":"Hello, World!"}"#);

        for path in ["/health", "/users/1", "/users/1/dashboard", "/cpu?ms=5"] {
            let r = c.roundtrip(&get(path));
            assert_eq!(r.status, 200, "{path}: {r:?}");
        }
        assert!(c.roundtrip(&get("/users/1")).text().contains("orders"));
        assert!(c.roundtrip(&get("/users/1/dashboard")).text().contains("timing"));

        let body = br#"{"password":"hunter2","cost":1}"#;
        let mut req = format!("POST /hash HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        req.extend_from_slice(body);
        let r = c.roundtrip(&req);
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.text().contains("argon2id"), "{r:?}");
    }

    fn keep_alive_serves_sequential_requests(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        for _ in 0..3 {
            let r = c.roundtrip(&get("/plaintext"));
            assert_eq!(r.status, 200);
            assert!(!r.close, "HTTP/1.1 keeps the connection open: {r:?}");
        }
        assert!(c.is_open());
    }

    fn http10_closes(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        let r = c.roundtrip(b"GET /plaintext HTTP/1.0\r\n\r\n");
        assert_eq!(r.status, 200);
        assert!(c.is_closed(), "HTTP/1.0 without keep-alive must close");
    }

    fn connection_close_closes(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        let r = c.roundtrip(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed());
    }

    fn pipelined_requests_answered_in_order(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        let mut batch = get("/plaintext");
        batch.extend_from_slice(&get("/json"));
        batch.extend_from_slice(&get("/nope"));
        c.send(&batch);
        assert_eq!(c.response().body, b"Hello, World!");
        assert_eq!(c.response().text(), r#"{"message":"Hello, World!"}"#);
        assert_eq!(c.response().status, 404);
        assert!(c.is_open());
    }

    fn request_line_limit(model) {
        let server = TestServer::start(model, |_| {});
        let line = |len: usize| {
            let mut req = b"GET /".to_vec();
            req.resize(len - " HTTP/1.1".len(), b'a');
            req.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\n\r\n");
            req
        };
        // 8 KiB exactly: parsed (an unknown route), 8 KiB + 1: 414.
        assert_eq!(server.client().roundtrip(&line(8 * 1024)).status, 404);
        let mut c = server.client();
        let r = c.roundtrip(&line(8 * 1024 + 1));
        assert_eq!(r.status, 414);
        assert!(c.is_closed());
    }

    fn head_size_limit(model) {
        let server = TestServer::start(model, |_| {});
        let head = |len: usize| {
            let mut req = b"GET / HTTP/1.1\r\nHost: t\r\nX: ".to_vec();
            req.resize(len - 4, b'v');
            req.extend_from_slice(b"\r\n\r\n");
            req
        };
        assert_eq!(server.client().roundtrip(&head(16 * 1024)).status, 200);
        let mut c = server.client();
        assert_eq!(c.roundtrip(&head(16 * 1024 + 1)).status, 431);
        assert!(c.is_closed());
    }

    fn header_count_limit(model) {
        let server = TestServer::start(model, |_| {});
        let fields = |n: usize| {
            let mut req = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
            for i in 1..n {
                req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
            }
            req.extend_from_slice(b"\r\n");
            req
        };
        assert_eq!(server.client().roundtrip(&fields(100)).status, 200);
        assert_eq!(server.client().roundtrip(&fields(101)).status, 431);
    }

    fn body_size_limit(model) {
        let server = TestServer::start(model, |_| {});
        let post = |len: usize| {
            let mut req = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {len}\r\n\r\n").into_bytes();
            req.resize(req.len() + len, b'b');
            req
        };
        let r = server.client().roundtrip(&post(1024 * 1024));
        assert_eq!((r.status, r.body.len()), (200, 1024 * 1024));
        let mut c = server.client();
        assert_eq!(c.roundtrip(&post(1024 * 1024 + 1)).status, 413);
        assert!(c.is_closed());
    }

    fn bad_requests_get_their_status_and_close(model) {
        let server = TestServer::start(model, |_| {});
        let cases: &[(&[u8], u16)] = &[
            (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
            (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        ];
        for &(req, status) in cases {
            let mut c = server.client();
            let r = c.roundtrip(req);
            assert_eq!(r.status, status, "{}", String::from_utf8_lossy(req));
            assert_eq!(r.header("connection"), Some("close"), "{r:?}");
            assert!(c.is_closed());
        }
    }

    fn unknown_route_and_wrong_method(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        assert_eq!(c.roundtrip(&get("/no/such/route")).status, 404);
        let r = c.roundtrip(b"DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(r.status, 405);
        assert!(r.header("allow").is_some(), "{r:?}");
    }

    fn stalled_head_gets_408_and_close(model) {
        let server = TestServer::start(model, |o| o.header_timeout = Duration::from_millis(300));
        let mut c = server.client();
        c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n");
        let started = Instant::now();
        let r = c.response();
        assert_eq!(r.status, 408);
        assert!(started.elapsed() >= Duration::from_millis(250), "408 came too early");
        assert!(c.is_closed());
    }

    fn idle_keep_alive_is_closed_quietly_after_idle_timeout(model) {
        let server = TestServer::start(model, |o| o.idle_timeout = Duration::from_millis(300));
        let mut c = server.client();
        assert_eq!(c.roundtrip(&get("/plaintext")).status, 200);
        let started = Instant::now();
        assert!(c.is_closed(), "closed without a response");
        assert!(started.elapsed() >= Duration::from_millis(250), "closed too early");
    }

    fn silent_connection_is_closed_quietly_after_header_timeout(model) {
        let server = TestServer::start(model, |o| o.header_timeout = Duration::from_millis(300));
        let mut c = server.client();
        assert!(c.is_closed(), "closed without a response");
    }

    fn bad_request_does_not_disturb_other_connections(model) {
        let server = TestServer::start(model, |_| {});
        let mut good = server.client();
        assert_eq!(good.roundtrip(&get("/plaintext")).status, 200);
        let mut bad = server.client();
        assert_eq!(bad.roundtrip(b"\x00\x01garbage\r\n\r\n").status, 400);
        assert!(bad.is_closed());
        // Every model keeps the idle one: `sync` parks it while it serves the others.
        assert_eq!(good.roundtrip(&get("/plaintext")).status, 200);
        assert_eq!(server.client().roundtrip(&get("/plaintext")).status, 200);
    }

    fn dashboard_cpu_time_is_measured_or_unknown(model) {
        let server = TestServer::start(model, |_| {});
        let r = server.client().roundtrip(&get("/users/3/dashboard"));
        assert_eq!(r.status, 200, "{r:?}");
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
        let timing = &body["timing"];
        if model.name() == "coroutines" {
            // A poll spans other coroutines' work there: unknown, never a wrong figure.
            assert!(timing["cpu_us"].is_null(), "{model}: {timing}");
        } else {
            assert!(timing["cpu_us"].as_u64() <= timing["wall_us"].as_u64(), "{model}: {timing}");
            assert!(timing["cpu_us"].is_u64(), "{model}: {timing}");
        }
    }

    fn debug_stats_report_the_model(model) {
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        assert_eq!(c.roundtrip(&get("/plaintext")).status, 200);
        let r = c.roundtrip(&get("/debug/stats"));
        assert_eq!(r.status, 200, "{r:?}");
        let stats: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
        assert_eq!(stats["model"], model.name(), "{stats}");
        assert!(stats["requests_served"].as_u64() >= Some(1), "{stats}");
        assert!(stats["connections_open"].as_u64() >= Some(1), "{stats}");
        assert!(stats["os_threads"].as_u64() >= Some(1), "{stats}");
        assert!(stats["rss_bytes"].as_u64() > Some(0), "{stats}");
        assert!(stats["voluntary_ctxt_switches"].as_u64().is_some(), "{stats}");
        let tokio = !stats["tokio_runtimes"].as_array().expect("array").is_empty();
        let tokio_model = ["async-single", "async-multi", "thread-per-core"].contains(&model.name());
        assert_eq!(tokio, tokio_model, "{stats}");
        assert_eq!(c.roundtrip(&get("/debug/nope")).status, 404);
    }

    fn close_after_connection_close_lingers(model) {
        // Input the server will never read follows a request that asks to close. Closing with
        // it unread would make the kernel send RST, which destroys the response in the
        // client's receive buffer before the client reads it; a lingering close must not.
        let server = TestServer::start(model, |_| {});
        let mut c = server.client();
        let mut req = b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec();
        req.extend_from_slice(&get("/json").repeat(200));
        c.send(&req);
        thread::sleep(Duration::from_millis(300));
        c.send(&get("/json"));
        thread::sleep(Duration::from_millis(100));
        let r = c.response();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]), "{r:?}");
        assert!(c.is_closed());
    }

    fn a_client_that_stops_reading_keeps_what_it_was_sent(model) {
        // The client pipelines far more than the socket buffers hold and reads nothing, so the
        // server's flush stalls until its write deadline (the idle timeout) and it gives up.
        // Its close must linger: an RST (unread requests at close) would make the client's
        // kernel discard the responses it already received but has not read.
        let server = TestServer::start(model, |o| o.idle_timeout = Duration::from_millis(300));
        let mut c = server.client();
        c.stream.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
        let req = get("/json");
        let mut sent = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            match std::io::Write::write(&mut c.stream, &req) {
                Ok(_) => sent += 1,
                Err(_) => break, // would block (the server stopped reading) or closed
            }
        }
        thread::sleep(Duration::from_millis(1500));
        let mut answered = 0u64;
        loop {
            match c.try_response() {
                Ok(r) => {
                    assert_eq!(r.status, 200);
                    answered += 1;
                }
                Err(e) => {
                    assert!(e.contains("closed before a full response"), "{model}: after {answered} of {sent}: {e}");
                    break;
                }
            }
        }
        eprintln!("{model}: sent {sent} pipelined requests, read {answered} responses, then EOF");
        assert!(answered > 0 && answered < sent, "{model}: {answered} of {sent}");
    }

    fn pipelined_request_behind_a_slow_handler_is_not_timed_out(model) {
        // The handler takes 400 ms (two 200 ms round trips); the header timeout is 150 ms.
        // The pipelined request's bytes are all in: its clock starts when the first is answered.
        let server = TestServer::start(model, |o| {
            with_latency(o, "200");
            o.header_timeout = Duration::from_millis(150);
        });
        let mut c = server.client();
        let mut two = get("/users/1");
        two.extend_from_slice(&get("/plaintext"));
        c.send(&two);
        assert_eq!(c.response().status, 200);
        assert_eq!(c.response().status, 200);
    }

    fn four_concurrent_io_bound_requests(model) {
        // The defining behaviour (claims C01/C06): four /users/1 requests, each two 100 ms
        // simulated round trips, sent at once on four connections.
        let server = TestServer::start(model, |o| with_latency(o, "100"));
        let one = {
            let started = Instant::now();
            assert_eq!(server.client().roundtrip(&get("/users/1")).status, 200);
            started.elapsed()
        };
        let addr = server.addr;
        let started = Instant::now();
        let clients: Vec<_> = (0..4)
            .map(|_| thread::spawn(move || Client::connect(addr).roundtrip(&b"GET /users/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"[..]).status))
            .collect();
        for c in clients {
            assert_eq!(c.join().unwrap(), 200);
        }
        let four = started.elapsed();
        let ratio = four.as_secs_f64() / one.as_secs_f64();
        eprintln!("{model}: one request {one:?}, four concurrent {four:?} ({ratio:.2}x)");
        if model.caps().concurrent_requests {
            assert!(ratio < 1.8, "{model}: four concurrent took {ratio:.2}x one request");
        } else {
            assert!((3.4..5.0).contains(&ratio), "{model}: serial, expected about 4x, got {ratio:.2}x");
        }
    }

    fn cpu_work_and_the_loop(model) {
        // `/cpu?ms=200` and a light `/plaintext` sent beside it, on one worker.
        let delay = |policy: clab_backend::CpuPolicy| {
            let server = TestServer::start(model, |o| {
                o.backend.cpu_policy = policy;
                if model.caps().configurable_workers && model.caps().cooperative {
                    o.workers = Some(1);
                }
            });
            let stats = server.client().roundtrip(&get("/debug/stats"));
            let workers = serde_json::from_slice::<serde_json::Value>(&stats.body).expect("JSON")["workers"].as_u64();
            if model.caps().cooperative && workers != Some(1) {
                // may's scheduler is configured once per process: in this binary it already
                // runs with the first server's carriers. tests/coroutines.rs checks this
                // behaviour on one carrier in a process of its own.
                return None;
            }
            let addr = server.addr;
            let heavy = thread::spawn(move || Client::connect(addr).roundtrip(&get("/cpu?ms=200")).status);
            thread::sleep(Duration::from_millis(30));
            let started = Instant::now();
            assert_eq!(server.client().roundtrip(&get("/plaintext")).status, 200);
            let light = started.elapsed();
            assert_eq!(heavy.join().unwrap(), 200);
            Some(light)
        };
        let (Some(inline), Some(pooled)) = (
            delay(clab_backend::CpuPolicy::Inline),
            delay(clab_backend::CpuPolicy::BlockingPool),
        ) else {
            eprintln!("{model}: cannot run on one worker in this process (process-wide scheduler config); see tests/coroutines.rs");
            return;
        };
        eprintln!("{model}: light request beside /cpu?ms=200: inline {inline:?}, blocking-pool {pooled:?}");
        let (blocked, free) = (Duration::from_millis(140), Duration::from_millis(60));
        let caps = model.caps();
        if caps.cooperative {
            // The chapter's §07: CPU work on the loop freezes it; offloading it does not.
            assert!(inline >= blocked, "{model}: inline CPU work should stall the worker: {inline:?}");
            assert!(pooled < free, "{model}: blocking-pool should keep the worker free: {pooled:?}");
        } else if caps.concurrent_requests {
            // Another thread serves the light request; the policy is a no-op here.
            assert!(inline < free && pooled < free, "{model}: {inline:?} / {pooled:?}");
        } else {
            // One connection at a time: the light client waits its turn either way.
            assert!(inline >= blocked && pooled >= blocked, "{model}: {inline:?} / {pooled:?}");
        }
    }

    fn drain_loses_no_request(model) {
        // Closed-loop clients on keep-alive connections while the server drains: every
        // request sent is answered; a client only stops when a new connect is refused.
        let server = TestServer::start(model, |_| {});
        let addr = server.addr;
        let clients: Vec<_> = (0..8)
            .map(|_| {
                thread::spawn(move || -> Result<u64, String> {
                    let mut answered = 0;
                    loop {
                        let Ok(stream) = TcpStream::connect(addr) else { return Ok(answered) };
                        let mut c = Client::from_stream(stream);
                        let mut on_this = 0;
                        loop {
                            c.send(&get("/plaintext"));
                            match c.try_response() {
                                Ok(r) if r.status == 200 => {
                                    answered += 1;
                                    on_this += 1;
                                    if r.close { break; }
                                }
                                Ok(r) => return Err(format!("status {}", r.status)),
                                Err(e) => return Err(format!("request lost after {answered} ({on_this} on this connection): {e}")),
                            }
                        }
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(300));
        server.stop().expect("drains");
        for c in clients {
            let answered = c.join().unwrap().unwrap_or_else(|e| panic!("{model}: {e}"));
            assert!(answered > 0);
        }
    }

    fn graceful_shutdown_finishes_requests_in_flight(model) {
        // /users/1 makes two queries, each a simulated 200 ms round trip.
        let server = TestServer::start(model, |o| with_latency(o, "200"));
        let addr = server.addr;
        let (sent_tx, sent_rx) = std::sync::mpsc::channel();
        let clients: Vec<_> = (0..10)
            .map(|_| {
                let sent_tx = sent_tx.clone();
                thread::spawn(move || {
                    let mut c = Client::connect(addr);
                    c.send(&get("/users/1"));
                    sent_tx.send(()).unwrap();
                    c.response()
                })
            })
            .collect();
        for _ in 0..10 {
            sent_rx.recv().unwrap();
        }
        thread::sleep(Duration::from_millis(100));
        let stopped = server.stop();
        for client in clients {
            let r = client.join().unwrap();
            assert_eq!(r.status, 200, "{r:?}");
            assert!(r.close, "responses while draining say Connection: close: {r:?}");
        }
        stopped.expect("serve returns Ok after a graceful shutdown");
        assert!(TcpStream::connect(addr).is_err(), "new connections are refused after shutdown");
    }

    fn graceful_shutdown_closes_idle_keep_alive(model) {
        let server = TestServer::start(model, |_| {});
        let mut idle = server.client();
        assert_eq!(idle.roundtrip(&get("/plaintext")).status, 200);
        let started = Instant::now();
        server.stop().expect("serve returns Ok");
        assert!(started.elapsed() < Duration::from_secs(5), "an idle connection delayed shutdown");
        assert!(idle.is_closed());
    }
}

/// thread-pool only: a full queue is answered 503 with `Retry-After`, not queued without bound.
#[test]
fn thread_pool_full_queue_answers_503() {
    let server = TestServer::start(Model::ThreadPool, |o| {
        o.workers = Some(1);
        o.queue_capacity = 1;
        with_latency(o, "1000");
    });
    // Hold the only worker (two 1 s queries)...
    let mut held = server.client();
    held.send(b"GET /users/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    thread::sleep(Duration::from_millis(300));
    // ...fill the queue...
    let mut queued = server.client();
    queued.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    thread::sleep(Duration::from_millis(300));
    // ...and the next connection is refused by the acceptor itself.
    let mut refused = server.client();
    refused.send(&get("/plaintext"));
    let r = refused.response();
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(refused.is_closed());
    // The held and the queued connections are still served.
    assert_eq!(held.response().status, 200);
    assert_eq!(queued.response().status, 200);
}
