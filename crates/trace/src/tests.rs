//! The recorder is process-global, so every test takes [`serial`] and looks only at the spans
//! of request ids it created itself.

use super::*;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

/// Serialise the tests and enable tracing with `config`.
fn serial(config: RingConfig) -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    enable(config);
    guard
}

fn spans_of(id: RequestId) -> Vec<Span> {
    snapshot(0)
        .spans
        .into_iter()
        .filter(|s| s.request == id)
        .collect()
}

fn runs(spans: &[Span]) -> Vec<&Span> {
    spans.iter().filter(|s| s.kind == SpanKind::Run).collect()
}

/// Polls once: `Pending` the first time (waking itself), `Ready(out)` the second.
struct YieldOnce<T>(Option<T>, bool);

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.1 {
            Poll::Ready(self.0.take().expect("polled after Ready"))
        } else {
            self.1 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Poll to completion on this thread (every test future here is always ready to go on).
fn run<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = poll_once(fut.as_mut()) {
            return out;
        }
    }
}

#[test]
fn disabled_records_nothing() {
    let _g = serial(RingConfig::DEFAULT);
    disable();
    let id = RequestId::next();
    let before = current();
    set_current(Some(id));
    let t0 = Instant::now();
    record_wait(WaitKind::Db, t0, Instant::now());
    drop(wait(WaitKind::Cache));
    assert_eq!(offload(Some(id), || 5), 5);
    set_current(before);
    let fut = traced("/off", async { current() });
    assert_eq!(fut.id(), None, "no id assigned when off");
    assert_eq!(run(fut), before, "no request made current when off");
    assert!(!snapshot(0).enabled);
    enable(RingConfig::DEFAULT);
    assert!(spans_of(id).is_empty(), "{:?}", spans_of(id));
}

#[test]
fn request_span_and_run_span_with_this_threads_tid() {
    let _g = serial(RingConfig::DEFAULT);
    let fut = traced("/users/1", async { current() });
    let id = fut.id().expect("id when on");
    assert_eq!(run(fut), Some(id), "the request is current inside its poll");
    assert_eq!(current(), None, "and not after");
    let spans = spans_of(id);
    assert_eq!(spans.len(), 2, "{spans:?}");
    let request = spans
        .iter()
        .find(|s| matches!(s.kind, SpanKind::Request { .. }))
        .expect("request span");
    assert_eq!(
        request.kind,
        SpanKind::Request {
            label: Some("/users/1".into())
        }
    );
    let run = runs(&spans)[0];
    assert_eq!((request.tid, run.tid), (gettid(), gettid()));
    assert!(request.start_us <= run.start_us && run.end_us <= request.end_us);
}

#[test]
fn label_is_cut_to_64_bytes_on_a_char_boundary() {
    let _g = serial(RingConfig::DEFAULT);
    let long = format!("/{}é", "a".repeat(62)); // 63 bytes, then a 2-byte char across 64
    let start = begin(|| long.as_str()).expect("on");
    let id = start.id();
    run(Traced::new(Some(start), async {}));
    let label = spans_of(id).into_iter().find_map(|s| match s.kind {
        SpanKind::Request { label } => label,
        _ => None,
    });
    assert_eq!(label.as_deref(), Some(&long[..63]));
}

#[test]
fn request_polled_on_two_threads_has_two_run_spans_with_two_tids() {
    let _g = serial(RingConfig::DEFAULT);
    let mut fut = Box::pin(traced("/moves", YieldOnce(Some(1), false)));
    let id = fut.id().expect("on");
    assert!(poll_once(fut.as_mut()).is_pending());
    let here = gettid();
    let there = std::thread::spawn(move || {
        assert_eq!(poll_once(fut.as_mut()), Poll::Ready(1));
        gettid()
    })
    .join()
    .expect("thread");
    let spans = spans_of(id);
    let mut tids: Vec<i32> = runs(&spans).iter().map(|s| s.tid).collect();
    tids.sort_unstable();
    let mut want = vec![here, there];
    want.sort_unstable();
    assert_eq!(tids, want, "{spans:?}");
    let request = spans
        .iter()
        .find(|s| matches!(s.kind, SpanKind::Request { .. }));
    assert_eq!(request.map(|s| s.tid), Some(here), "tid of the first poll");
}

#[test]
fn spans_from_several_live_threads_all_appear() {
    let _g = serial(RingConfig::DEFAULT);
    const THREADS: usize = 4;
    const REQUESTS: usize = 50;
    let recorded = Arc::new(Barrier::new(THREADS + 1));
    let read = Arc::new(Barrier::new(THREADS + 1));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (recorded, read) = (Arc::clone(&recorded), Arc::clone(&read));
            std::thread::spawn(move || {
                let ids: Vec<RequestId> = (0..REQUESTS)
                    .map(|_| {
                        let fut = traced("/x", async {});
                        let id = fut.id().expect("on");
                        run(fut);
                        id
                    })
                    .collect();
                recorded.wait();
                // Stay alive until the snapshot is taken: these are live rings.
                read.wait();
                (gettid(), ids)
            })
        })
        .collect();
    recorded.wait();
    let snap = snapshot(0);
    read.wait();
    for handle in handles {
        let (tid, ids) = handle.join().expect("thread");
        for id in ids {
            let mine: Vec<_> = snap.spans.iter().filter(|s| s.request == id).collect();
            assert_eq!(mine.len(), 2, "request + run of {id:?}: {mine:?}");
            assert!(mine.iter().all(|s| s.tid == tid));
        }
    }
    assert!(
        snap.spans
            .windows(2)
            .all(|w| w[0].start_us <= w[1].start_us),
        "sorted by start"
    );
}

