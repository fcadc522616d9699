//! [`Results`]: what `results.json` holds, and all the report is rendered from.

use serde::{Deserialize, Serialize};

use super::{Chart, Figure, MachineFacts, Verdict};

/// The whole tour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub tool: String,
    pub version: String,
    /// When it ran (RFC 9110 date, UTC).
    pub date: String,
    /// `git rev-parse --short HEAD` of the checkout it ran from, when there is one.
    pub git_revision: Option<String>,
    /// `--quick`: reduced sizes.
    pub quick: bool,
    pub machine: MachineFacts,
    pub experiments: Vec<ExperimentResult>,
}

/// One experiment's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResult {
    pub id: String,
    pub title: String,
    pub claim: String,
    pub setup: String,
    pub figures: Vec<Figure>,
    pub verdict: Verdict,
    pub seconds: f64,
    /// Share of the CPUs' time other processes used during this experiment (0–1), when
    /// known: above [`NOISY`], the verdict says the run was noisy.
    #[serde(default)]
    pub others_cpu_share: Option<f64>,
    /// Pictures of the figures, drawn by the report.
    #[serde(default)]
    pub charts: Vec<Chart>,
    /// Machine limits that stopped part of it short; it went on at the size reached.
    #[serde(default)]
    pub limits: Vec<LimitHit>,
}

/// A machine limit met during an experiment: what stopped where, and the knob that moves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitHit {
    /// What was being made ("idle keep-alive connections", "tokio tasks").
    pub what: String,
    pub wanted: u64,
    /// How many there were when the limit stopped it.
    pub reached: u64,
    /// The limit ("open files per process") and what the system said.
    pub limit: String,
    pub knob: String,
}

/// Other processes' CPU share above which an experiment's run counts as noisy.
pub const NOISY: f64 = 0.10;

impl Results {
    pub fn new(quick: bool, machine: MachineFacts, experiments: Vec<ExperimentResult>) -> Self {
        Self {
            tool: "clab tour".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            date: httpdate::fmt_http_date(std::time::SystemTime::now()),
            git_revision: git_revision(),
            quick,
            machine,
            experiments,
        }
    }
}

fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tour::{Axis, Chart, Mark, Point, VerdictKind};

    /// `clab report` must draw from the file what the tour drew: JSON has no NaN and no
    /// infinity (both become `null`), so a missing figure and an open claimed range must
    /// survive the trip.
    #[test]
    fn a_report_rerendered_from_its_json_is_the_same() {
        let chart = Chart::bars(
            "how many fit",
            vec!["tokio task".into()],
            Axis::new("units", "count").log(),
        )
        .series("measured", Mark::Bar, vec![Point::new(0.0, 300_000.0)])
        .series(
            "chapter",
            Mark::Span,
            vec![Point::new(0.0, 1e6).range(Some((1e6, f64::INFINITY)))],
        );
        let result = ExperimentResult {
            id: "X1".into(),
            title: "t".into(),
            claim: "c".into(),
            setup: "s".into(),
            figures: vec![Figure::new("not measured", f64::NAN, "ms")],
            verdict: Verdict::new(VerdictKind::Inconclusive, "r"),
            seconds: 1.0,
            others_cpu_share: None,
            charts: vec![chart],
            limits: Vec::new(),
        };
        let r = Results::new(true, MachineFacts::read(None), vec![result]);
        let json = serde_json::to_string(&r).unwrap();
        let back: Results = serde_json::from_str(&json).unwrap();
        assert!(back.experiments[0].figures[0].value.is_nan());
        assert_eq!(
            crate::tour::render::html(&back),
            crate::tour::render::html(&r)
        );
        assert_eq!(
            crate::tour::render::markdown(&back),
            crate::tour::render::markdown(&r)
        );
    }
}
