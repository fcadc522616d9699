//! `index.html`: a summary table (claim, verdict, key figure, link) at the top, then one
//! section per claim (`#c07`), then the machine. Self-contained: inline CSS, no script.

use std::fmt::Write as _;

use super::{key_figure, range, value};
use crate::tour::{LimitHit, Results, VerdictKind};

/// Minimal escaping for text placed in HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Holds => "holds",
        VerdictKind::HoldsWithDifference => "differs",
        VerdictKind::DoesNotHold => "fails",
        VerdictKind::Inconclusive => "unknown",
    }
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.holds{background:#e3f6e3}.differs{background:#fff4d6}.fails{background:#fbe0e0}.unknown{background:#eee}\
section{border-top:2px solid #ddd;margin-top:2rem}figure.chart{margin:1rem 0}figure.chart svg{max-width:100%;height:auto}code{background:#f3f3f3;padding:0 .2rem}.small{color:#555;font-size:90%}";

/// The machine limits an experiment met (nothing when none).
fn limits_table(hits: &[LimitHit]) -> String {
    if hits.is_empty() {
        return String::new();
    }
    let mut h = String::from(
        "<table class=\"limits\"><thead><tr><th>machine limit met</th><th>while making</th>\
         <th>reached of wanted</th><th>knob</th></tr></thead><tbody>",
    );
    for l in hits {
        let _ = write!(
            h,
            "<tr class=\"differs\"><td>{}</td><td>{}</td><td>{} of {}</td><td><code>{}</code></td></tr>",
            esc(&l.limit),
            esc(&l.what),
            l.reached,
            l.wanted,
            esc(&l.knob)
        );
    }
    h.push_str("</tbody></table>");
    h
}

pub fn html(r: &Results) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>clab tour</title>\
         <style>{STYLE}</style></head><body><h1>The chapter's claims, measured here</h1>\
         <p class=\"small\">{} {}{}, {}{}. Verdicts are computed from the figures by code.</p>",
        esc(&r.tool),
        esc(&r.version),
        r.git_revision
            .as_deref()
            .map(|g| format!(" (git {})", esc(g)))
            .unwrap_or_default(),
        esc(&r.date),
        if r.quick { ", --quick sizes" } else { "" }
    );
    h.push_str(
        "<table id=\"summary\"><thead><tr><th>claim</th><th>verdict</th><th>key figure</th></tr></thead><tbody>",
    );
    for e in &r.experiments {
        let _ = write!(
            h,
            "<tr><td><a href=\"#{}\">{}</a> {}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            e.id.to_lowercase(),
            esc(&e.id),
            esc(&e.title),
            class(e.verdict.kind),
            e.verdict.kind.words(),
            esc(&key_figure(&e.figures))
        );
    }
    h.push_str("</tbody></table>");
    for e in &r.experiments {
        let _ = write!(
            h,
            "<section id=\"{}\"><h2>{}: {}</h2><p><b>Claim.</b> {}</p><p><b>Setup.</b> {}</p>\
             <p class=\"{}\"><b>Verdict: {}.</b> {}</p>",
            e.id.to_lowercase(),
            esc(&e.id),
            esc(&e.title),
            esc(&e.claim),
            esc(&e.setup),
            class(e.verdict.kind),
            e.verdict.kind.words(),
            esc(&e.verdict.reason)
        );
        h.push_str(
            "<table class=\"figures\"><thead><tr><th>figure</th><th>measured</th><th>range</th>\
             <th>chapter</th><th>judged</th><th>how</th></tr></thead><tbody>",
        );
        for f in &e.figures {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
                esc(&f.name),
                esc(&value(f)),
                esc(&range(f)),
                esc(f.claimed.as_deref().unwrap_or("")),
                esc(f.judged.as_deref().unwrap_or("")),
                esc(&f.note)
            );
        }
        h.push_str("</tbody></table>");
        h.push_str(&limits_table(&e.limits));
        for c in &e.charts {
            // A chart that cannot be drawn leaves its numbers in the table above and says so.
            match super::svg(c) {
                Ok(svg) => {
                    let _ = write!(h, "<figure class=\"chart\">{svg}</figure>");
                }
                Err(why) => {
                    let _ = write!(
                        h,
                        "<p class=\"small\">chart “{}” could not be drawn: {}</p>",
                        esc(&c.title),
                        esc(&why)
                    );
                }
            }
        }
        let _ = write!(
            h,
            "<p class=\"small\">{:.1} s{}</p></section>",
            e.seconds,
            e.others_cpu_share
                .map(|s| format!(
                    "; other processes used {:.0}% of the CPUs meanwhile",
                    s * 100.0
                ))
                .unwrap_or_default()
        );
    }
    let m = &r.machine;
    let _ = write!(
        h,
        "<section id=\"machine\"><h2>This machine</h2><p>{} cores, {}, kernel {}{}{}</p><table><thead>\
         <tr><th>limit</th><th>value</th><th>knob</th></tr></thead><tbody>",
        m.cores,
        esc(m.cpu_model.as_deref().unwrap_or("unknown CPU")),
        esc(m.kernel.as_deref().unwrap_or("unknown")),
        m.mem_total
            .map(|b| format!(", {:.1} GiB", b as f64 / (1u64 << 30) as f64))
            .unwrap_or_default(),
        m.others_cpu_share
            .map(|s| format!(
                "; other processes used {:.0}% of the CPUs during the measurements",
                s * 100.0
            ))
            .unwrap_or_default()
    );
    for l in &m.limits {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&l.name),
            l.value.map_or("unknown".to_owned(), |v| v.to_string()),
            esc(&l.knob)
        );
    }
    h.push_str("</tbody></table>");
    let met: Vec<LimitHit> = r
        .experiments
        .iter()
        .flat_map(|e| {
            e.limits.iter().map(|l| LimitHit {
                what: format!("{} ({})", l.what, e.id),
                ..l.clone()
            })
        })
        .collect();
    if met.is_empty() {
        h.push_str("<p>No experiment met a machine limit.</p>");
    } else {
        h.push_str(&limits_table(&met));
    }
    h.push_str("</section></body></html>\n");
    h
}
