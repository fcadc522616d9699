//! What only the `event-loop` model promises beyond the conformance suite: the chapter's
//! "never block the loop" with the figures, and the callback-style handler
//! (`--handler-style callbacks`) answering exactly as the async one does.

mod support;

use clab_backend::CpuPolicy;
use clab_server::{HandlerStyle, Listen, Model, ServeOptions, ServerError, Shutdown};
use std::thread;
use std::time::{Duration, Instant};
use support::{Client, Resp, TestServer, get, with_latency};

/// How long a light request waits when sent 30 ms after a `/cpu?ms=200` beside it.
fn light_request_delay(policy: CpuPolicy) -> Duration {
    let server = TestServer::start(Model::EventLoop, |o| o.backend.cpu_policy = policy);
    let addr = server.addr;
    let heavy = thread::spawn(move || Client::connect(addr).roundtrip(&get("/cpu?ms=200")).status);
    thread::sleep(Duration::from_millis(30));
    let started = Instant::now();
    assert_eq!(server.client().roundtrip(&get("/plaintext")).status, 200);
    let light = started.elapsed();
    assert_eq!(heavy.join().unwrap(), 200);
    light
}

#[test]
fn cpu_work_inline_freezes_the_loop_and_the_pool_keeps_it_free() {
    let inline = light_request_delay(CpuPolicy::Inline);
    let pooled = light_request_delay(CpuPolicy::BlockingPool);
    eprintln!(
        "event-loop: light request beside /cpu?ms=200: inline {inline:?}, blocking-pool {pooled:?}"
    );
    assert!(
        inline >= Duration::from_millis(150),
        "inline CPU work should freeze the loop: the light request took {inline:?}"
    );
    assert!(
        pooled < Duration::from_millis(20),
        "the CPU pool should leave the loop free: the light request took {pooled:?}"
    );
}

/// The response without its `Date` (the one header that differs by the second).
fn without_date(resp: &Resp) -> (u16, Vec<String>, Vec<u8>) {
    let headers = resp
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .map(str::to_owned)
        .collect();
    (resp.status, headers, resp.body.clone())
}

#[test]
fn the_callback_handler_returns_the_async_handlers_bytes() {
    let start = |style| {
        TestServer::start(Model::EventLoop, |o| {
            with_latency(o, "1-3");
            o.handler_style = style;
        })
    };
    let (async_server, callback_server) =
        (start(HandlerStyle::Async), start(HandlerStyle::Callbacks));
    let requests: Vec<Vec<u8>> = [
        "/users/1",
        "/users/17",
        "/users/200",
        "/users/999999",
        "/users/abc",
        "/users/99999999999999999999",
    ]
    .iter()
    .map(|p| get(p))
    .chain([b"HEAD /users/3 HTTP/1.1\r\nHost: t\r\n\r\n".to_vec()])
    .collect();
    for req in &requests {
        let head_only = req.starts_with(b"HEAD");
        let ask = |server: &TestServer| {
            let mut c = server.client();
            if head_only {
                c.roundtrip_head(req)
            } else {
                c.roundtrip(req)
            }
        };
        let (a, c) = (ask(&async_server), ask(&callback_server));
        assert_eq!(
            without_date(&a),
            without_date(&c),
            "{}: the two handler styles differ",
            String::from_utf8_lossy(req)
                .lines()
                .next()
                .unwrap_or_default()
        );
    }
    // The cases above cover found, not found and malformed.
    let statuses: Vec<u16> = requests[..5]
        .iter()
        .map(|r| callback_server.client().roundtrip(r).status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 404, 400]);
}

#[test]
fn the_callback_handler_overlaps_its_waits_too() {
    let server = TestServer::start(Model::EventLoop, |o| {
        with_latency(o, "100");
        o.handler_style = HandlerStyle::Callbacks;
    });
    let addr = server.addr;
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|_| thread::spawn(move || Client::connect(addr).roundtrip(&get("/users/1")).status))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), 200);
    }
    let four = started.elapsed();
    eprintln!("event-loop, callbacks: four concurrent /users/1 at 2 x 100 ms took {four:?}");
    // Each request waits two round trips (200 ms); four in sequence would take 800 ms.
    assert!(four < Duration::from_millis(360), "{four:?}");
}

#[test]
fn callbacks_are_refused_by_every_other_model_and_on_postgres() {
    let serve = |model: Model, tweak: &dyn Fn(&mut ServeOptions)| {
        let mut opts = ServeOptions::default();
        opts.backend.database = clab_backend::DatabaseUrl::SqliteMemory;
        opts.handler_style = HandlerStyle::Callbacks;
        tweak(&mut opts);
        let listen = Listen::bind(
            "127.0.0.1:0".parse().unwrap(),
            None,
            model.caps().reuse_port,
        )
        .unwrap();
        clab_server::serve(model, listen, opts, Shutdown::new())
    };
    for &model in Model::ALL.iter().filter(|&&m| m != Model::EventLoop) {
        match serve(model, &|_| {}) {
            Err(ServerError::Config(msg)) => assert!(msg.contains("event-loop"), "{msg}"),
            other => panic!("{model} accepted --handler-style callbacks: {other:?}"),
        }
    }
    let on_postgres = serve(Model::EventLoop, &|o| {
        // Refused before any connection is tried, so no server need be running.
        o.backend.database = "postgres://postgres@127.0.0.1:1/none".parse().unwrap();
    });
    match on_postgres {
        Err(ServerError::Backend(e)) => assert!(e.to_string().contains("SQLite only"), "{e}"),
        other => panic!("event-loop accepted callbacks on PostgreSQL: {other:?}"),
    }
}

#[test]
fn debug_stats_show_the_loops_turns_and_busy_fraction() {
    let server = TestServer::start(Model::EventLoop, |_| {});
    for _ in 0..10 {
        assert_eq!(server.client().roundtrip(&get("/plaintext")).status, 200);
    }
    let stats = server.client().roundtrip(&get("/debug/stats"));
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).expect("JSON");
    let lp = &stats["event_loop"];
    assert!(lp["turns"].as_u64().unwrap() >= 10, "{stats}");
    assert!(lp["polls"].as_u64().unwrap() >= 10, "{stats}");
    let busy = lp["busy_fraction"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&busy), "{stats}");
    assert!(
        lp["wait_us"].as_u64().unwrap() > 0,
        "a loop at rest waits in epoll_wait: {stats}"
    );
}
