//! `report.md`: the report for terminals and diffs, tables only.

use std::fmt::Write as _;

use super::{key_figure, range, value};
use crate::tour::Results;

/// A table cell: no pipes or newlines inside.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
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
