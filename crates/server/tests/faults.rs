//! Faults in dependencies, on every model: PostgreSQL, Redis or the upstream API goes away in
//! the middle of a run and comes back.
//!
//! Each dependency is reached through a proxy the test can cut or stall (`support/proxy.rs`),
//! so the machine's shared PostgreSQL and Redis keep running. Cut, the dependency refuses
//! (connections reset or closed); stalled, it hangs (connections open, nothing answered),
//! which only a deadline reveals. While a dependency is gone the server must answer promptly
//! (no hang beyond the backend's IO timeout per call) and clearly: 503 with `Retry-After` and
//! a message naming the part for the database and the upstream; the cache is cache-aside, so
//! a lost Redis degrades to misses (200, `cache_hit: false`) rather than failing requests the
//! database can still answer. When the dependency returns, the server recovers without a
//! restart.

mod support;

use clab_backend::{BackendConfig, DatabaseUrl, MAX_AMOUNT_CENTS, RaceStrategy};
use clab_server::{Model, for_each_model};
use std::net::ToSocketAddrs;
use std::thread;
use std::time::{Duration, Instant};
use support::proxy::{Proxy, receipt_server};
use support::{Resp, TestServer, get};

/// The backend's IO deadline here: short, so that a hung dependency costs the test seconds
/// (the default, `clab_backend::IO_TIMEOUT`, is 10 s); still far above a loopback query.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a request whose dependency is gone may take: `calls` calls to it, each up to the
/// IO deadline, plus scheduling slack on a loaded 2-vCPU machine.
fn prompt(calls: u32) -> Duration {
    IO_TIMEOUT * calls + Duration::from_secs(3)
}
/// How long the server may take to serve normally again after the dependency returns.
const RECOVERY: Duration = Duration::from_secs(20);

/// A proxy in front of the dependency whose URL is in the environment variable `var`, and
/// that URL pointed at the proxy; `None` (with a visible notice) when `var` is unset.
fn proxied(var: &str, default_port: u16) -> Option<(Proxy, String)> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("NOTICE: {var} unset; this dependency fault test did not run");
        return None;
    };
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:{default_port}")
    };
    let real = hostport
        .to_socket_addrs()
        .expect("resolve the dependency")
        .next()
        .expect("an address");
    let proxy = Proxy::start(real);
    let url = format!("{scheme}://{userinfo}{}{path}", proxy.addr);
    Some((proxy, url))
}

/// `POST path` with a JSON `body`.
fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One request on a fresh connection, and how long it took.
fn timed(server: &TestServer, req: &[u8]) -> (Resp, Duration) {
    let t = Instant::now();
    let r = server.client().roundtrip(req);
    (r, t.elapsed())
}

/// While the dependency is gone: every answer to `req` (which makes one call to it) is a
/// prompt 503 naming `part`. Returns the last message.
fn assert_unavailable(model: Model, server: &TestServer, req: &[u8], part: &str) -> String {
    let mut message = String::new();
    for _ in 0..3 {
        let (r, took) = timed(server, req);
        assert!(
            took < prompt(1),
            "{model}: the request took {took:?} with {part} gone"
        );
        assert_eq!(r.status, 503, "{model}: with {part} gone: {r:?}");
        assert!(r.header("retry-after").is_some(), "{model}: {r:?}");
        assert!(
            r.text().contains(&format!("{part} unavailable")),
            "{model}: the message must name the {part}: {}",
            r.text()
        );
        message = r.text();
    }
    message
}

