//! The experiments whose numbers come from `clab costs` (C07–C10, C14, C15): its rows for the
//! claim ID become figures, and the verdict aggregates how its code judged each row against
//! the chapter's range (`crates/lab/src/costs/verdict.rs`).

use crate::costs;
use crate::costs::table::{Quantity, Row, format};
use crate::costs::verdict::Verdict as RowVerdict;
use crate::tour::{
    Axis, Chart, Context, Experiment, Figure, LimitHit, Mark, Meta, Point, Verdict, VerdictKind,
};

/// A claim measured by `clab costs`: what each `cNN.rs` declares.
#[derive(Debug)]
pub(super) struct CostsClaim {
    pub meta: Meta,
    /// What is measured, before the sizes `--quick` sets.
    pub setup: &'static str,
    /// The charts its section shows, drawn from the whole costs report.
    pub charts: fn(&costs::Report) -> Vec<Chart>,
    /// The machine limits its measurements met.
    pub limits: fn(&costs::Report) -> Vec<LimitHit>,
}

/// For the claims that create nothing up to a limit.
pub(super) fn no_limits(_: &costs::Report) -> Vec<LimitHit> {
    Vec::new()
}

/// The "how many fit" probes (C15) that a machine limit stopped, not the probe's own cap.
pub(super) fn unit_limits(report: &costs::Report) -> Vec<LimitHit> {
    report
        .limits
        .iter()
        .filter(|l| !l.capped())
        .map(|l| LimitHit {
            what: format!("{}s alive at once", l.unit),
            wanted: l.cap,
            reached: l.reached,
            limit: match &l.error {
                Some(e) => format!("{} ({e})", l.stopped_by.name()),
                None if l.guarded => format!(
                    "{} (stopped short on purpose; would fail near {})",
                    l.stopped_by.name(),
                    l.projected
                ),
                None => l.stopped_by.name().to_owned(),
            },
            knob: l.knob.to_owned(),
        })
        .collect()
}

/// For the claims whose table says enough.
pub(super) fn no_charts(_: &costs::Report) -> Vec<Chart> {
    Vec::new()
}

/// The chapter's table of green threads vs OS threads (C07–C10, C15) as bars on a log scale,
/// one chart per quantity, each row beside the chapter's range.
pub(super) fn costs_table(report: &costs::Report) -> Vec<Chart> {
    let table = ["C07", "C08", "C09", "C10", "C15"];
    let quantities = [
        (Quantity::Nanos, "time", "ns"),
        (Quantity::Bytes, "memory", "bytes"),
        (Quantity::Count, "units that fit", "count"),
    ];
    quantities
        .iter()
        .map(|&(q, what, unit)| {
            let rows: Vec<&Row> = report
                .rows
                .iter()
                .filter(|r| r.quantity == q && table.contains(&r.claim_id))
                .collect();
            let within = rows
                .iter()
                .filter(|r| matches!(r.verdict, RowVerdict::Within | RowVerdict::Confirmed))
                .count();
            let measured = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Point::new(i as f64, r.measured.median)
                        .range((r.measured.runs > 1).then_some((r.measured.min, r.measured.max)))
                })
                .collect();
            let claimed = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Point::new(i as f64, r.claim.lo).range(Some((r.claim.lo, r.claim.hi)))
                })
                .collect();
            Chart::bars(
                format!(
                    "The chapter's table, {what}: {within} of {} rows within its range",
                    rows.len()
                ),
                rows.iter()
                    .map(|r| format!("{} — {} ({})", r.property, r.unit, r.claim_id))
                    .collect(),
                Axis::new(what, unit).log(),
            )
            .series("measured (median, whisker: range)", Mark::Bar, measured)
            .series("chapter's range", Mark::Span, claimed)
        })
        .collect()
}

impl Experiment for CostsClaim {
    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "{} (`clab costs{}`, {} runs per timing)",
            self.setup,
            if ctx.quick() { " --quick" } else { "" },
            ctx.costs_config().runs
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let figures = figures(self.meta.id, ctx, progress)?;
        let report = ctx.costs(progress)?;
        let (charts, limits) = ((self.charts)(report), (self.limits)(report));
        charts.into_iter().for_each(|c| ctx.chart(c));
        limits.into_iter().for_each(|l| ctx.limit_hit(l));
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        judge(figures)
    }
}

/// The figures of every costs row for `id`.
pub(super) fn figures(
    id: &str,
    ctx: &mut Context,
    progress: &mut dyn crate::costs::Progress,
) -> Result<Vec<Figure>, String> {
    let report = ctx.costs(progress)?;
    let figures: Vec<Figure> = report
        .rows
        .iter()
        .filter(|r| r.claim_id == id)
        .map(figure)
        .collect();
    if figures.is_empty() {
        return Err(format!("clab costs measured nothing for {id}"));
    }
    Ok(figures)
}

