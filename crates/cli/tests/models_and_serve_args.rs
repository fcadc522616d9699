//! `clab models` lists every model of the table; `clab serve` refuses options a model cannot
//! honour with one clear line and a non-zero exit.

use std::process::Command;

fn clab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clab"))
}

#[test]
fn models_lists_every_model_with_a_summary() {
    let out = clab().arg("models").output().expect("clab models");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names.len(), clab_server::Model::ALL.len(), "{text}");
    for m in clab_server::Model::ALL {
        assert!(names.contains(&m.name()), "{} missing: {text}", m.name());
    }
    let long = clab()
        .args(["models", "--long"])
        .output()
        .expect("clab models --long");
    let long = String::from_utf8(long.stdout).expect("utf-8");
    assert!(
        long.contains("workers: fixed") && long.contains("workers: default"),
        "{long}"
    );
}

#[test]
fn a_fixed_worker_model_refuses_workers_in_one_line() {
    let out = clab()
        .args([
            "serve",
            "--model",
            "sync",
            "--workers",
            "4",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--database-url", "sqlite::memory:"])
        .output()
        .expect("clab serve");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("clab: error:") && last.contains("does not take --workers"),
        "{err}"
    );
}
