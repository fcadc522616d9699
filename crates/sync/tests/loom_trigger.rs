//! loom models of the trigger's wake-up protocol (see `src/trigger.rs`).
//! A lost wake-up leaves `loom::future::block_on` parked with nobody left to wake it, which
//! loom reports as a deadlock, failing the test.
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p clab-sync --release`.
#![cfg(loom)]

use clab_sync::model;
use clab_sync::trigger::Trigger;
use loom::future::block_on;
use loom::thread;

#[test]
fn a_pull_from_another_thread_always_wakes_a_waiting_watcher() {
    model(|| {
        let trigger = Trigger::new();
        let watcher = trigger.watch();
        let puller = {
            let trigger = trigger.clone();
            thread::spawn(move || trigger.pull())
        };
        block_on(watcher);
        assert!(puller.join().unwrap(), "the only pull sets the flag");
        assert!(trigger.is_pulled());
        assert_eq!(trigger.watchers(), 0, "a dropped watcher deregisters");
    });
}

#[test]
fn a_watcher_registering_while_the_pull_runs_still_resolves() {
    model(|| {
        let trigger = Trigger::new();
        // Registers before, during or after the pull walks the registry.
        let late = {
            let trigger = trigger.clone();
            thread::spawn(move || block_on(trigger.watch()))
        };
        trigger.pull();
        late.join().unwrap();
        assert_eq!(trigger.watchers(), 0);
    });
}

#[test]
fn of_two_racing_pulls_exactly_one_sets_the_flag_and_the_watcher_wakes_once() {
    model(|| {
        let trigger = Trigger::new();
        let watcher = trigger.watch();
        let other = {
            let trigger = trigger.clone();
            thread::spawn(move || trigger.pull())
        };
        let mine = trigger.pull();
        block_on(watcher);
        assert!(mine != other.join().unwrap());
    });
}
