//! `clab race bank` end to end: real `clab serve` children on a shared database, every
//! history checked. What the issue asks the tool to show: `racy` breaks on every model that
//! overlaps requests (the single-threaded ones included), `lock` and `actor` hold in one
//! process and break across two, the database strategies hold across two, on SQLite and (when
//! `CLAB_TEST_DATABASE_URL` is set) on PostgreSQL, where `txn-read-committed` loses updates.

use clab_server::Model;
use clab_testkit::PgSchema;
use serde_json::Value;
use std::process::Command;

/// Small enough for CI, large enough that a race shows (64 clients on 8 accounts).
const SIZE: [&str; 4] = ["--ops", "1500", "--clients", "48"];

fn clab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clab"))
}

/// Run `clab race bank ARGS --json` and return its runs.
fn bank(args: &[&str]) -> Vec<Value> {
    let out = clab()
        .args(["race", "bank", "--json"])
        .args(SIZE)
        .args(args)
        .output()
        .expect("clab race bank");
    assert!(
        out.status.success(),
        "clab race bank {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["runs"].as_array().expect("runs").clone()
}

fn run<'a>(runs: &'a [Value], strategy: &str, instances: u64) -> &'a Value {
    runs.iter()
        .find(|r| r["strategy"] == strategy && r["instances"] == instances)
        .unwrap_or_else(|| panic!("no {strategy} × {instances} in {runs:#?}"))
}

fn anomalies(r: &Value) -> usize {
    r["report"]["anomalies"].as_array().map_or(0, Vec::len)
}

/// Every run agrees with the chapter, and says so with figures: anomalies where expected
/// (each with a first example naming operations), none elsewhere, enough accepted to count.
fn assert_as_the_chapter_says(runs: &[Value], context: &str) {
    for r in runs {
        let what = format!("{context}: {} × {}", r["strategy"], r["instances"]);
        assert_eq!(r["verdict"], "as-expected", "{what}: {r:#}");
        let broke = anomalies(r) > 0;
        assert_eq!(broke, r["expected"] == "breaks", "{what}: {r:#}");
        for a in r["report"]["anomalies"].as_array().into_iter().flatten() {
            assert!(
                a["first"].as_str().is_some_and(|s| s.contains("op "))
                    || a["first"].as_str().is_some_and(|s| s.contains("account ")),
                "{what}: an anomaly without its operations: {a:#}"
            );
        }
    }
}

#[test]
fn racy_breaks_and_db_conditional_holds_on_every_model() {
    for model in Model::ALL {
        let runs = bank(&[
            "--model",
            model.name(),
            "--strategy",
            "racy,db-conditional",
            "--instances",
            "1",
        ]);
        assert_as_the_chapter_says(&runs, model.name());
        let racy = run(&runs, "racy", 1);
        if model.caps().concurrent_requests {
            // One thread is enough: an await between the check and the act (C19).
            assert!(anomalies(racy) > 0, "{model}: racy lost nothing: {racy:#}");
        }
        assert_eq!(anomalies(run(&runs, "db-conditional", 1)), 0, "{model}");
    }
}

#[test]
fn locks_and_the_actor_hold_in_one_process_and_break_across_two() {
    for model in ["async-multi", "thread-pool", "event-loop", "coroutines"] {
        let runs = bank(&[
            "--model",
            model,
            "--strategy",
            "lock,actor,db-lock",
            "--instances",
            "1,2",
        ]);
        assert_as_the_chapter_says(&runs, model);
        for s in ["lock", "actor"] {
            assert_eq!(anomalies(run(&runs, s, 1)), 0, "{model}: {s} × 1");
            assert!(anomalies(run(&runs, s, 2)) > 0, "{model}: {s} × 2 held");
        }
        assert_eq!(anomalies(run(&runs, "db-lock", 2)), 0, "{model}");
    }
}

#[test]
fn isolation_strategies_are_refused_on_sqlite_with_the_reason() {
    let runs = bank(&[
        "--strategy",
        "serializable,txn-read-committed",
        "--instances",
        "1",
    ]);
    for r in &runs {
        assert!(r["report"].is_null(), "{r:#}");
        assert!(
            r["skipped"]
                .as_str()
                .is_some_and(|s| s.contains("needs PostgreSQL")),
            "{r:#}"
        );
    }
    let out = clab()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "sqlite::memory:",
        ])
        .args(["--race-strategy", "txn-repeatable-read"])
        .output()
        .expect("clab serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("needs PostgreSQL"), "{err}");
}

/// Runs in a schema of this test's own in the test database, dropped afterwards: the bank's
/// accounts are rows other tests (or another run of this one) must not move while a history
/// is taken, or the checker rightly reports the money they moved.
#[test]
fn postgres_every_strategy_in_one_process_and_across_two() {
    let Ok(base) = std::env::var("CLAB_TEST_DATABASE_URL") else {
        eprintln!("NOTICE: CLAB_TEST_DATABASE_URL unset: the PostgreSQL bank runs were skipped");
        return;
    };
    let schema = PgSchema::create(&base, "bank");
    let url = schema.url();
    let runs = bank(&[
        "--database-url",
        &url,
        "--strategy",
        "all",
        "--instances",
        "1,2",
    ]);
    assert_as_the_chapter_says(&runs, "postgres async-multi");
    // A transaction alone does not prevent a lost update; REPEATABLE READ aborts the second
    // writer and SERIALIZABLE every anomaly (the server retries, bounded).
    assert!(anomalies(run(&runs, "txn-read-committed", 2)) > 0);
    for s in [
        "txn-repeatable-read",
        "serializable",
        "db-lock",
        "db-conditional",
    ] {
        assert_eq!(anomalies(run(&runs, s, 2)), 0, "{s}");
    }
    // The other drivers: the sync client (thread models, coroutines) and tokio-postgres on
    // the lab's own event loop.
    for model in ["thread-pool", "event-loop", "coroutines"] {
        let runs = bank(&[
            "--database-url",
            &url,
            "--model",
            model,
            "--strategy",
            "txn-read-committed,txn-repeatable-read,db-lock",
            "--instances",
            "2",
        ]);
        assert_as_the_chapter_says(&runs, &format!("postgres {model}"));
    }
}

#[test]
fn a_mistake_is_one_line_and_a_non_zero_exit() {
    for args in [
        &["--strategy", "nope"][..],
        &["--instances", "0"],
        &["--latency", "far"],
        &["--database-url", "mysql://x"],
        &["--model", "fibers"],
    ] {
        let out = clab()
            .args(["race", "bank"])
            .args(args)
            .output()
            .expect("clab race bank");
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.trim().is_empty(), "{args:?}: nothing said");
        assert!(out.stdout.is_empty(), "{args:?}: printed a table");
    }
}
