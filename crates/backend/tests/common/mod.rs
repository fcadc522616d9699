//! Helpers shared by the integration tests: one scenario, run through every backend.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use clab_backend::{Backend, BackendConfig, DatabaseUrl};

/// Poll a blocking backend's future once: it must already be complete, which is the point of
/// the blocking backend (its work happened in the method body).
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(f).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a BlockingBackend future was not ready on its first poll"),
    }
}

pub fn memory_config(users: u32) -> BackendConfig {
    BackendConfig {
        database: DatabaseUrl::SqliteMemory,
        pool_size: 4,
        seed_users: users,
        ..BackendConfig::default()
    }
}

/// Every method once, with assertions that hold for any seeded database (whatever its seed
/// size, as long as users 1..=5 exist).
pub async fn exercise<B: Backend>(b: &B) {
    let user = b.user(1).await.unwrap().expect("user 1 is seeded");
    assert_eq!(user.id, 1);
    assert!(user.email.contains('@'), "{user:?}");
    assert!(b.user(-5).await.unwrap().is_none());

    let orders = b.orders(2, 3).await.unwrap();
    assert!(!orders.is_empty() && orders.len() <= 3, "{orders:?}");
    assert!(
        orders
            .iter()
            .all(|o| o.user_id == 2 && o.quantity >= 1 && o.amount_cents > 0)
    );
    assert!(
        orders
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    assert!(b.orders(-5, 10).await.unwrap().is_empty());

    let account = b
        .account(3)
        .await
        .unwrap()
        .expect("every user has an account");
    assert_eq!(account.user_id, 3);
    assert!(b.account(-5).await.unwrap().is_none());

    let acts = b.recent_activity(4, 2).await.unwrap();
    assert_eq!(acts.len(), 2, "every user has at least 3 activity rows");
    assert!(acts[0].at >= acts[1].at && acts.iter().all(|a| a.user_id == 4));

    let key = format!("clab-test-{}", std::process::id());
    let ttl = Duration::from_secs(30);
    b.cache_set(&key, b"v1".to_vec(), ttl).await.unwrap();
    assert_eq!(
        b.cache_get(&key).await.unwrap().as_deref(),
        Some(&b"v1"[..])
    );
    b.cache_set(&key, b"v2".to_vec(), ttl).await.unwrap();
    assert_eq!(
        b.cache_get(&key).await.unwrap().as_deref(),
        Some(&b"v2"[..])
    );
    assert_eq!(b.cache_get(&format!("{key}-absent")).await.unwrap(), None);

    let receipt = b.notify(1, "hello").await.unwrap();
    assert!(!receipt.id.is_empty());

    assert_eq!(b.run_cpu(|| (1..=10u64).product::<u64>()).await, 3_628_800);
    let line = b.describe();
    assert!(line.contains("database:") && line.contains("cache:") && line.contains("latency:"));
}
