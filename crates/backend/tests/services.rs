//! Every backend against the real PostgreSQL and Redis, when `CLAB_TEST_DATABASE_URL` /
//! `CLAB_TEST_REDIS_URL` are set (a visible notice otherwise).
//!
//! The PostgreSQL tests work in private schemas (`clab_<tag>_<pid>`, [`PgSchema`], chosen per
//! connection through the URL's `options=-csearch_path=…`) and drop them at the end, so they
//! never touch the tables other tests or a running `clab serve` use.

mod common;

use std::io::Write as _;
use std::time::Duration;

use clab_backend::{
    AsyncBackend, Backend, BackendConfig, BlockingBackend, DatabaseUrl, LoopBackend, prepare,
};
use clab_testkit::PgSchema;
use common::{exercise, memory_config, ready};

fn env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            // Straight to the stderr handle: libtest captures `eprintln!`, and this notice must
            // be seen in a normal `cargo test` run.
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: clab-backend tests needing {name} skipped: {name} unset"
            );
            None
        }
    }
}

/// `SELECT COUNT(*)` of a table in the test's schema.
fn count(schema: &PgSchema, table: &str) -> i64 {
    schema
        .client()
        .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn postgres_prepare_and_both_backends() {
    let Some(base) = env("CLAB_TEST_DATABASE_URL") else {
        return;
    };
    let schema = PgSchema::create(&base, "backends");
    let cfg = BackendConfig {
        database: DatabaseUrl::Postgres(schema.url()),
        seed_users: 300,
        pool_size: 4,
        ..BackendConfig::default()
    };

    // Three processes' worth of prepares at once: the advisory lock makes one seed.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| prepare(&cfg))).collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    let counts = || ["users", "orders", "accounts", "activity"].map(|t| count(&schema, t));
    let first = counts();
    assert_eq!((first[0], first[2]), (300, 300), "{first:?}");
    assert!((2_400..=3_600).contains(&first[1]), "{first:?}");

    prepare(&cfg).unwrap();
    assert_eq!(counts(), first, "a second prepare changed the data");
    schema
        .client()
        .batch_execute("UPDATE users SET name = 'Still Here' WHERE id = 9")
        .unwrap();
    prepare(&cfg).unwrap();

    let blocking = BlockingBackend::connect(&cfg).unwrap();
    assert_eq!(ready(blocking.user(9)).unwrap().unwrap().name, "Still Here");
    ready(exercise(&blocking));
    assert!(
        blocking.describe().starts_with("database: postgres "),
        "{}",
        blocking.describe()
    );

    // The same data through tokio-postgres must map to the same rows.
    let user = ready(blocking.user(9)).unwrap();
    let orders = ready(blocking.orders(5, 20)).unwrap();
    let activity = ready(blocking.recent_activity(5, 20)).unwrap();
    #[cfg(feature = "coroutines")]
    exercise_in_a_coroutine(&cfg);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = AsyncBackend::connect(&cfg).await.unwrap();
        exercise(&b).await;
        assert_eq!(b.user(9).await.unwrap(), user);
        assert_eq!(b.orders(5, 20).await.unwrap(), orders);
        assert_eq!(b.recent_activity(5, 20).await.unwrap(), activity);
        // A blocking backend used on a tokio thread still works (the call moves off it).
        assert_eq!(ready(blocking.user(9)).unwrap(), user);
        // Many concurrent calls share the pipelined clients.
        let calls: Vec<_> = (1..=40).map(|id| b.account(id)).collect();
        for (id, call) in (1..=40).zip(calls) {
            assert_eq!(call.await.unwrap().unwrap().user_id, id);
        }
    });
    // And through the event loop: tokio-postgres over the loop's own sockets, no runtime.
    on_the_loop(async {
        let b = LoopBackend::connect(&cfg).await.unwrap();
        exercise(&b).await;
        assert_eq!(b.user(9).await.unwrap(), user);
        assert_eq!(b.orders(5, 20).await.unwrap(), orders);
        let calls: Vec<_> = (1..=40).map(|id| b.account(id)).collect();
        for (id, call) in (1..=40).zip(calls) {
            assert_eq!(call.await.unwrap().unwrap().user_id, id);
        }
    });
}

/// Run `f` on a fresh event loop on this thread.
fn on_the_loop<F: std::future::Future>(f: F) -> F::Output {
    clab_event_loop::Runtime::new()
        .unwrap()
        .block_on(f)
        .unwrap()
}

#[test]
fn postgres_and_sqlite_seed_the_same_rows() {
    let Some(base) = env("CLAB_TEST_DATABASE_URL") else {
        return;
    };
    let schema = PgSchema::create(&base, "same_rows");
    let pg_cfg = BackendConfig {
        database: DatabaseUrl::Postgres(schema.url()),
        seed_users: 20,
        pool_size: 2,
        ..BackendConfig::default()
    };
    prepare(&pg_cfg).unwrap();
    let pg = BlockingBackend::connect(&pg_cfg).unwrap();
    let lite = BlockingBackend::connect(&memory_config(20)).unwrap();
    for id in [1, 7, 20] {
        assert_eq!(ready(pg.user(id)).unwrap(), ready(lite.user(id)).unwrap());
        assert_eq!(
            ready(pg.orders(id, 50)).unwrap(),
            ready(lite.orders(id, 50)).unwrap()
        );
        assert_eq!(
            ready(pg.account(id)).unwrap(),
            ready(lite.account(id)).unwrap()
        );
    }
}

#[test]
fn redis_cache_both_backends() {
    let Some(url) = env("CLAB_TEST_REDIS_URL") else {
        return;
    };
    let cfg = BackendConfig {
        redis_url: Some(url),
        ..memory_config(10)
    };
    let blocking = BlockingBackend::connect(&cfg).unwrap();
    assert!(
        blocking.describe().contains("cache: redis "),
        "{}",
        blocking.describe()
    );
    ready(exercise(&blocking));

    let key = format!("clab-test-ttl-{}", std::process::id());
    ready(blocking.cache_set(&key, b"short".to_vec(), Duration::from_millis(1))).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        ready(blocking.cache_get(&key)).unwrap(),
        None,
        "expired entry still there"
    );
    #[cfg(feature = "coroutines")]
    exercise_in_a_coroutine(&cfg);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = AsyncBackend::connect(&cfg).await.unwrap();
        exercise(&b).await;
        // A value set by one backend is visible to the other: same server.
        let shared = format!("clab-test-shared-{}", std::process::id());
        b.cache_set(&shared, b"x".to_vec(), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(
            ready(blocking.cache_get(&shared)).unwrap().as_deref(),
            Some(&b"x"[..])
        );
    });
    // The multiplexed connection over the event loop's socket, its driver a loop task.
    on_the_loop(async {
        let b = LoopBackend::connect(&cfg).await.unwrap();
        exercise(&b).await;
        let shared = format!("clab-test-shared-{}", std::process::id());
        assert_eq!(
            b.cache_get(&shared).await.unwrap().as_deref(),
            Some(&b"x"[..])
        );
    });
}

/// `MayBackend` inside a coroutine: the blocking drivers run (pinning the carrier) on a
/// coroutine's stack.
#[cfg(feature = "coroutines")]
fn exercise_in_a_coroutine(cfg: &BackendConfig) {
    let b = clab_backend::MayBackend::connect(cfg).unwrap();
    common::go(move || ready(exercise(&b))).join().unwrap();
}
