//! Helpers shared by the integration tests: one scenario, run through every backend.

#![allow(dead_code)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
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

/// Serve `answers.len()` connections, each answered with the next canned response; returns
/// the URL and a handle yielding each request received.
pub fn canned_server(answers: Vec<&'static str>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        answers
            .into_iter()
            .map(|answer| {
                let (mut conn, _) = listener.accept().unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head, then the Content-Length body.
                loop {
                    let n = conn.read(&mut buf).unwrap();
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if req.len() >= end + 4 + len {
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                conn.write_all(answer.as_bytes()).unwrap();
                String::from_utf8(req).unwrap()
            })
            .collect()
    });
    (url, handle)
}

pub const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"id\":\"abc-1\"}";
pub const FAIL: &str = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// A small in-memory database whose `notify` goes to `url`.
pub fn upstream_config(url: String) -> BackendConfig {
    BackendConfig {
        upstream_url: Some(url),
        ..memory_config(3)
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

/// Coroutine stack, in words (may's unit): 64 Ki words = 512 KiB. SQLite fits in may's
/// 32 KiB default; the sync postgres client (a tokio runtime inside) overflows it.
#[cfg(feature = "coroutines")]
const STACK_WORDS: usize = 0x1_0000;

/// One may worker for the whole test binary (may's config applies before its first spawn).
#[cfg(feature = "coroutines")]
fn one_carrier() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        may::config().set_workers(1).set_stack_size(STACK_WORDS);
    });
}

/// Spawn a may coroutine on the test binary's one carrier.
#[cfg(feature = "coroutines")]
pub fn go<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> may::coroutine::JoinHandle<T> {
    one_carrier();
    // SAFETY: the tests' closures hold no thread-local references or std lock guards
    // across a yield (may's requirement; see `MayWait`'s docs).
    unsafe { may::coroutine::spawn(f) }
}
