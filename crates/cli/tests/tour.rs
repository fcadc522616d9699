//! `clab tour --quick` as a user runs it: every experiment of the tour in `results.json` with a
//! computed verdict and its figures, the HTML summary listing each, and `clab report`
//! re-rendering the same report from the results file alone.

use std::process::Command;

fn clab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clab"))
}

#[test]
fn the_quick_tour_writes_every_claim_with_a_verdict_and_report_rerenders_it() {
    let dir = std::env::temp_dir().join(format!("clab-tour-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = clab()
        .args(["tour", "--quick", "--out"])
        .arg(&dir)
        .output()
        .expect("running clab tour");
    assert!(
        out.status.success(),
        "clab tour failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let listed = clab().args(["tour", "--list"]).output().unwrap();
    let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(ids.len() >= 7, "{ids:?}");

    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    let experiments = results["experiments"].as_array().unwrap();
    for id in &ids {
        let e = experiments
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} missing from results.json"));
        let kind = e["verdict"]["kind"].as_str().unwrap();
        assert!(
            [
                "holds",
                "holds_with_difference",
                "does_not_hold",
                "inconclusive"
            ]
            .contains(&kind),
            "{id}: {kind}"
        );
        assert!(!e["verdict"]["reason"].as_str().unwrap().is_empty(), "{id}");
        if kind != "inconclusive" {
            let figures = e["figures"].as_array().unwrap();
            assert!(!figures.is_empty(), "{id} has a verdict but no figures");
            for f in figures {
                assert!(
                    f["value"].as_f64().is_some() && f["unit"].is_string(),
                    "{id}: {f}"
                );
            }
        }
    }
    assert!(results["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(results["date"].as_str().unwrap().ends_with("GMT"));

    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for id in &ids {
        assert!(
            html.contains(&format!("<section id=\"{}\">", id.to_lowercase())),
            "{id} has no section"
        );
        assert!(
            html.contains(&format!("href=\"#{}\"", id.to_lowercase())),
            "{id} not in the summary"
        );
    }
    assert!(!html.contains("<script"), "the report must need no script");

    // Re-rendered from results.json alone: the same report.
    let again = dir.join("again");
    let status = clab()
        .arg("report")
        .arg(dir.join("results.json"))
        .arg("--out")
        .arg(&again)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(again.join("index.html")).unwrap(),
        html
    );
    assert_eq!(
        std::fs::read_to_string(again.join("report.md")).unwrap(),
        std::fs::read_to_string(dir.join("report.md")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_claim_id_is_one_clear_line() {
    let out = clab().args(["tour", "--only", "C07,X1"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("X1") && err.contains("C07"), "{err}");
}

#[test]
fn report_of_a_file_that_is_not_results_is_one_clear_line() {
    let path = std::env::temp_dir().join(format!("clab-not-results-{}.json", std::process::id()));
    std::fs::write(&path, "{\"hello\": 1}").unwrap();
    let out = clab().arg("report").arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let _ = std::fs::remove_file(&path);
}
