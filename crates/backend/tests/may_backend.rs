//! `MayBackend` and `MayWait` inside may coroutines, on ONE carrier thread (see
//! `common::go`): waits must park only the coroutine, so concurrent coroutines overlap them.
#![cfg(feature = "coroutines")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clab_backend::{Backend, BackendConfig, CpuPolicy, MayBackend, MayWait, Wait};
use common::{FAIL, OK, canned_server, exercise, go, memory_config, ready, upstream_config};

/// The tests share that one carrier: run them one at a time, so one test's inline CPU work
/// cannot stall another's timing.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

#[test]
fn serves_every_method_inside_a_coroutine() {
    let _one_at_a_time = serial();
    let b = MayBackend::connect(&memory_config(20)).unwrap();
    go(move || {
        let user = ready(b.user(1)).unwrap().expect("user 1 is seeded");
        assert_eq!(user.id, 1);
        let orders = ready(b.orders(2, 3)).unwrap();
        assert!(!orders.is_empty() && orders.iter().all(|o| o.user_id == 2));
        ready(exercise(&b));
    })
    .join()
    .unwrap();
}

#[test]
fn four_coroutines_overlap_their_round_trips_on_one_carrier() {
    let _one_at_a_time = serial();
    let cfg = BackendConfig {
        latency: "100".parse().unwrap(),
        ..memory_config(20)
    };
    let b = MayBackend::connect(&cfg).unwrap();
    let carriers = Arc::new(Mutex::new(Vec::new()));
    let t = Instant::now();
    let handles: Vec<_> = (1..=4)
        .map(|id| {
            let (b, carriers) = (b.clone(), Arc::clone(&carriers));
            go(move || {
                assert_eq!(ready(b.user(id)).unwrap().unwrap().id, id);
                carriers.lock().unwrap().push(std::thread::current().id());
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(
        took < Duration::from_millis(250),
        "4 × 100 ms took {took:?}: the waits did not overlap"
    );
    let carriers = carriers.lock().unwrap();
    assert!(
        carriers.iter().all(|c| *c == carriers[0]),
        "one carrier expected"
    );
}

/// Runs CPU work (200 ms of spinning) through `wait.run_cpu` in one coroutine while a second
/// coroutine ticks every 5 ms through `wait.sleep`; returns the ticks seen while the work was
/// in progress. (The ticker must wait through `MayWait`: may resumes a bare
/// `coroutine::sleep` on its timer thread, which would tick beside a blocked carrier.)
fn ticks_during_cpu_work(wait: MayWait) -> usize {
    let busy = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (busy, finished, during) = (busy.clone(), finished.clone(), during.clone());
        go(move || {
            while !finished.load(Ordering::SeqCst) {
                ready(wait.sleep(Duration::from_millis(5)));
                if busy.load(Ordering::SeqCst) {
                    during.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    };
    let worker = go(move || {
        busy.store(true, Ordering::SeqCst);
        let spins = ready(wait.run_cpu(|| {
            let until = Instant::now() + Duration::from_millis(200);
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
            }
            n
        }));
        busy.store(false, Ordering::SeqCst);
        finished.store(true, Ordering::SeqCst);
        spins
    });
    assert!(worker.join().unwrap() > 0);
    ticker.join().unwrap();
    during.load(Ordering::SeqCst)
}

#[test]
fn blocking_pool_cpu_work_leaves_the_carrier_free() {
    let _one_at_a_time = serial();
    let pooled = ticks_during_cpu_work(MayWait {
        cpu_policy: CpuPolicy::BlockingPool,
    });
    assert!(
        pooled >= 5,
        "only {pooled} ticks in 200 ms: the carrier was blocked"
    );
    // The control: inline work holds the only carrier, so the ticker cannot run meanwhile
    // (which also shows that a `MayWait` sleep resumes on the carrier, not on may's timer
    // thread).
    let inline = ticks_during_cpu_work(MayWait {
        cpu_policy: CpuPolicy::Inline,
    });
    assert_eq!(inline, 0, "inline work let another coroutine run");
}

#[test]
fn blocking_pool_keeps_panics() {
    let _one_at_a_time = serial();
    let wait = MayWait {
        cpu_policy: CpuPolicy::BlockingPool,
    };
    let joined = go(move || ready(wait.run_cpu(|| -> u8 { panic!("boom") }))).join();
    assert!(
        joined.is_err(),
        "the panic should continue in the coroutine"
    );
    // The pool thread survived it.
    let ok = go(move || ready(wait.run_cpu(|| 7))).join().unwrap();
    assert_eq!(ok, 7);
}

#[test]
fn real_upstream_over_a_may_socket() {
    let _one_at_a_time = serial();
    let (url, server) = canned_server(vec![OK, FAIL]);
    let b = MayBackend::connect(&upstream_config(url)).unwrap();
    go(move || {
        let receipt = ready(b.notify(7, "hi")).unwrap();
        assert_eq!((receipt.id.as_str(), receipt.simulated), ("abc-1", false));
        let err = ready(b.notify(7, "again")).unwrap_err();
        assert!(
            err.is_unavailable() && err.to_string().contains("502"),
            "{err}"
        );
    })
    .join()
    .unwrap();
    assert_eq!(server.join().unwrap().len(), 2);
}
