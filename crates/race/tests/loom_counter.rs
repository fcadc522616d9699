//! loom models of the counter strategies: the fixes never lose an update in any
//! interleaving, and loom finds the interleaving in which `racy` does.
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p clab-race --release`.
#![cfg(loom)]

use clab_race::Counter;
use clab_race::actor::Actor;
use clab_race::atomic::Atomic;
use clab_race::mutex::Locked;
use clab_race::racy::Racy;
use clab_sync::model;
use loom::sync::Arc;
use loom::thread;
use std::collections::BTreeSet;

/// `workers` threads (this one included) increment `each` times; the count after all joined.
fn count(counter: impl Counter + Send + 'static, workers: usize, each: u64) -> u64 {
    let counter = Arc::new(counter);
    let others: Vec<_> = (1..workers)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || (0..each).for_each(|_| counter.increment()))
        })
        .collect();
    (0..each).for_each(|_| counter.increment());
    others.into_iter().for_each(|t| t.join().unwrap());
    counter.get()
}

#[test]
fn mutex_never_loses_an_update() {
    model(|| assert_eq!(count(Locked::new(), 3, 1), 3));
    model(|| assert_eq!(count(Locked::new(), 2, 2), 4));
}

#[test]
fn atomic_never_loses_an_update() {
    model(|| assert_eq!(count(Atomic::new(), 3, 1), 3));
    model(|| assert_eq!(count(Atomic::new(), 2, 2), 4));
}

#[test]
fn actor_never_loses_an_update() {
    // Its owner is a third thread; the handle's drop stops it.
    model(|| assert_eq!(count(Actor::spawn(), 2, 1), 2));
    model(|| assert_eq!(count(Actor::spawn(), 2, 2), 4));
}

/// The idiom of loom's own test suite for "loom must find this bug": `#[should_panic]` around
/// `loom::model` (loom's `tests/atomic.rs`, `invalid_unsync_load_relaxed`), here with the
/// expected message so that no other panic passes for it.
#[test]
#[should_panic(expected = "racy lost an update")]
fn loom_finds_the_interleaving_in_which_racy_loses_an_update() {
    model(|| assert_eq!(count(Racy::new(false), 2, 1), 2, "racy lost an update"));
}

/// Every final count over all of loom's executions, gathered outside the model (a `std`
/// mutex: loom runs its executions one after another on this thread): both the correct 2 and
/// the lost update's 1 occur, and nothing else.
#[test]
fn racy_ends_at_1_or_2_and_loom_sees_both() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let record = std::sync::Arc::clone(&seen);
    model(move || {
        let n = count(Racy::new(false), 2, 1);
        record.lock().unwrap().insert(n);
    });
    assert_eq!(*seen.lock().unwrap(), BTreeSet::from([1, 2]));
}
