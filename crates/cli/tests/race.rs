//! `clab race counter`: a small run end to end (table and JSON), and a user's mistake is one
//! line and a non-zero exit.

use std::process::Command;

fn clab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clab"))
}

const SMALL: [&str; 8] = [
    "race",
    "counter",
    "--workers",
    "4",
    "--increments",
    "100",
    "--runs",
    "2",
];

#[test]
fn a_small_run_prints_every_strategy_and_world() {
    let out = clab().args(SMALL).output().expect("clab race counter");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for row in ["racy", "mutex", "atomic", "actor"] {
        for world in ["threads", "tasks"] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(row) && l.contains(world) && l.contains("400")),
                "no {row} × {world} row: {text}"
            );
        }
    }
    assert!(text.contains("widened: no"), "{text}");
    for fix in ["mutex", "atomic", "actor"] {
        for world in ["threads", "tasks"] {
            assert!(
                text.contains(&format!("{fix} on {world}: exact in every run")),
                "{text}"
            );
        }
    }
}

#[test]
fn json_has_every_run_and_the_widening_flag() {
    let out = clab()
        .args(SMALL)
        .args(["--strategy", "racy", "--yield-between", "--json"])
        .output()
        .expect("clab race counter --json");
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["config"]["yield_between"], true);
    assert_eq!(report["runs"].as_array().map(Vec::len), Some(4));
    assert_eq!(report["summaries"][0]["expected"], 400);
}

#[test]
fn a_bad_strategy_or_zero_workers_is_refused_with_a_non_zero_exit() {
    for args in [
        ["race", "counter", "--strategy", "sloppy"],
        ["race", "counter", "--workers", "0"],
    ] {
        let out = clab().args(args).output().expect("clab race counter");
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8(out.stderr).expect("utf-8");
        assert!(err.starts_with("error:"), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
