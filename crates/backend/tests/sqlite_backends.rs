//! The blocking and tokio backends on SQLite: every method, latency, preparation and failure modes.

mod common;

use std::time::{Duration, Instant};

use clab_backend::{
    AsyncBackend, Backend, BackendConfig, BlockingBackend, CpuPolicy, DatabaseUrl, prepare,
};
use common::{exercise, memory_config, ready};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

#[test]
fn backends_are_shareable() {
    assert_send_sync_clone::<BlockingBackend>();
    assert_send_sync_clone::<AsyncBackend>();
    #[cfg(feature = "coroutines")]
    assert_send_sync_clone::<clab_backend::MayBackend>();
}

#[test]
fn blocking_backend_every_method_on_memory_sqlite() {
    let b = BlockingBackend::connect(&memory_config(50)).unwrap();
    ready(exercise(&b));
    let receipt = ready(b.notify(1, "x")).unwrap();
    assert!(receipt.simulated && receipt.id.starts_with("sim-"));
}

#[tokio::test]
async fn async_backend_every_method_on_memory_sqlite() {
    let b = AsyncBackend::connect(&memory_config(50)).await.unwrap();
    exercise(&b).await;
    assert!(b.notify(1, "x").await.unwrap().simulated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_backend_blocking_pool_policy_runs_elsewhere_and_keeps_panics() {
    let cfg = BackendConfig {
        cpu_policy: CpuPolicy::BlockingPool,
        ..memory_config(5)
    };
    let b = AsyncBackend::connect(&cfg).await.unwrap();
    let here = std::thread::current().id();
    let there = b.run_cpu(|| std::thread::current().id()).await;
    assert_ne!(here, there, "BlockingPool work ran on the calling worker");
    let b2 = b.clone();
    let joined = tokio::spawn(async move { b2.run_cpu(|| -> u8 { panic!("boom") }).await }).await;
    assert!(joined.unwrap_err().is_panic());
}

#[test]
fn blocking_backend_runs_cpu_inline_under_either_policy() {
    let cfg = BackendConfig {
        cpu_policy: CpuPolicy::BlockingPool,
        ..memory_config(5)
    };
    let b = BlockingBackend::connect(&cfg).unwrap();
    let here = std::thread::current().id();
    assert_eq!(ready(b.run_cpu(move || std::thread::current().id())), here);
}

/// Lower bounds only: a noisy machine may make calls slower, never faster than the profile.
#[test]
fn blocking_calls_wait_at_least_the_profile() {
    let cfg = BackendConfig {
        latency: "10".parse().unwrap(),
        ..memory_config(5)
    };
    let b = BlockingBackend::connect(&cfg).unwrap();
    let t = Instant::now();
    ready(b.user(1)).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(10),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    ready(b.notify(1, "x")).unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(10),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn async_calls_wait_at_least_the_profile() {
    let cfg = BackendConfig {
        latency: "10".parse().unwrap(),
        ..memory_config(5)
    };
    let b = AsyncBackend::connect(&cfg).await.unwrap();
    let t = Instant::now();
    b.orders(1, 5).await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(10),
        "{:?}",
        t.elapsed()
    );
    // Each remote call pays its own round trip: ten in sequence take at least ten of them.
    let t = Instant::now();
    for id in 1..=10 {
        b.account(id).await.unwrap();
    }
    assert!(
        t.elapsed() >= Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
}

/// The in-process cache is not a remote call: even a minute-long profile leaves its futures
/// ready at the first poll (no timer), while a database call is pending on its timer.
#[tokio::test]
async fn in_process_cache_pays_no_round_trip() {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let cfg = BackendConfig {
        latency: "60000".parse().unwrap(),
        ..memory_config(5)
    };
    let b = AsyncBackend::connect(&cfg).await.unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    let set = pin!(b.cache_set("k", b"v".to_vec(), Duration::from_secs(5))).poll(&mut cx);
    assert!(matches!(set, Poll::Ready(Ok(()))));
    let get = pin!(b.cache_get("k")).poll(&mut cx);
    assert!(matches!(get, Poll::Ready(Ok(Some(ref v))) if v == b"v"));
    assert!(
        pin!(b.user(1)).poll(&mut cx).is_pending(),
        "a database call must wait"
    );
}

#[test]
fn describe_names_the_simulation() {
    let cfg = BackendConfig {
        latency: "same-region".parse().unwrap(),
        ..memory_config(5)
    };
    let b = BlockingBackend::connect(&cfg).unwrap();
    assert_eq!(
        b.describe(),
        "database: sqlite :memory: (in-process) · cache: in-process · upstream: simulated · \
         latency: simulated round trip: same-region 20–30 ms per remote call"
    );
}

/// A unique scratch path under the system temp dir (removed by the caller).
fn scratch_db(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("clab-backend-{name}-{}.db", std::process::id()))
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[test]
fn prepare_is_idempotent_and_never_wipes() {
    let path = scratch_db("idempotent");
    remove_db(&path);
    let cfg = BackendConfig {
        database: DatabaseUrl::SqliteFile(path.clone()),
        seed_users: 200,
        pool_size: 2,
        ..BackendConfig::default()
    };
    prepare(&cfg).unwrap();
    let counts = |path: &std::path::Path| -> Vec<i64> {
        let conn = rusqlite::Connection::open(path).unwrap();
        ["users", "orders", "accounts", "activity"]
            .iter()
            .map(|t| {
                conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
                    .unwrap()
            })
            .collect()
    };
    let first = counts(&path);
    assert_eq!(first[0], 200);
    assert_eq!(first[2], 200);
    assert!(
        (1_600..=2_400).contains(&first[1]),
        "about 10 orders per user: {first:?}"
    );

    prepare(&cfg).unwrap();
    assert_eq!(counts(&path), first);

    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE users SET name = 'Still Here' WHERE id = 7", [])
        .unwrap();
    prepare(&cfg).unwrap();
    let b = BlockingBackend::connect(&cfg).unwrap();
    assert_eq!(ready(b.user(7)).unwrap().unwrap().name, "Still Here");
    ready(exercise(&b));
    drop(b);
    remove_db(&path);
}

#[test]
fn concurrent_prepares_seed_once() {
    let path = scratch_db("concurrent");
    remove_db(&path);
    let cfg = BackendConfig {
        database: DatabaseUrl::SqliteFile(path.clone()),
        seed_users: 300,
        ..BackendConfig::default()
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| prepare(&cfg))).collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    let conn = rusqlite::Connection::open(&path).unwrap();
    let users: i64 = conn
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 300);
    drop(conn);
    remove_db(&path);
}

#[test]
fn unwritable_sqlite_path_is_an_error_not_a_panic() {
    let cfg = BackendConfig {
        database: DatabaseUrl::SqliteFile("/nonexistent-dir/clab/x.db".into()),
        ..BackendConfig::default()
    };
    assert!(prepare(&cfg).is_err());
    assert!(BlockingBackend::connect(&cfg).unwrap_err().is_unavailable());
}

#[test]
fn closed_postgres_port_is_unavailable() {
    let cfg = BackendConfig {
        database: "postgres://postgres:secret@127.0.0.1:1/test?connect_timeout=2"
            .parse()
            .unwrap(),
        ..BackendConfig::default()
    };
    let err = BlockingBackend::connect(&cfg).unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    let err = prepare(&cfg).unwrap_err();
    assert!(
        err.is_unavailable() && !err.to_string().contains("secret"),
        "{err}"
    );
}

#[tokio::test]
async fn closed_postgres_and_redis_ports_are_unavailable_async() {
    let cfg = BackendConfig {
        database: "postgres://postgres:secret@127.0.0.1:1/test?connect_timeout=2"
            .parse()
            .unwrap(),
        ..BackendConfig::default()
    };
    let err = AsyncBackend::connect(&cfg).await.unwrap_err();
    assert!(
        err.is_unavailable() && !err.to_string().contains("secret"),
        "{err}"
    );

    let cfg = BackendConfig {
        redis_url: Some("redis://127.0.0.1:1".into()),
        ..memory_config(3)
    };
    let err = AsyncBackend::connect(&cfg).await.unwrap_err();
    assert!(
        err.is_unavailable() && err.to_string().starts_with("cache"),
        "{err}"
    );
    let err = BlockingBackend::connect(&cfg).unwrap_err();
    assert!(
        err.is_unavailable() && err.to_string().starts_with("cache"),
        "{err}"
    );
}

#[test]
fn bad_config_is_refused_at_connect() {
    let cfg = BackendConfig {
        pool_size: 0,
        ..memory_config(3)
    };
    assert!(matches!(
        BlockingBackend::connect(&cfg),
        Err(clab_backend::BackendError::Config(_))
    ));
}
