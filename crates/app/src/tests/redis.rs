//! The dashboard with Redis as its cache (database: in-memory SQLite), when
//! `CLAB_TEST_REDIS_URL` is set; a visible notice otherwise. With Redis every cache command is
//! a network call and pays the profile's round trip, so all six remote calls wait.

use super::sqlite::{five_ms, memory_config};
use super::{assert_timing_with_5ms_round_trips, block_on, body_json, request};
use crate::App;
use clab_backend::{AsyncBackend, BackendConfig, BlockingBackend};
use clab_http::Method;
use std::io::Write as _;

fn redis_config() -> Option<BackendConfig> {
    match std::env::var("CLAB_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(BackendConfig {
            redis_url: Some(url),
            ..memory_config(five_ms())
        }),
        _ => {
            // Straight to stderr: libtest captures `eprintln!`, and this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: clab-app Redis dashboard tests skipped: CLAB_TEST_REDIS_URL unset"
            );
            None
        }
    }
}

/// Two dashboard requests: the second is a cache hit (the first may be a hit too if another
/// run filled the key within its TTL), and every call, the cache included, waited ≥ 5 ms.
fn check(first: &serde_json::Value, second: &serde_json::Value) {
    assert_eq!(second["timing"]["cache_hit"], true, "{second}");
    assert_eq!(first["summary"], second["summary"]);
    for v in [first, second] {
        assert_timing_with_5ms_round_trips(v);
        let t = &v["timing"];
        assert!(
            t["cache_us"].as_u64().is_some_and(|us| us >= 5_000),
            "Redis pays the round trip: {t}"
        );
        assert!(
            t["io_wait_us"].as_u64().is_some_and(|us| us >= 6 * 5_000),
            "{t}"
        );
    }
}

#[test]
fn blocking_backend_dashboard_on_redis() {
    let Some(cfg) = redis_config() else { return };
    let app = App::new(BlockingBackend::connect(&cfg).expect("connect"));
    let get = |target: &str| {
        body_json(&block_on(app.handle(request(
            Method::Get,
            target,
            &[("Host", "x")],
            b"",
        ))))
    };
    check(&get("/users/4/dashboard"), &get("/users/4/dashboard"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_backend_dashboard_on_redis() {
    let Some(cfg) = redis_config() else { return };
    let app = App::new(AsyncBackend::connect(&cfg).await.expect("connect"));
    let get = async || {
        let req = request(Method::Get, "/users/5/dashboard", &[("Host", "x")], b"");
        body_json(&app.handle(req).await)
    };
    // The first call misses the cache and fills it; the second must hit.
    let first = get().await;
    let second = get().await;
    check(&first, &second);
}
