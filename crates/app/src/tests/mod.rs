//! Handler tests through [`crate::App::handle`]: a request in, a response out.

mod fake;
mod redis;
mod routes;
mod sqlite;
mod trace;

use clab_http::{Method, Request, Response, Version};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// The trivial `block_on` a blocking model uses: poll on this thread, park until woken.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// A request as the codec would hand it over.
pub(crate) fn request(
    method: Method,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Request {
    Request {
        method,
        target: target.to_owned(),
        version: Version::Http11,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect(),
        body: body.to_vec(),
        keep_alive: true,
    }
}

pub(crate) fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub(crate) fn body_json(resp: &Response) -> serde_json::Value {
    serde_json::from_slice(&resp.body).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&resp.body)
        )
    })
}

/// The dashboard's timing object with a 5 ms round trip per remote call.
pub(crate) fn assert_timing_with_5ms_round_trips(v: &serde_json::Value) {
    let t = &v["timing"];
    let us = |k: &str| {
        t[k].as_u64()
            .unwrap_or_else(|| panic!("timing.{k} missing: {t}"))
    };
    let per_call = [
        "db_user_us",
        "db_orders_us",
        "db_account_us",
        "db_activity_us",
        "cache_us",
        "upstream_us",
    ];
    let sum: u64 = per_call.iter().map(|k| us(k)).sum();
    assert_eq!(us("io_wait_us"), sum, "{t}");
    assert!(sum <= us("wall_us"), "{t}");
    // 4 queries + 1 upstream call pay the round trip; the in-process cache pays none (see the
    // clab-backend docs), so at least 5 × 5 ms of waiting.
    assert!(us("io_wait_us") >= 5 * 5_000, "{t}");
    for k in [
        "db_user_us",
        "db_orders_us",
        "db_account_us",
        "db_activity_us",
        "upstream_us",
    ] {
        assert!(us(k) >= 5_000, "{k}: {t}");
    }
    // Waiting is not CPU: the thread slept (blocking) or the task was parked (async).
    assert!(us("cpu_us") <= us("wall_us"), "{t}");
    assert!(us("cpu_us") < us("io_wait_us"), "{t}");
}
