//! `report.md`: the report for terminals and diffs, tables only.

use std::fmt::Write as _;

use super::{key_figure, point_text, quantity, range, value};
use crate::tour::Results;
use crate::tour::chart::{Chart, ChartKind, Mark, Point};

/// A table cell: no pipes or newlines inside.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A chart as a table: one row per category (bars) or per `x` (lines), one column per series.
fn chart_table(c: &Chart) -> String {
    let unit = &c.value_axis.unit;
    let (first, rows): (String, Vec<(String, f64)>) = match &c.kind {
        ChartKind::Bars { categories } => (
            String::new(),
            categories
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), i as f64))
                .collect(),
        ),
        ChartKind::Lines { x_axis } => {
            let mut xs: Vec<f64> = c
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.x))
                .collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            let rows = xs
                .iter()
                .map(|x| (quantity(*x, &x_axis.unit), *x))
                .collect();
            (x_axis.label.clone(), rows)
        }
    };
    let shown = |mark: Mark, p: &Point| match (mark, p.lo, p.hi) {
        (Mark::Bar, Some(lo), Some(hi)) => format!(
            "{} ({}–{})",
            quantity(p.y, unit),
            quantity(lo, unit),
            quantity(hi, unit)
        ),
        _ => point_text(mark, p, unit),
    };
    let mut t = format!(
        "\n*{}* ({}{})\n\n| {} |",
        c.title,
        c.value_axis.label,
        if c.value_axis.log {
            ", log scale in the HTML chart"
        } else {
            ""
        },
        cell(&first)
    );
    for s in &c.series {
        let _ = write!(t, " {} |", cell(&s.name));
    }
    t.push_str("\n|---|");
    t.push_str(&"---|".repeat(c.series.len()));
    t.push('\n');
    for (name, x) in rows {
        let _ = write!(t, "| {} |", cell(&name));
        for s in &c.series {
            let v = s.points.iter().find(|p| p.x == x).map(|p| shown(s.mark, p));
            let _ = write!(t, " {} |", v.unwrap_or_default());
        }
        t.push('\n');
    }
    t
}

pub fn markdown(r: &Results) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# The chapter's claims, measured here\n\n{} {}{}, {}{}. Verdicts are computed from the \
         figures by code.\n\n| claim | verdict | key figure |\n|---|---|---|",
        r.tool,
        r.version,
        r.git_revision
            .as_deref()
            .map(|g| format!(" (git {g})"))
            .unwrap_or_default(),
        r.date,
        if r.quick { ", --quick sizes" } else { "" }
    );
    for e in &r.experiments {
        let _ = writeln!(
            m,
            "| [{}](#{}) {} | {} | {} |",
            e.id,
            e.id.to_lowercase(),
            cell(&e.title),
            e.verdict.kind.words(),
            cell(&key_figure(&e.figures))
        );
    }
    for e in &r.experiments {
        let _ = writeln!(
            m,
            "\n## {}: {}\n\n**Claim.** {}\n\n**Setup.** {}\n\n**Verdict: {}.** {}\n\n\
             | figure | measured | range | chapter | judged |\n|---|---|---|---|---|",
            e.id,
            e.title,
            e.claim,
            e.setup,
            e.verdict.kind.words(),
            e.verdict.reason
        );
        for f in &e.figures {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} |",
                cell(&f.name),
                value(f),
                range(f),
                cell(f.claimed.as_deref().unwrap_or("")),
                f.judged.as_deref().unwrap_or("")
            );
        }
        for l in &e.limits {
            let _ = writeln!(
                m,
                "\nMachine limit met: {}, while making {} ({} of {}); knob: `{}`",
                l.limit, l.what, l.reached, l.wanted, l.knob
            );
        }
        for c in &e.charts {
            m.push_str(&chart_table(c));
        }
    }
    let mc = &r.machine;
    let _ = writeln!(
        m,
        "\n## This machine\n\n{} cores, {}, kernel {}\n\n| limit | value | knob |\n|---|---|---|",
        mc.cores,
        mc.cpu_model.as_deref().unwrap_or("unknown CPU"),
        mc.kernel.as_deref().unwrap_or("unknown")
    );
    for l in &mc.limits {
        let _ = writeln!(
            m,
            "| {} | {} | `{}` |",
            l.name,
            l.value.map_or("unknown".to_owned(), |v| v.to_string()),
            l.knob
        );
    }
    m
}
