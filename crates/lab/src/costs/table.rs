//! The chapter's §09 table with a measured column: rows, claims, formatting.

use super::stats::Summary;
use super::verdict::{Better, Claim, Verdict};
use serde::Serialize;
use std::fmt::Write as _;

/// The physical quantity of a row, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Quantity {
    /// Nanoseconds.
    Nanos,
    /// Bytes.
    Bytes,
    /// A count of units.
    Count,
}

/// One row: a property of one kind of unit, claimed and measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The property ("Stack (virtual)", "Creation", …).
    pub property: &'static str,
    /// The unit and variant ("OS thread, pinned", "tokio task", …).
    pub unit: String,
    /// Claim ID in CLAIMS.md.
    pub claim_id: &'static str,
    /// The chapter's claim.
    pub claim: Claim,
    /// What was measured.
    pub quantity: Quantity,
    /// Median and min–max over runs.
    pub measured: Summary,
    /// The verdict the numbers give.
    pub verdict: Verdict,
    /// How it was measured, caveats.
    pub note: String,
}

impl Row {
    /// A row whose verdict is computed from the claim and the median.
    pub fn new(
        property: &'static str,
        unit: impl Into<String>,
        claim_id: &'static str,
        claim: Claim,
        quantity: Quantity,
        measured: Summary,
    ) -> Self {
        let verdict = claim.judge(measured.median, false);
        Self {
            property,
            unit: unit.into(),
            claim_id,
            claim,
            quantity,
            measured,
            verdict,
            note: String::new(),
        }
    }

    /// Mark the measured value as a lower bound only (a cap stopped the probe): re-judge.
    pub fn capped(mut self, capped: bool) -> Self {
        self.verdict = self.claim.judge(self.measured.median, capped);
        self
    }

    /// Set the verdict of a qualitative claim.
    pub fn confirmed(mut self, yes: bool) -> Self {
        self.verdict = if yes {
            Verdict::Confirmed
        } else {
            Verdict::Refuted
        };
        self
    }

    /// Attach a note (how it was measured, caveats).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

const KIB: f64 = 1024.0;
const MIB: f64 = KIB * 1024.0;
const GIB: f64 = MIB * 1024.0;

/// The chapter's claims, as ranges (see [`Claim`]: "~X" means X/2 ..= 2X).
pub mod claims {
    use super::*;