#[test]
fn waits_attach_to_the_current_request() {
    let _g = serial(RingConfig::DEFAULT);
    let fut = traced("/users/1", async {
        {
            let _w = wait(WaitKind::Db);
            std::thread::sleep(Duration::from_millis(2));
        }
        let t0 = Instant::now();
        record_wait(WaitKind::Cache, t0, t0 + Duration::from_micros(500));
    });
    let id = fut.id().expect("on");
    run(fut);
    let spans = spans_of(id);
    let waits: Vec<_> = spans
        .iter()
        .filter_map(|s| match s.kind {
            SpanKind::Wait { what } => Some((what, s.tid, s.end_us - s.start_us)),
            _ => None,
        })
        .collect();
    assert_eq!(waits.len(), 2, "{spans:?}");
    assert_eq!((waits[0].0, waits[0].1), (WaitKind::Db, gettid()));
    assert!(waits[0].2 >= 2_000, "db wait {} µs", waits[0].2);
    assert_eq!((waits[1].0, waits[1].2), (WaitKind::Cache, 500));
    // Outside any request a wait has nobody to belong to.
    assert_eq!(current(), None);
    let before = snapshot(0).spans.len();
    drop(wait(WaitKind::Db));
    assert_eq!(snapshot(0).spans.len(), before);
}

#[test]
fn exited_threads_spans_are_retained_and_the_registry_shrinks() {
    let _g = serial(RingConfig::DEFAULT);
    let before = store::registered_threads();
    let ids: Vec<(RequestId, i32)> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let fut = traced("/conn", async {});
                let id = fut.id().expect("on");
                run(fut);
                (id, gettid())
            })
            .join()
            .expect("thread")
        })
        .collect();
    // `join` returns after the thread's thread-locals were destroyed.
    assert!(
        store::registered_threads() <= before,
        "registry grew: {before} -> {}",
        store::registered_threads()
    );
    for (id, tid) in ids {
        let spans = spans_of(id);
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!(spans.iter().all(|s| s.tid == tid));
    }
}

#[test]
fn rings_overwrite_their_oldest_and_count_drops() {
    let _g = serial(RingConfig {
        live_spans: 4,
        min_per_thread: 4,
        retired: 5,
    });
    let dropped_before = snapshot(0).dropped;
    let id = RequestId::next();
    let t0 = Instant::now();
    let ring_spans = std::thread::spawn(move || {
        set_current(Some(id));
        for i in 0..10 {
            let at = t0 + Duration::from_micros(i * 10);
            record_wait(WaitKind::RoundTrip, at, at);
        }
        // Read from inside: the thread's live ring holds the last 4.
        spans_of(id)
    })
    .join()
    .expect("thread");
    let starts = |spans: &[Span]| spans.iter().map(|s| s.start_us).collect::<Vec<_>>();
    let base = span_us(t0);
    assert_eq!(
        starts(&ring_spans),
        [60, 70, 80, 90].map(|d| base + d).to_vec()
    );
    // The 4 moved to the retired ring (cap 5) on exit; now 3 threads of 3 spans each.
    for _ in 0..3 {
        std::thread::spawn(move || {
            set_current(Some(id));
            for _ in 0..3 {
                record_wait(WaitKind::RoundTrip, t0, Instant::now());
            }
        })
        .join()
        .expect("thread");
    }
    let snap = snapshot(0);
    let retired = snap.spans.iter().filter(|s| s.request == id).count();
    assert!(retired <= 5, "retired ring kept {retired} of ours, cap 5");
    // 6 by the live ring, then at least (4 + 9) - 5 by the retired ring.
    assert!(
        snap.dropped >= dropped_before + 6 + 8,
        "dropped {} -> {}",
        dropped_before,
        snap.dropped
    );
    enable(RingConfig::DEFAULT);
}

