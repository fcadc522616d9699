//! The claims at the default size (1,000 workers × 1,000 increments), in process: the fixes are
//! exact in 20 of 20 runs in both worlds; `racy` loses updates in at least 9 of 10 runs with
//! its window widened (`yield_between`, named in the tests), and unwidened on threads in at
//! least one of 10.
//!
//! Why the 9-of-10 tests widen: unwidened, `racy` loses updates only while two workers run on
//! the two cores at the same instant, so it depends on what else the machine runs. On this
//! 2-core machine shared with other builds, unwidened thread runs lost updates in 10, 10, 9
//! and 8 of 10 runs in four tries, task runs (a task's 1,000 increments have no `.await` and
//! take about a millisecond) in 2, 2, 10 and 8 of 10: not a CI test. `clab race counter`
//! shows these figures. With the yield, every increment leaves a gap another worker fills
//! (on tasks, C19's check-then-act across an await): 10 of 10 runs in every try.
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
fn racy_as_it_is_loses_updates_on_threads() {
    let mut runner = Runner::new(Config::default()).unwrap();
    let lost = lost_runs(&mut runner, Strategy::Racy, World::Threads, 10);
    assert!(lost >= 1, "racy on threads lost no update in 10 runs");
}

#[test]
fn racy_with_a_yield_between_load_and_store_loses_updates_in_at_least_9_of_10_runs_on_threads() {
    let widened = Config {
        yield_between: true,
        ..Config::default()
    };
    let mut runner = Runner::new(widened).unwrap();
    let lost = lost_runs(&mut runner, Strategy::Racy, World::Threads, 10);
    assert!(
        lost >= 9,
        "widened racy on threads lost updates in only {lost}/10 runs"
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