/// After the dependency returns: answers to `req` are `ok` again within [`RECOVERY`], then
/// stay so.
fn assert_recovers(model: Model, server: &TestServer, req: &[u8], ok: u16, what: &str) {
    let t = Instant::now();
    loop {
        let (r, _) = timed(server, req);
        if r.status == ok {
            break;
        }
        assert!(
            t.elapsed() < RECOVERY,
            "{model}: no recovery {RECOVERY:?} after {what} returned: {r:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
    for _ in 0..5 {
        let (r, _) = timed(server, req);
        assert_eq!(r.status, ok, "{model}: after {what} returned: {r:?}");
    }
}

fn small(database: DatabaseUrl) -> BackendConfig {
    BackendConfig {
        database,
        seed_users: 50,
        seed_orders_per_user: 2,
        pool_size: 2,
        io_timeout: IO_TIMEOUT,
        ..BackendConfig::default()
    }
}

/// The dashboard's `timing.cache_hit`.
fn cache_hit(model: Model, r: &Resp) -> bool {
    assert_eq!(r.status, 200, "{model}: {r:?}");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("dashboard JSON");
    v["timing"]["cache_hit"]
        .as_bool()
        .expect("timing.cache_hit")
}

/// How a dependency goes away.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// It refuses: connections closed, new ones closed at once.
    Cut,
    /// It hangs: connections open, nothing answered.
    Stall,
}

impl Fault {
    fn apply(self, proxy: &Proxy) {
        match self {
            Self::Cut => proxy.cut(),
            Self::Stall => proxy.stall(),
        }
    }
}

for_each_model! {
    fn postgres_stopped_mid_run_is_503_then_recovers(model) {
        postgres_fault_is_503_then_recovers(model, Fault::Cut);
    }

    fn postgres_hanging_mid_run_is_a_prompt_503_then_recovers(model) {
        postgres_fault_is_503_then_recovers(model, Fault::Stall);
    }

    fn postgres_hung_connections_are_dropped_not_reused(model) {
        let Some((proxy, proxied)) = proxied("CLAB_TEST_DATABASE_URL", 5432) else { return };
        let server = TestServer::start(model, |o| {
            o.backend = small(proxied.parse().expect("database url"));
        });
        for _ in 0..4 {
            assert_eq!(timed(&server, &get("/users/1")).0.status, 200, "{model}: before the fault");
        }
        // Every open connection hangs for good; PostgreSQL itself still answers new ones. A
        // pool that kept a connection past its missed deadline would fail on it forever.
        // Each hung connection may cost one prompt 503 (a sharded model has a pool per
        // shard, met in any order); then the fresh connections serve.
        proxy.stall_live();
        let t = Instant::now();
        let mut in_a_row = 0;
        while in_a_row < 5 {
            let (r, took) = timed(&server, &get("/users/1"));
            assert!(took < prompt(1), "{model}: /users/1 took {took:?} on a hung connection");
            in_a_row = if r.status == 200 { in_a_row + 1 } else { 0 };
            assert!(
                t.elapsed() < RECOVERY,
                "{model}: still failing {RECOVERY:?} after its connections hung: {} {}",
                r.status,
                r.text()
            );
        }
    }

    fn postgres_hanging_mid_transaction_is_prompt_then_recovers(model) {
        postgres_hanging_mid_transaction(model);
    }

    fn redis_stopped_mid_run_degrades_to_misses_then_recovers(model) {
        redis_fault_degrades_to_misses_then_recovers(model, Fault::Cut);
    }

    fn redis_hanging_mid_run_degrades_to_misses_then_recovers(model) {
        redis_fault_degrades_to_misses_then_recovers(model, Fault::Stall);
    }

    fn upstream_dead_mid_run_is_503_then_recovers(model) {
        upstream_fault_is_503_then_recovers(model, Fault::Cut);
    }

    fn upstream_hanging_mid_run_is_a_prompt_503_then_recovers(model) {
        upstream_fault_is_503_then_recovers(model, Fault::Stall);
    }
}

/// The upstream API fails by `fault` mid-run: prompt 503s naming the upstream (a hang says it
/// did not answer in time, on the blocking path as on the async one), then recovery.
fn upstream_fault_is_503_then_recovers(model: Model, fault: Fault) {
    let proxy = Proxy::start(receipt_server());
    let server = TestServer::start(model, |o| {
        o.backend = BackendConfig {
            upstream_url: Some(format!("http://{}/notify", proxy.addr)),
            ..small(DatabaseUrl::SqliteMemory)
        };
    });
    let req = get("/users/1/dashboard");
    fault_then_recovery(
        model,
        &server,
        &proxy,
        &req,
        fault,
        "upstream",
        "the upstream",
    );
}

/// PostgreSQL fails by `fault` mid-run: prompt 503s naming the database (a hang says it did
/// not answer in time), then recovery once it is back.
fn postgres_fault_is_503_then_recovers(model: Model, fault: Fault) {
    let Some((proxy, proxied)) = proxied("CLAB_TEST_DATABASE_URL", 5432) else {
        return;
    };
    let server = TestServer::start(model, |o| {
        o.backend = small(proxied.parse().expect("database url"));
    });
    let req = get("/users/1");
    fault_then_recovery(
        model,
        &server,
        &proxy,
        &req,
        fault,
        "database",
        "PostgreSQL",
    );
}

/// A fault's course through `proxy`: `req` answered before it, prompt 503s naming `part`
/// while it lasts (a hang saying `part` did not answer in time), and recovery after `what`
/// returns.
fn fault_then_recovery(
    model: Model,
    server: &TestServer,
    proxy: &Proxy,
    req: &[u8],
    fault: Fault,
    part: &str,
    what: &str,
) {
    assert_eq!(
        timed(server, req).0.status,
        200,
        "{model}: before the fault"
    );
    fault.apply(proxy);
    let message = assert_unavailable(model, server, req, part);
    if let Fault::Stall = fault {
        assert!(
            message.contains(&format!("no answer within {IO_TIMEOUT:?}")),
            "{model}: the message must say the {part} did not answer in time: {message}"
        );
    }
    proxy.restore();
    assert_recovers(model, server, req, 200, what);
}

/// PostgreSQL hangs under a bank transaction (a withdrawal on a connection held alone, refused
/// with 409 as more than any balance, so the shared database is left as it was): every answer
/// is prompt, then the withdrawals are served again. A call that fails before any statement
/// was sent (connecting) is a 503 saying the database did not answer; one whose `BEGIN` was
/// sent is the bank's 500 "outcome unknown", since a 503 promises nothing was applied
/// (`crates/backend/src/bank/script.rs`).
fn postgres_hanging_mid_transaction(model: Model) {
    let Some((proxy, proxied)) = proxied("CLAB_TEST_DATABASE_URL", 5432) else {
        return;
    };
    let server = TestServer::start(model, |o| {
        o.backend = BackendConfig {
            race_strategy: RaceStrategy::TxnReadCommitted,
            ..small(proxied.parse().expect("database url"))
        };
    });
    let withdraw = post(
        "/accounts/1/withdraw",
        &format!(r#"{{"amount":{MAX_AMOUNT_CENTS}}}"#),
    );
    assert_eq!(
        timed(&server, &withdraw).0.status,
        409,
        "{model}: before the fault"
    );
    proxy.stall();
    let mut refused = 0;
    for _ in 0..4 {
        let (r, took) = timed(&server, &withdraw);
        assert!(
            took < prompt(1),
            "{model}: a withdrawal took {took:?} with the database hanging"
        );
        match r.status {
            503 => {
                refused += 1;
                assert!(
                    r.text()
                        .contains(&format!("no answer within {IO_TIMEOUT:?}")),
                    "{model}: {}",
                    r.text()
                );
            }
            500 => {}
            _ => panic!("{model}: with the database hanging: {r:?}"),
        }
    }
    // Only the connections open before the stall can have sent a statement.
    assert!(refused >= 2, "{model}: too few 503s: {refused} of 4");
    proxy.restore();
    assert_recovers(model, &server, &withdraw, 409, "PostgreSQL");
}

/// Redis fails by `fault` mid-run: the dashboard is served from the database, promptly (its
/// two cache calls, lookup and fill, each within the deadline), as a miss; once Redis is
/// back, reads hit the cache again.
fn redis_fault_degrades_to_misses_then_recovers(model: Model, fault: Fault) {
    let Some((proxy, proxied)) = proxied("CLAB_TEST_REDIS_URL", 6379) else {
        return;
    };
    let server = TestServer::start(model, |o| {
        o.backend = BackendConfig {
            redis_url: Some(proxied),
            ..small(DatabaseUrl::SqliteMemory)
        };
    });
    // A user this test alone reads, so the first call is a miss that fills the cache (the
    // servers share the machine's Redis).
    let m = Model::ALL
        .iter()
        .position(|m| *m == model)
        .expect("a model");
    let path = format!("/users/{}/dashboard", 11 + 2 * m + fault as usize);
    let req = get(&path);
    let _ = cache_hit(model, &timed(&server, &req).0);
    assert!(
        cache_hit(model, &timed(&server, &req).0),
        "{model}: the second read hits the cache"
    );

    fault.apply(&proxy);
    for _ in 0..3 {
        let (r, took) = timed(&server, &req);
        assert!(
            took < prompt(2),
            "{model}: the dashboard took {took:?} with Redis gone ({fault:?})"
        );
        assert!(
            !cache_hit(model, &r),
            "{model}: with Redis gone ({fault:?}) every read is a miss"
        );
    }
    proxy.restore();
    let t = Instant::now();
    while !cache_hit(model, &timed(&server, &req).0) {
        assert!(
            t.elapsed() < RECOVERY,
            "{model}: the cache never came back after {fault:?}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}