#[test]
fn since_keeps_only_spans_ending_after_it() {
    let _g = serial(RingConfig::DEFAULT);
    let id = RequestId::next();
    let prev = current();
    set_current(Some(id));
    let t0 = Instant::now();
    for (start, end) in [(0, 100), (50, 200), (300, 400)] {
        record_wait(
            WaitKind::Upstream,
            t0 + Duration::from_micros(start),
            t0 + Duration::from_micros(end),
        );
    }
    set_current(prev);
    let base = span_us(t0);
    let ends = |since| {
        snapshot(since)
            .spans
            .iter()
            .filter(|s| s.request == id)
            .map(|s| s.end_us - base)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ends(base + 100),
        [200, 400],
        "ending exactly at since is out"
    );
    assert_eq!(ends(base + 399), [400]);
    assert!(ends(base + 400).is_empty());
    let snap = snapshot(base + 400);
    assert!(snap.enabled && snap.epoch_unix_us > 1_600_000_000_000_000);
    assert!(snap.now_us >= base);
}

#[test]
fn current_is_restored_after_a_poll_even_when_it_panics() {
    let _g = serial(RingConfig::DEFAULT);
    let outer = RequestId::next();
    set_current(Some(outer));
    let fut = traced("/boom", async { panic!("handler panicked") });
    let id = fut.id().expect("on");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(fut)));
    assert!(caught.is_err());
    assert_eq!(current(), Some(outer), "restored on unwind");
    set_current(None);
    assert_eq!(current(), None);
    let spans = spans_of(id);
    assert_eq!(
        runs(&spans).len(),
        1,
        "the panicking poll still ran: {spans:?}"
    );
}

/// The stackful-coroutine hazard: a wait that starts on one carrier thread and ends on
/// another, where the thread-local belongs to someone else. The guard carries the id across.
#[test]
fn a_wait_guard_restores_its_request_on_the_thread_where_it_ends() {
    let _g = serial(RingConfig::DEFAULT);
    let id = RequestId::next();
    set_current(Some(id));
    let guard = wait(WaitKind::Db);
    set_current(None);
    let other = RequestId::next();
    let (tid, after) = std::thread::spawn(move || {
        set_current(Some(other)); // the carrier was running another coroutine
        drop(guard); // resumed here
        (gettid(), current())
    })
    .join()
    .expect("thread");
    assert_eq!(after, Some(id), "the resumed request is current again");
    let spans = spans_of(id);
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].tid, tid, "tid where the wait ended");
    assert!(spans_of(other).is_empty());
}

#[test]
fn offload_records_cpu_on_the_pool_thread() {
    let _g = serial(RingConfig::DEFAULT);
    let fut = traced("/hash", async {
        let id = current();
        std::thread::spawn(move || {
            offload(id, || {
                let _w = wait(WaitKind::Other);
                (current(), gettid())
            })
        })
        .join()
        .expect("pool thread")
    });
    let id = fut.id().expect("on");
    let (inside, pool_tid) = run(fut);
    assert_eq!(
        inside,
        Some(id),
        "the request is current in the offloaded work"
    );
    assert_ne!(pool_tid, gettid());
    let spans = spans_of(id);
    let cpu: Vec<_> = spans.iter().filter(|s| s.kind == SpanKind::Cpu).collect();
    assert_eq!(cpu.len(), 1, "{spans:?}");
    assert_eq!(cpu[0].tid, pool_tid);
    let wait_tid = spans
        .iter()
        .find(|s| matches!(s.kind, SpanKind::Wait { .. }))
        .map(|s| s.tid);
    assert_eq!(wait_tid, Some(pool_tid));
    assert_eq!(offload(None, || 3), 3, "no id: just runs");
}

#[test]
fn a_request_dropped_unfinished_still_records_its_span() {
    let _g = serial(RingConfig::DEFAULT);
    let mut fut = Box::pin(traced("/gone", YieldOnce(Some(()), false)));
    let id = fut.id().expect("on");
    assert!(poll_once(fut.as_mut()).is_pending());
    drop(fut);
    let spans = spans_of(id);
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!(current(), None);
}

#[test]
fn snapshot_json_has_the_documented_shape() {
    let _g = serial(RingConfig::DEFAULT);
    let fut = traced("/json", async {
        let _w = wait(WaitKind::RoundTrip);
    });
    let id = fut.id().expect("on").get();
    run(fut);
    let json: serde_json::Value = serde_json::from_str(&snapshot_json(0)).expect("json");
    for key in ["enabled", "epoch_unix_us", "now_us", "dropped", "spans"] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    let mine: Vec<_> = json["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .filter(|s| s["request"] == id)
        .collect();
    let kinds: Vec<_> = mine
        .iter()
        .map(|s| s["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds.len(), 3, "{mine:?}");
    for kind in ["request", "run", "wait"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let wait = mine.iter().find(|s| s["kind"] == "wait").expect("wait");
    assert_eq!(wait["what"], "round_trip");
    assert!(wait.get("label").is_none());
    let request = mine
        .iter()
        .find(|s| s["kind"] == "request")
        .expect("request");
    assert_eq!(request["label"], "/json");
    for key in ["tid", "start_us", "end_us"] {
        assert!(
            request[key].is_u64() || request[key].is_i64(),
            "{key}: {request}"
        );
    }
    let back: Snapshot = serde_json::from_value(json).expect("round trip");
    assert!(back.spans.iter().any(|s| s.request.get() == id));
}
