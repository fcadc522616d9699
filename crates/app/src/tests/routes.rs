//! Every route through `App::handle` on the fake (blocking) backend, driven by `block_on`.

use super::fake::{Failure, Fake};
use super::{assert_timing_with_5ms_round_trips, block_on, body_json, header, request};
use crate::App;
use clab_http::{Method, Response};
use std::sync::atomic::Ordering;

fn app() -> App<Fake> {
    App::new(Fake::default())
}

fn send(app: &App<Fake>, method: Method, target: &str, body: &[u8]) -> Response {
    block_on(app.handle(request(method, target, &[("Host", "localhost")], body)))
}

#[test]
fn raw_speed_routes() {
    let app = app();
    let r = send(&app, Method::Get, "/plaintext", b"");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"Hello, World!"[..]));
    assert_eq!(
        header(&r, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    let r = send(&app, Method::Get, "/json", b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        body_json(&r),
        serde_json::json!({"message": "Hello, World!"})
    );
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    let r = send(&app, Method::Get, "/health", b"");
    assert_eq!(
        (r.status, body_json(&r)),
        (200, serde_json::json!({"status": "ok"}))
    );
    assert_eq!(
        app.backend().db_calls.load(Ordering::Relaxed),
        0,
        "no backend on raw routes"
    );
}

#[test]
fn head_is_routed_like_get_on_every_get_route() {
    let app = app();
    for target in [
        "/",
        "/plaintext",
        "/json",
        "/health",
        "/users/1",
        "/users/1/dashboard",
        "/cpu?ms=1",
    ] {
        let g = send(&app, Method::Get, target, b"");
        let h = send(&app, Method::Head, target, b"");
        assert_eq!(g.status, 200, "{target}");
        assert_eq!((h.status, &h.headers), (g.status, &g.headers), "{target}");
    }
}

#[test]
fn conformance_probe_routes() {
    let app = app();
    let r = send(&app, Method::Get, "/", b"");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"OK"[..]));
    for target in ["/", "*"] {
        let r = send(&app, Method::Options, target, b"");
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(
            header(&r, "allow"),
            Some("GET, HEAD, OPTIONS, POST"),
            "{target}"
        );
        assert!(r.body.is_empty());
    }
    let r = send(&app, Method::Options, "/hash", b"");
    assert_eq!(header(&r, "allow"), Some("OPTIONS, POST"));
    let r = send(&app, Method::Get, "*", b"");
    assert_eq!(r.status, 400, "asterisk-form is only for OPTIONS");

    let r = block_on(app.handle(request(
        Method::Post,
        "/",
        &[("Host", "x"), ("Content-Type", "text/plain")],
        b"ping \x00\xff",
    )));
    assert_eq!((r.status, r.body.as_slice()), (200, &b"ping \x00\xff"[..]));
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
    let r = send(&app, Method::Post, "/", b"");
    assert_eq!((r.status, r.body.len()), (200, 0));

    let r = block_on(app.handle(request(
        Method::Post,
        "/echo",
        &[
            ("Host", "example.test"),
            ("X-Custom", "a b"),
            ("x-lower", "\u{e9}"),
        ],
        b"ignored",
    )));
    assert_eq!(r.status, 200);
    assert_eq!(
        header(&r, "content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        r.body,
        "Host: example.test\nX-Custom: a b\nx-lower: \u{e9}\n".as_bytes()
    );
}

#[test]
fn unknown_route_is_404_json() {
    let app = app();
    for target in [
        "/nope",
        "/plaintext/",
        "/users",
        "/users/1/orders",
        "/%2e%2e/etc/passwd",
    ] {
        let r = send(&app, Method::Get, target, b"");
        assert_eq!(r.status, 404, "{target}");
        assert!(body_json(&r)["error"].is_string(), "{target}");
    }
}