pub(super) fn figure(row: &Row) -> Figure {
    Figure {
        name: format!("{} — {}", row.property, row.unit),
        value: row.measured.median,
        unit: unit(row.quantity).to_owned(),
        range: (row.measured.runs > 1).then_some((row.measured.min, row.measured.max)),
        runs: row.measured.runs,
        claimed: Some(row.claim.text.to_owned()),
        judged: Some(row.verdict.word().to_owned()),
        note: row.note.clone(),
    }
}

fn unit(q: Quantity) -> &'static str {
    match q {
        Quantity::Nanos => "ns",
        Quantity::Bytes => "bytes",
        Quantity::Count => "count",
    }
}

/// A figure's value as the costs table prints it.
pub(super) fn shown(f: &Figure) -> String {
    let q = match f.unit.as_str() {
        "ns" => Quantity::Nanos,
        "bytes" => Quantity::Bytes,
        _ => Quantity::Count,
    };
    format(q, f.value)
}

/// Any row worse than claimed (or refuted): does not hold; else any better: holds with a
/// difference; else any stopped at a cap: inconclusive; else holds. The reason lists the rows
/// that decided, with their numbers and the claimed range.
pub(super) fn judge(figures: &[Figure]) -> Verdict {
    let with = |words: &[&str]| -> Vec<String> {
        figures
            .iter()
            .filter(|f| f.judged.as_deref().is_some_and(|j| words.contains(&j)))
            .map(|f| {
                format!(
                    "{}: {} (chapter: {})",
                    f.name,
                    shown(f),
                    f.claimed.as_deref().unwrap_or("no figure")
                )
            })
            .collect()
    };
    let worse = with(&[RowVerdict::Worse.word(), RowVerdict::Refuted.word()]);
    let better = with(&[RowVerdict::Better.word()]);
    let capped = with(&[RowVerdict::Inconclusive.word()]);
    let ok = with(&[RowVerdict::Within.word(), RowVerdict::Confirmed.word()]);
    if !worse.is_empty() {
        Verdict::new(
            VerdictKind::DoesNotHold,
            format!(
                "outside the claimed range, on the costly side: {}",
                worse.join("; ")
            ),
        )
    } else if !better.is_empty() {
        Verdict::new(
            VerdictKind::HoldsWithDifference,
            format!("cheaper (or more) than claimed: {}", better.join("; ")),
        )
    } else if !capped.is_empty() {
        Verdict::new(
            VerdictKind::Inconclusive,
            format!(
                "stopped at a cap below the claimed range: {}",
                capped.join("; ")
            ),
        )
    } else if !ok.is_empty() {
        Verdict::new(
            VerdictKind::Holds,
            format!("within the claimed range: {}", ok.join("; ")),
        )
    } else {
        Verdict::new(VerdictKind::Inconclusive, "no figure was judged")
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A synthetic figure the costs code judged `judged`.
    pub fn fig(name: &str, value: f64, unit: &str, judged: RowVerdict) -> Figure {
        Figure {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
            range: None,
            runs: 3,
            claimed: Some("claimed".to_owned()),
            judged: Some(judged.word().to_owned()),
            note: String::new(),
        }
    }

    #[test]
    fn one_costly_row_decides_and_is_named() {
        let v = judge(&[
            fig("a", 1.0, "ns", RowVerdict::Within),
            fig("b", 2.0, "ns", RowVerdict::Worse),
            fig("c", 3.0, "ns", RowVerdict::Better),
        ]);
        assert_eq!(v.kind, VerdictKind::DoesNotHold);
        assert!(
            v.reason.contains("b:") && !v.reason.contains("a:"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn within_holds_better_differs_capped_is_inconclusive() {
        assert_eq!(
            judge(&[fig("a", 1.0, "ns", RowVerdict::Within)]).kind,
            VerdictKind::Holds
        );
        assert_eq!(
            judge(&[
                fig("a", 1.0, "ns", RowVerdict::Within),
                fig("b", 1.0, "ns", RowVerdict::Better)
            ])
            .kind,
            VerdictKind::HoldsWithDifference
        );
        assert_eq!(
            judge(&[fig("a", 1.0, "count", RowVerdict::Inconclusive)]).kind,
            VerdictKind::Inconclusive
        );
        assert_eq!(judge(&[]).kind, VerdictKind::Inconclusive);
    }
}
