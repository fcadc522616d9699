//! loom models of the checkout protocol (see `src/checkout.rs`). Every `take` waits without a
//! deadline (`None`), so a return or a freed slot that wakes nobody while someone waits is a
//! thread blocked forever, which loom reports as a deadlock.
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p clab-sync --release`.
#![cfg(loom)]

use clab_sync::checkout::{Checkout, TakeError};
use clab_sync::model;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// A checkout of one resource, counting how often it opened one.
fn one_slot() -> (Arc<Checkout<usize>>, Arc<AtomicUsize>) {
    (Arc::new(Checkout::new(1)), Arc::new(AtomicUsize::new(0)))
}

fn take_counting(checkout: &Checkout<usize>, opened: &AtomicUsize) -> usize {
    let resource = checkout
        .take(None, || Ok::<_, ()>(opened.fetch_add(1, Ordering::SeqCst)))
        .unwrap();
    assert!(
        checkout.open() <= checkout.size(),
        "never more than size open"
    );
    resource
}

#[test]
fn a_put_back_always_reaches_the_waiter_and_the_resource_is_reused() {
    model(|| {
        let (checkout, opened) = one_slot();
        let other = {
            let (checkout, opened) = (Arc::clone(&checkout), Arc::clone(&opened));
            thread::spawn(move || {
                let r = take_counting(&checkout, &opened);
                checkout.put_back(r);
            })
        };
        let r = take_counting(&checkout, &opened);
        checkout.put_back(r);
        other.join().unwrap();
        assert_eq!(opened.load(Ordering::SeqCst), 1, "opened lazily, once");
        assert_eq!(checkout.open(), 1);
    });
}

#[test]
fn a_discarded_resource_frees_its_slot_for_a_waiter() {
    model(|| {
        let (checkout, opened) = one_slot();
        let breaker = {
            let (checkout, opened) = (Arc::clone(&checkout), Arc::clone(&opened));
            thread::spawn(move || {
                // Broken: not put back.
                let _broken = take_counting(&checkout, &opened);
                checkout.forget_one();
            })
        };
        let r = take_counting(&checkout, &opened);
        checkout.put_back(r);
        breaker.join().unwrap();
        // 0 if the breaker went last and discarded the only one, else 1; a later take
        // finds the idle one or opens a fresh one in the freed slot.
        assert!(checkout.open() <= 1);
        take_counting(&checkout, &opened);
        assert_eq!(checkout.open(), 1);
    });
}

#[test]
fn a_failed_open_frees_its_slot_for_a_waiter() {
    model(|| {
        let checkout = Arc::new(Checkout::<u8>::new(1));
        let failing = {
            let checkout = Arc::clone(&checkout);
            thread::spawn(move || match checkout.take(None, || Err("refused")) {
                Ok(r) => checkout.put_back(r),
                Err(e) => assert_eq!(e, TakeError::Open("refused")),
            })
        };
        let r = checkout.take(None, || Ok::<_, &str>(7)).unwrap();
        checkout.put_back(r);
        failing.join().unwrap();
        assert_eq!(checkout.open(), 1, "only the successful open is counted");
    });
}
