//! The claims at the default size (1,000 workers × 1,000 increments), in process: the fixes are
//! exact in 20 of 20 runs in both worlds; `racy` loses updates in at least 9 of 10 runs on
//! threads as it is, and on tasks with its window widened (`yield_between`, named below).
//!
//! Why tasks need the widening: a task's 1,000 increments contain no `.await`, take about a
//! millisecond, and lose updates only while both runtime workers run racy tasks at the same
//! instant. On this 2-core machine shared with other builds, unwidened task runs lost updates
//! in 2, 2 and 10 of 10 runs in three tries (threads: 10, 10, 9 of 10); `clab race counter
//! --world tasks` shows it. With the yield, every task on a worker interleaves with the others
//! (C19's check-then-act across an await) and nearly every update is lost.
#![cfg(not(loom))]

use clab_race::run::{Config, Runner, Strategy, World};

fn lost_runs(runner: &mut Runner, strategy: Strategy, world: World, runs: usize) -> usize {
    (0..runs)
        .filter(|_| runner.run(strategy, world).unwrap().lost > 0)
        .count()
}

#[test]
fn every_fix_is_exact_in_20_of_20_runs_on_threads_and_tasks() {
    let mut runner = Runner::new(Config::default()).unwrap();
    for world in World::ALL {
        for strategy in [Strategy::Mutex, Strategy::Atomic, Strategy::Actor] {
            let lost = lost_runs(&mut runner, strategy, world, 20);
            assert_eq!(lost, 0, "{strategy:?} on {world:?} lost updates");
        }
    }
}

#[test]
fn racy_loses_updates_in_at_least_9_of_10_runs_on_threads() {
    let mut runner = Runner::new(Config::default()).unwrap();
    let lost = lost_runs(&mut runner, Strategy::Racy, World::Threads, 10);
    assert!(
        lost >= 9,
        "racy on threads lost updates in only {lost}/10 runs"
    );
}

#[test]
fn racy_with_a_yield_between_load_and_store_loses_updates_in_at_least_9_of_10_runs_on_tasks() {
    let widened = Config {
        yield_between: true,
        ..Config::default()
    };
    let mut runner = Runner::new(widened).unwrap();
    let lost = lost_runs(&mut runner, Strategy::Racy, World::Tasks, 10);
    assert!(
        lost >= 9,
        "widened racy on tasks lost updates in only {lost}/10 runs"
    );
}

#[test]
fn an_impossible_size_is_an_error_not_a_panic() {
    let zero = Config {
        workers: 0,
        ..Config::default()
    };
    assert!(Runner::new(zero).is_err());
    let huge = Config {
        workers: u64::MAX,
        increments: 2,
        yield_between: false,
    };
    assert!(
        Runner::new(huge)
            .unwrap_err()
            .to_string()
            .contains("overflows")
    );
}