    /// §09: OS thread stack "~8 MB (virtual)".
    pub const THREAD_STACK_VIRTUAL: Claim = Claim {
        text: "~8 MB virtual",
        lo: 4.0 * MIB,
        hi: 16.0 * MIB,
        better: Better::Lower,
    };
    /// §06: "500 KB–1 MB of actual physical memory per thread".
    pub const THREAD_PHYSICAL: Claim = Claim {
        text: "500 KB–1 MB physical",
        lo: 500.0 * 1000.0,
        hi: 1000.0 * 1000.0,
        better: Better::Lower,
    };
    /// §06: 10,000 threads would take "5–10 GB" for stacks.
    pub const TEN_THOUSAND_THREADS: Claim = Claim {
        text: "5–10 GB",
        lo: 5e9,
        hi: 10e9,
        better: Better::Lower,
    };
    /// §09: goroutine stack "~2–8 KB initial".
    pub const GREEN_STACK: Claim = Claim {
        text: "~2–8 KB",
        lo: 2.0 * KIB,
        hi: 8.0 * KIB,
        better: Better::Lower,
    };
    /// §06/§09: thread creation "a few µs to a few ms".
    pub const THREAD_CREATION: Claim = Claim {
        text: "µs to ms",
        lo: 1_000.0,
        hi: 5_000_000.0,
        better: Better::Lower,
    };
    /// §09: green creation "~ns to µs".
    pub const GREEN_CREATION: Claim = Claim {
        text: "ns to µs",
        lo: 1.0,
        hi: 10_000.0,
        better: Better::Lower,
    };
    /// §06/§09: thread context switch "1–10 µs".
    pub const THREAD_SWITCH: Claim = Claim {
        text: "1–10 µs",
        lo: 1_000.0,
        hi: 10_000.0,
        better: Better::Lower,
    };
    /// §09/§10: green switch "~200 ns".
    pub const GREEN_SWITCH: Claim = Claim {
        text: "~200 ns",
        lo: 100.0,
        hi: 400.0,
        better: Better::Lower,
    };
    /// §09: threads' practical limit "~10,000".
    pub const THREAD_LIMIT: Claim = Claim {
        text: "~10,000",
        lo: 5_000.0,
        hi: 20_000.0,
        better: Better::Higher,
    };
    /// §09: green practical limit "~1,000,000+".
    pub const GREEN_LIMIT: Claim = Claim {
        text: "1,000,000+",
        lo: 1_000_000.0,
        hi: f64::INFINITY,
        better: Better::Higher,
    };
    /// §08: "an async function is compiled into a state machine" (qualitative).
    pub const STATE_MACHINE: Claim = Claim {
        text: "a state machine, 1 transition per await",
        lo: 0.0,
        hi: f64::INFINITY,
        better: Better::Lower,
    };
}

/// Format a value of `quantity` for people.
pub fn format(quantity: Quantity, v: f64) -> String {
    match quantity {
        Quantity::Nanos if v.abs() >= 1e6 => format!("{:.2} ms", v / 1e6),
        Quantity::Nanos if v.abs() >= 1e3 => format!("{:.2} µs", v / 1e3),
        Quantity::Nanos => format!("{v:.0} ns"),
        Quantity::Bytes if v.abs() >= GIB => format!("{:.2} GiB", v / GIB),
        Quantity::Bytes if v.abs() >= MIB => format!("{:.2} MiB", v / MIB),
        Quantity::Bytes if v.abs() >= KIB => format!("{:.1} KiB", v / KIB),
        Quantity::Bytes => format!("{v:.0} B"),
        Quantity::Count => thousands(v.round() as u64),
    }
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Render rows as a fixed-width text table.
pub fn render(rows: &[Row]) -> String {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let m = &r.measured;
            let range = if m.runs > 1 {
                format!(
                    "{} – {}",
                    format(r.quantity, m.min),
                    format(r.quantity, m.max)
                )
            } else {
                "(1 run)".to_owned()
            };
            [
                r.property.to_owned(),
                r.unit.clone(),
                r.claim.text.to_owned(),
                format(r.quantity, m.median),
                range,
                r.verdict.word().to_owned(),
            ]
        })
        .collect();
    let head = [
        "Property",
        "Unit",
        "Chapter claims",
        "Measured (median)",
        "min – max over runs",
        "Verdict",
    ];
    let mut widths = head.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: &[&str]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            let pad = w - c.chars().count();
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            s.push_str(&" ".repeat(pad));
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    line(&head);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule.iter().map(String::as_str).collect::<Vec<_>>());
    for row in &cells {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_units() {
        assert_eq!(format(Quantity::Nanos, 27_100.0), "27.10 µs");
        assert_eq!(format(Quantity::Nanos, 412.0), "412 ns");
        assert_eq!(format(Quantity::Bytes, 8192.0), "8.0 KiB");
        assert_eq!(format(Quantity::Bytes, 8.0 * MIB), "8.00 MiB");
        assert_eq!(format(Quantity::Count, 1_000_000.0), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn render_aligns_columns() {
        let s = Summary::of(&[1000.0, 2000.0, 3000.0]).unwrap();
        let row = Row::new(
            "Creation",
            "OS thread",
            "C09",
            claims::THREAD_CREATION,
            Quantity::Nanos,
            s,
        );
        let text = render(&[row]);
        assert!(
            text.contains("2.00 µs") && text.contains("within claim"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3);
    }
}
