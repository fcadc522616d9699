//! Handler tests on in-memory SQLite: one scenario, run through the blocking backend (under the
//! trivial `block_on` a thread model uses) and the async backend (under tokio).

use super::{assert_timing_with_5ms_round_trips, block_on, body_json, header, request};
use crate::App;
use clab_backend::{
    AsyncBackend, Backend, BackendConfig, BlockingBackend, DatabaseUrl, LatencyProfile,
};
use clab_http::{Method, Request, Response};
use std::sync::Arc;

const USERS: u32 = 20;

pub(super) fn memory_config(latency: LatencyProfile) -> BackendConfig {
    BackendConfig {
        database: DatabaseUrl::SqliteMemory,
        pool_size: 4,
        seed_users: USERS,
        latency,
        ..BackendConfig::default()
    }
}

pub(super) fn five_ms() -> LatencyProfile {
    "5".parse().expect("latency profile")
}

fn req(method: Method, target: &str, body: &[u8]) -> Request {
    request(method, target, &[("Host", "localhost")], body)
}

async fn call<B: Backend>(app: &App<B>, method: Method, target: &str, body: &[u8]) -> Response {
    app.handle(req(method, target, body)).await
}

/// Every route once, on a seeded database; holds for both backends.
async fn every_route<B: Backend>(app: &App<B>) {
    let r = call(app, Method::Get, "/plaintext", b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
    let r = call(app, Method::Get, "/json", b"").await;
    assert_eq!(
        body_json(&r),
        serde_json::json!({"message": "Hello, World!"})
    );
    assert_eq!(call(app, Method::Get, "/health", b"").await.status, 200);
    assert_eq!(call(app, Method::Get, "/", b"").await.body, b"OK");
    assert_eq!(call(app, Method::Head, "/", b"").await.status, 200);
    let r = call(app, Method::Options, "*", b"").await;
    assert_eq!(header(&r, "allow"), Some("GET, HEAD, OPTIONS, POST"));
    assert_eq!(call(app, Method::Post, "/", b"abc").await.body, b"abc");
    assert_eq!(
        call(app, Method::Post, "/echo", b"").await.body,
        b"Host: localhost\n"
    );

    // /users/{id}: the user and their orders (the seed gives 5-15 each, newest first).
    let v = body_json(&call(app, Method::Get, "/users/7", b"").await);
    assert_eq!(v["user"]["id"], 7);
    let orders = v["orders"].as_array().expect("orders array");
    assert!((5..=15).contains(&orders.len()), "{v}");
    assert!(orders.iter().all(|o| o["user_id"] == 7), "{v}");
    let r = call(app, Method::Get, &format!("/users/{}", USERS + 1), b"").await;
    assert_eq!(r.status, 404);
    assert_eq!(call(app, Method::Get, "/users/x", b"").await.status, 400);

    // Dashboard: miss, then hit, same summary; seed rows are all valid.
    let first = body_json(&call(app, Method::Get, "/users/3/dashboard", b"").await);
    let second = body_json(&call(app, Method::Get, "/users/3/dashboard", b"").await);
    assert_eq!(first["timing"]["cache_hit"], false, "{first}");
    assert_eq!(second["timing"]["cache_hit"], true, "{second}");
    assert_eq!(first["summary"], second["summary"]);
    assert_eq!(first["invalid_rows"], 0);
    assert_eq!(first["email_valid"], true);
    assert!(first["balance_cents"].is_i64(), "{first}");
    assert_eq!(first["user"]["id"], 3);
    assert_eq!(first["timing"]["simulated_upstream"], true);
    let r = call(
        app,
        Method::Get,
        &format!("/users/{}/dashboard", USERS + 1),
        b"",
    )
    .await;
    assert_eq!(r.status, 404);

    let v = body_json(&call(app, Method::Post, "/hash", br#"{"password":"pw","cost":1}"#).await);
    assert!(
        v["hash"]
            .as_str()
            .is_some_and(|h| h.starts_with("$argon2id$")),
        "{v}"
    );
    assert_eq!(
        call(
            app,
            Method::Post,
            "/hash",
            br#"{"password":"pw","cost":99}"#
        )
        .await
        .status,
        400
    );
    let v = body_json(&call(app, Method::Get, "/cpu?ms=2", b"").await);
    assert!(v["burned_us"].as_u64().is_some_and(|us| us >= 2_000), "{v}");

    assert_eq!(call(app, Method::Delete, "/users/1", b"").await.status, 405);
    assert_eq!(call(app, Method::Get, "/missing", b"").await.status, 404);
}

#[test]
fn blocking_backend_every_route() {
    let app =
        App::new(BlockingBackend::connect(&memory_config(LatencyProfile::None)).expect("connect"));
    block_on(every_route(&app));
}

#[tokio::test]
async fn async_backend_every_route() {
    let app = App::new(
        AsyncBackend::connect(&memory_config(LatencyProfile::None))
            .await
            .expect("connect"),
    );
    every_route(&app).await;
}

#[test]
fn blocking_backend_dashboard_timing() {
    let app = App::new(BlockingBackend::connect(&memory_config(five_ms())).expect("connect"));
    let r = block_on(call(&app, Method::Get, "/users/1/dashboard", b""));
    assert_eq!(r.status, 200);
    assert_timing_with_5ms_round_trips(&body_json(&r));
}

/// On a multi-thread runtime, spawned (so the handler future must be `Send + 'static` via the
/// `Arc`), where the task may resume on another worker after each await.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_backend_dashboard_timing_on_spawned_task() {
    let app = Arc::new(App::new(
        AsyncBackend::connect(&memory_config(five_ms()))
            .await
            .expect("connect"),
    ));
    for id in [1, 1, 2] {
        let app = Arc::clone(&app);
        let r = tokio::spawn(async move {
            app.handle(req(Method::Get, &format!("/users/{id}/dashboard"), b""))
                .await
        })
        .await
        .expect("task");
        assert_eq!(r.status, 200);
        assert_timing_with_5ms_round_trips(&body_json(&r));
    }
}

/// Compile-time: `App::handle` futures are `Send` for both real backends.
#[allow(dead_code)]
fn handle_futures_are_send(a: &App<AsyncBackend>, b: &App<BlockingBackend>, r: Request) {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&a.handle(r.clone()));
    assert_send(&b.handle(r));
}

/// The future every request pays for stays small whatever the backend's futures weigh (the
/// database routes are boxed in the router). The bound is loose: it guards against an
/// unboxed database arm (≥ 2 KiB with the async backend), not against a few bytes.
#[tokio::test]
async fn handle_future_stays_small() {
    let a = App::new(
        AsyncBackend::connect(&memory_config(LatencyProfile::None))
            .await
            .expect("connect"),
    );
    let b =
        App::new(BlockingBackend::connect(&memory_config(LatencyProfile::None)).expect("connect"));
    let r = req(Method::Get, "/plaintext", b"");
    let (async_size, blocking_size) =
        (size_of_val(&a.handle(r.clone())), size_of_val(&b.handle(r)));
    assert!(
        async_size <= 1024,
        "App<AsyncBackend>::handle future is {async_size} bytes"
    );
    assert!(
        blocking_size <= 1024,
        "App<BlockingBackend>::handle future is {blocking_size} bytes"
    );
}