#[test]
fn wrong_method_is_405_with_allow() {
    let app = app();
    let cases: &[(Method, &str, &str)] = &[
        (Method::Delete, "/plaintext", "GET, HEAD, OPTIONS"),
        (Method::Post, "/json", "GET, HEAD, OPTIONS"),
        (Method::Put, "/users/1", "GET, HEAD, OPTIONS"),
        (Method::Post, "/users/1/dashboard", "GET, HEAD, OPTIONS"),
        (Method::Get, "/hash", "OPTIONS, POST"),
        (Method::Head, "/echo", "OPTIONS, POST"),
        (Method::Patch, "/", "GET, HEAD, OPTIONS, POST"),
        (Method::Other("BREW".into()), "/cpu", "GET, HEAD, OPTIONS"),
    ];
    for (method, target, allow) in cases {
        let r = send(&app, method.clone(), target, b"");
        assert_eq!(r.status, 405, "{method:?} {target}");
        assert_eq!(header(&r, "allow"), Some(*allow), "{method:?} {target}");
        assert_eq!(body_json(&r)["error"], "method not allowed");
    }
    assert_eq!(
        app.backend().db_calls.load(Ordering::Relaxed),
        0,
        "405 before any query"
    );
}

#[test]
fn user_with_orders() {
    let app = app();
    let r = send(&app, Method::Get, "/users/2", b"");
    assert_eq!(r.status, 200);
    let v = body_json(&r);
    assert_eq!(v["user"]["id"], 2);
    assert_eq!(v["user"]["email"], "user2@example.com");
    assert_eq!(v["orders"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        app.backend().db_calls.load(Ordering::Relaxed),
        2,
        "two queries"
    );
}

#[test]
fn user_errors_400_and_404() {
    let app = app();
    let r = send(&app, Method::Get, "/users/404", b"");
    assert_eq!(r.status, 404);
    assert_eq!(body_json(&r)["error"], "user 404 not found");
    assert_eq!(
        app.backend().db_calls.load(Ordering::Relaxed),
        1,
        "no orders query for a missing user"
    );
    for bad in [
        "abc",
        "-1",
        "+1",
        "1.5",
        "1e3",
        "99999999999999999999",
        "%31",
    ] {
        for target in [format!("/users/{bad}"), format!("/users/{bad}/dashboard")] {
            let r = send(&app, Method::Get, &target, b"");
            assert_eq!(r.status, 400, "{target}");
            assert!(
                body_json(&r)["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("invalid user id")),
                "{target}"
            );
        }
    }
}

#[test]
fn backend_unavailable_is_503_with_retry_after() {
    let app = app();
    *app.backend().fail.lock().expect("lock") = Some(Failure::Unavailable);
    for target in ["/users/1", "/users/1/dashboard"] {
        let r = send(&app, Method::Get, target, b"");
        assert_eq!(r.status, 503, "{target}");
        assert_eq!(header(&r, "retry-after"), Some("1"));
        let msg = body_json(&r)["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(msg.contains("database unavailable"), "{msg}");
    }
    // Routes that need no backend still answer.
    assert_eq!(send(&app, Method::Get, "/health", b"").status, 200);
}

#[test]
fn other_backend_errors_are_500_without_details() {
    let app = app();
    *app.backend().fail.lock().expect("lock") = Some(Failure::Query);
    let r = send(&app, Method::Get, "/users/1", b"");
    assert_eq!(r.status, 500);
    assert_eq!(header(&r, "retry-after"), None);
    let body = String::from_utf8_lossy(&r.body);
    assert!(!body.contains("secret"), "internal details leaked: {body}");
}

#[test]
fn dashboard_cache_miss_then_hit() {
    let app = app();
    let first = body_json(&send(&app, Method::Get, "/users/1/dashboard", b""));
    assert_eq!(first["timing"]["cache_hit"], false);
    assert!(
        app.backend()
            .cache
            .lock()
            .expect("lock")
            .contains_key("dashboard:summary:1")
    );
    let second = body_json(&send(&app, Method::Get, "/users/1/dashboard", b""));
    assert_eq!(second["timing"]["cache_hit"], true);
    assert_eq!(
        first["summary"], second["summary"],
        "cached summary equals the computed one"
    );
    assert_eq!(first["summary"]["order_count"], 3);
    assert_eq!(first["summary"]["total_cents"], 600);
    assert_eq!(first["summary"]["top_item"], "tea");
    assert_eq!(first["balance_cents"], 4200);
    assert_eq!(
        first["activity_by_kind"],
        serde_json::json!({"login": 2, "order": 1})
    );
    assert_eq!(first["notification"]["simulated"], true);
    assert_eq!(first["timing"]["simulated_upstream"], true);
    assert_eq!(first["invalid_rows"], 0);
    // 4 queries per request, hit or miss.
    assert_eq!(app.backend().db_calls.load(Ordering::Relaxed), 8);
    // Another user's summary is a separate key.
    let other = body_json(&send(&app, Method::Get, "/users/2/dashboard", b""));
    assert_eq!(other["timing"]["cache_hit"], false);
}

#[test]
fn dashboard_drops_invalid_rows_and_survives_a_broken_cache() {
    let app = app();
    let v = body_json(&send(&app, Method::Get, "/users/3/dashboard", b""));
    assert_eq!(
        v["invalid_rows"], 1,
        "the order that belongs to user 1 is dropped"
    );
    assert_eq!(v["summary"]["order_count"], 3);

    app.backend().cache_fails.store(true, Ordering::Relaxed);
    let r = send(&app, Method::Get, "/users/1/dashboard", b"");
    assert_eq!(r.status, 200, "a cache failure degrades to a miss");
    assert_eq!(body_json(&r)["timing"]["cache_hit"], false);
}

#[test]
fn dashboard_timing_adds_up() {
    let wait = std::time::Duration::from_millis(5);
    let app = App::new(Fake {
        wait,
        ..Fake::default()
    });
    let v = body_json(&send(&app, Method::Get, "/users/1/dashboard", b""));
    // The fake blocks 5 ms per query and upstream call; its cache is free, like the real
    // in-process cache.
    assert_timing_with_5ms_round_trips(&v);
}

#[test]
fn hash_route() {
    let app = app();
    let r = send(
        &app,
        Method::Post,
        "/hash",
        br#"{"password":"hunter2","cost":1}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = body_json(&r);
    assert!(
        v["hash"]
            .as_str()
            .is_some_and(|h| h.starts_with("$argon2id$v=19$m=19456,t=1,p=1$")),
        "{v}"
    );
    assert_eq!(v["cost"], 1);
    assert_eq!(
        app.backend().cpu_calls.load(Ordering::Relaxed),
        1,
        "hashing goes through run_cpu"
    );
    // Default cost, extra fields tolerated, content type not required.
    let v = body_json(&send(
        &app,
        Method::Post,
        "/hash",
        br#"{"password":"x","note":1}"#,
    ));
    assert_eq!(v["cost"], crate::HASH_DEFAULT_COST);
}

#[test]
fn hash_rejects_bad_input_with_400() {
    let app = app();
    let long = format!(
        r#"{{"password":"{}"}}"#,
        "a".repeat(crate::HASH_MAX_PASSWORD + 1)
    );
    let bad: &[&[u8]] = &[
        br#"{"password":"x","cost":0}"#,
        br#"{"password":"x","cost":11}"#,
        br#"{"password":"x","cost":-1}"#,
        br#"{"password":"x","cost":"2"}"#,
        br#"{"cost":2}"#,
        b"password=x",
        b"",
        b"\xff\xfe",
        long.as_bytes(),
    ];
    for body in bad {
        let r = send(&app, Method::Post, "/hash", body);
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        assert!(body_json(&r)["error"].is_string());
    }
    assert_eq!(
        app.backend().cpu_calls.load(Ordering::Relaxed),
        0,
        "rejected before hashing"
    );
}

#[test]
fn cpu_route() {
    let app = app();
    let v = body_json(&send(&app, Method::Get, "/cpu?ms=3", b""));
    assert_eq!(v["requested_ms"], 3);
    assert!(v["burned_us"].as_u64().is_some_and(|us| us >= 3_000), "{v}");
    assert_eq!(
        app.backend().cpu_calls.load(Ordering::Relaxed),
        1,
        "burning goes through run_cpu"
    );
    for target in ["/cpu", "/cpu?ms=0", "/cpu?ms=10001", "/cpu?ms=x"] {
        assert_eq!(send(&app, Method::Get, target, b"").status, 400, "{target}");
    }
}

#[test]
fn bank_routes_answer_the_contract() {
    use super::fake::FAKE_BALANCE;
    let app = app();
    let r = send(&app, Method::Get, "/accounts/2", b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        body_json(&r),
        serde_json::json!({"id": 2, "balance_cents": FAKE_BALANCE})
    );
    let r = send(
        &app,
        Method::Post,
        "/accounts/2/withdraw",
        br#"{"amount": 200}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(body_json(&r)["balance_cents"], FAKE_BALANCE - 200);
    let r = send(
        &app,
        Method::Post,
        "/accounts/1/deposit",
        br#"{"amount": 5}"#,
    );
    assert_eq!(
        (r.status, body_json(&r)["balance_cents"].clone()),
        (200, (FAKE_BALANCE + 5).into())
    );
    let r = send(
        &app,
        Method::Post,
        "/accounts/3/withdraw",
        br#"{"amount": 999999}"#,
    );
    assert_eq!(r.status, 409);
    assert_eq!(
        body_json(&r),
        serde_json::json!({"error": "insufficient funds", "id": 3, "balance_cents": FAKE_BALANCE})
    );
    let r = send(
        &app,
        Method::Post,
        "/transfers",
        br#"{"from": 1, "to": 3, "amount": 100}"#,
    );
    assert_eq!(r.status, 200);
    let v = body_json(&r);
    assert_eq!(
        (v["from"]["id"].clone(), v["from"]["balance_cents"].clone()),
        (1.into(), (FAKE_BALANCE - 100).into())
    );
    assert_eq!(
        (v["to"]["id"].clone(), v["to"]["balance_cents"].clone()),
        (3.into(), (FAKE_BALANCE + 100).into())
    );
    let r = send(&app, Method::Get, "/accounts?from=1&to=8", b"");
    assert_eq!(r.status, 200);
    let v = body_json(&r);
    assert_eq!(v["accounts"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["total_cents"], 3 * FAKE_BALANCE);
    for (target, body) in [
        ("/accounts/77/withdraw", &br#"{"amount": 1}"#[..]),
        ("/accounts/77/deposit", br#"{"amount": 1}"#),
        ("/transfers", br#"{"from": 1, "to": 77, "amount": 1}"#),
    ] {
        let r = send(&app, Method::Post, target, body);
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(body_json(&r)["error"], "account 77 not found");
    }
    let r = send(&app, Method::Get, "/transfers", b"");
    assert_eq!(
        (r.status, header(&r, "Allow")),
        (405, Some("OPTIONS, POST"))
    );
}

#[test]
fn bank_rejects_bad_input_with_400_before_touching_the_database() {
    let app = app();
    let bad: &[(&str, &[u8])] = &[
        ("/accounts/1/withdraw", b""),
        ("/accounts/1/withdraw", b"{"),
        ("/accounts/1/withdraw", br#"{"amount": 0}"#),
        ("/accounts/1/withdraw", br#"{"amount": -5}"#),
        ("/accounts/1/withdraw", br#"{"amount": 1.5}"#),
        ("/accounts/1/withdraw", br#"{"amount": "5"}"#),
        ("/accounts/1/withdraw", br#"{"amount": 100000000001}"#),
        (
            "/accounts/1/withdraw",
            br#"{"amount": 99999999999999999999}"#,
        ),
        ("/accounts/1/deposit", br#"{"amount": -1}"#),
        ("/accounts/x/deposit", br#"{"amount": 1}"#),
        ("/accounts/-1/deposit", br#"{"amount": 1}"#),
        ("/transfers", br#"{"from": 1, "to": 1, "amount": 5}"#),
        ("/transfers", br#"{"from": 1, "amount": 5}"#),
        ("/transfers", br#"{"from": 1, "to": 2, "amount": 0}"#),
    ];
    for (target, body) in bad {
        let r = send(&app, Method::Post, target, body);
        assert_eq!(r.status, 400, "{target} {}", String::from_utf8_lossy(body));
    }
    for target in [
        "/accounts",
        "/accounts?from=1",
        "/accounts?from=5&to=1",
        "/accounts?from=1&to=10001",
        "/accounts?from=a&to=2",
    ] {
        assert_eq!(send(&app, Method::Get, target, b"").status, 400, "{target}");
    }
    assert_eq!(app.backend().db_calls.load(Ordering::Relaxed), 0);
}
