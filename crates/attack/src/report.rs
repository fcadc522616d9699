//! What a check found, as data: a verdict computed from its figures, the figures as named
//! numbers, a one-line reason, and detail lines (each failing case, say). `--json` serialises
//! it; [`render_table`] prints the table.

use serde::Serialize;
use std::fmt::Write as _;

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// The check could not run at all (the reason says why); never used for a server that
    /// merely lacks the behaviour, which is a failure with the figures that show it.
    Skipped,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::Skipped => "skipped",
        }
    }
}

/// One named measurement. `unit` is empty for counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub verdict: Verdict,
    /// One line: what passed, or the first thing that failed and why.
    pub reason: String,
    pub figures: Vec<Figure>,
    /// Further lines, such as each failing case; the table prints at most a few.
    pub details: Vec<String>,
}

impl CheckResult {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            verdict: Verdict::Skipped,
            reason: String::new(),
            figures: Vec::new(),
            details: Vec::new(),
        }
    }

    pub fn figure(&mut self, name: impl Into<String>, value: f64, unit: &'static str) {
        self.figures.push(Figure {
            name: name.into(),
            value,
            unit,
        });
    }

    pub fn count(&mut self, name: impl Into<String>, value: usize) {
        self.figure(name, value as f64, "");
    }

    /// The figure called `name`, for tests and callers that judge figures.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }

    /// Sets the verdict from the failures found: pass with `ok` when there are none, else fail
    /// with the failures joined as the reason.
    pub fn judge(&mut self, failures: &[String], ok: impl Into<String>) {
        if failures.is_empty() {
            self.verdict = Verdict::Pass;
            self.reason = ok.into();
        } else {
            self.verdict = Verdict::Fail;
            self.reason = failures.join("; ");
        }
    }

    pub fn skip(mut self, why: impl Into<String>) -> Self {
        self.verdict = Verdict::Skipped;
        self.reason = why.into();
        self
    }
}

/// The `q` quantile (0..=1) of `values` by the nearest-rank rule; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

/// Detail lines shown per check in the table; `--json` has them all.
const TABLE_DETAILS: usize = 5;

/// The table: one row per check (name, verdict, reason), its figures beneath it, and the first
/// few detail lines.
pub fn render_table(results: &[CheckResult]) -> String {
    let width = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(out, "{:<width$}  {:<7}  reason", "check", "verdict");
    for r in results {
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {}",
            r.name,
            r.verdict.name(),
            r.reason
        );
        let figures: Vec<String> = r.figures.iter().map(format_figure).collect();
        for line in wrap(&figures, 96) {
            let _ = writeln!(out, "{:<width$}  {:<7}  {line}", "", "");
        }
        for d in r.details.iter().take(TABLE_DETAILS) {
            let _ = writeln!(out, "{:<width$}  {:<7}  - {d}", "", "");
        }
        if r.details.len() > TABLE_DETAILS {
            let more = r.details.len() - TABLE_DETAILS;
            let _ = writeln!(out, "{:<width$}  {:<7}  - … {more} more (--json)", "", "");
        }
    }
    let failed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .count();
    let _ = writeln!(out, "{} checks, {failed} failed", results.len());
    out
}

fn format_figure(f: &Figure) -> String {
    let value = if f.value.fract() == 0.0 && f.value.abs() < 1e15 {
        format!("{}", f.value as i64)
    } else {
        format!("{:.3}", f.value)
    };
    format!("{}={value}{}", f.name, f.unit)
}

/// Joins items with two spaces into lines of at most `max` characters (an item longer than
/// that gets a line of its own).
fn wrap(items: &[String], max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if line.len() + 2 + item.len() <= max => {
                line.push_str("  ");
                line.push_str(item);
            }
            _ => lines.push(item.clone()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judge_passes_only_without_failures() {
        let mut r = CheckResult::new("x");
        r.judge(&[], "fine");
        assert_eq!((r.verdict, r.reason.as_str()), (Verdict::Pass, "fine"));
        r.judge(&["a".into(), "b".into()], "fine");
        assert_eq!((r.verdict, r.reason.as_str()), (Verdict::Fail, "a; b"));
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&v, 0.5), Some(50.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        assert_eq!(quantile(&[3.0], 0.99), Some(3.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn table_names_every_check_with_its_figures() {
        let mut a = CheckResult::new("smuggling");
        a.count("variants", 58);
        a.figure("p99", 1.25, "ms");
        a.judge(&[], "all refused");
        let mut b = CheckResult::new("fd");
        b.details = (0..7).map(|i| format!("case {i}")).collect();
        b.judge(&["broken".into()], "");
        let text = render_table(&[a, b]);
        assert!(text.contains("smuggling  pass     all refused"), "{text}");
        assert!(text.contains("variants=58  p99=1.250ms"), "{text}");
        assert!(text.contains("fd         FAIL     broken"), "{text}");
        assert!(
            text.contains("- case 4") && !text.contains("- case 5"),
            "{text}"
        );
        assert!(text.contains("2 more (--json)"), "{text}");
        assert!(text.ends_with("2 checks, 1 failed\n"), "{text}");
    }
}
