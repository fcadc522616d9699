//! `clab tour --quick` as a user runs it: every experiment of the tour in `results.json` with a
//! computed verdict and its figures, the HTML summary listing each, the report as a real
//! browser (headless Chromium) lays it out, and `clab report` re-rendering the same report
//! from the results file alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The claims of the tour's first issue: each must be in every run's results.
const CLAIMS: [&str; 14] = [
    "C02", "C03", "C04", "C07", "C08", "C09", "C10", "C14", "C15", "C17", "C22", "B02", "B03",
    "B05",
];
/// The claims whose section draws a chart (the rest show their figures as a table).
const CHARTED: [&str; 6] = ["C03", "C04", "C15", "C22", "B02", "B03"];

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
    for id in CLAIMS {
        assert!(
            ids.iter().any(|i| i == id),
            "{id} not in `clab tour --list`: {ids:?}"
        );
    }

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
        let needs_figures = kind != "inconclusive" || CLAIMS.contains(&id.as_str());
        if needs_figures {
            let figures = e["figures"].as_array().unwrap();
            assert!(
                !figures.is_empty(),
                "{id} has no figures: {}",
                e["verdict"]["reason"]
            );
            for f in figures {
                assert!(
                    f["value"].as_f64().is_some() && f["unit"].is_string(),
                    "{id}: {f}"
                );
            }
        }
    }
    for id in CHARTED {
        let e = experiments.iter().find(|e| e["id"] == id).unwrap();
        let charts = e["charts"].as_array().map_or(0, Vec::len);
        assert!(charts >= 1, "{id} has no chart");
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
    check_in_chromium(&dir, &ids);

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

/// Debian's Chromium (`CLAB_CHROMIUM` overrides); `.ci/run` installs it. Missing outside CI:
/// a visible notice and no browser check; missing in CI: a failure.
fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("CLAB_CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: `.ci/run` installs Debian's chromium package",
        path.display()
    );
    eprintln!(
        "NOTICE: {} not found; the report's browser check is skipped (apt-get install chromium)",
        path.display()
    );
    None
}

/// Run headless Chromium with the project's flags and a fresh profile on `args`, at most a
/// minute; its stdout.
fn run_chromium(browser: &Path, args: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "clab-chromium-{}-{}",
        std::process::id(),
        args.len()
    ));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromium");
    let started = Instant::now();
    let reader = {
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut out, &mut s);
            s
        })
    };
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium ran over a minute on {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap()
}

/// What the page looks like to a browser: a copy of `index.html` with a script that measures
/// the laid-out summary table and sections and writes its findings into the page, read back
/// with `--dump-dom`. Then a screenshot of the report itself, kept for people to look at.
fn check_in_chromium(dir: &Path, ids: &[String]) {
    let Some(browser) = chromium() else { return };
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let probe = r#"<script>
const rows = [...document.querySelectorAll('#summary tbody tr')].map(r => ({
  id: (r.cells[0].querySelector('a') || {}).textContent || '',
  verdict: r.cells[1].textContent.trim(),
  height: r.getBoundingClientRect().height,
}));
const sections = [...document.querySelectorAll('section[id]')].filter(s => s.id !== 'machine').map(s => ({
  id: s.id,
  charts: [...s.querySelectorAll('figure.chart svg')].filter(v => { const b = v.getBoundingClientRect(); return b.width > 200 && b.height > 100; }).length,
  tables: [...s.querySelectorAll('table')].filter(t => t.getBoundingClientRect().height > 0 && t.rows.length > 1).length,
}));
const pre = document.createElement('pre');
pre.id = 'clab-check';
pre.textContent = JSON.stringify({ rows, sections });
document.body.appendChild(pre);
</script></body>"#;
    let probed = dir.join("browser-check.html");
    std::fs::write(&probed, html.replace("</body>", probe)).unwrap();
    let dom = run_chromium(
        &browser,
        &["--dump-dom".into(), format!("file://{}", probed.display())],
    );
    let json = dom
        .split_once("<pre id=\"clab-check\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(j, _)| {
            j.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .unwrap_or_else(|| panic!("the check script left nothing in the page: {dom:.500}"));
    let seen: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = seen["rows"].as_array().unwrap();
    let verdicts = [
        "holds",
        "holds with a difference",
        "does not hold here",
        "inconclusive",
    ];
    for id in ids {
        let row = rows
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is not in the summary table the browser shows"));
        let v = row["verdict"].as_str().unwrap();
        assert!(verdicts.contains(&v), "{id}: verdict {v:?}");
        assert!(
            row["height"].as_f64().unwrap() > 0.0,
            "{id}: its row is not laid out"
        );
    }
    for s in seen["sections"].as_array().unwrap() {
        let (charts, tables) = (s["charts"].as_u64().unwrap(), s["tables"].as_u64().unwrap());
        assert!(
            charts + tables > 0,
            "section {} shows neither chart nor table",
            s["id"]
        );
        if CHARTED
            .iter()
            .any(|c| c.to_lowercase() == s["id"].as_str().unwrap())
        {
            assert!(charts > 0, "section {} draws no visible chart", s["id"]);
        }
    }
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tour-report.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400".into(),
            "--hide-scrollbars".into(),
            format!("file://{}", dir.join("index.html").display()),
        ],
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "no screenshot at {}",
        shot.display()
    );
    eprintln!("screenshot of the report: {}", shot.display());
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
