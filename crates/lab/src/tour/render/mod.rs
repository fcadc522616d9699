//! The report, rendered from [`Results`] alone (`clab report results.json` re-renders it):
//! `index.html` (self-contained: inline CSS, no script, no network) and `report.md` (the same
//! content for terminals and diffs).

mod html;
mod markdown;
mod svg;

pub use html::html;
pub use markdown::markdown;
pub use svg::svg;

use super::chart::{Mark, Point};
use super::{Figure, Results};
use std::io;
use std::path::Path;

/// Write `results.json`, `index.html` and `report.md` into `dir` (created if missing).
pub fn write_all(results: &Results, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(results).map_err(io::Error::other)?;
    std::fs::write(dir.join("results.json"), json + "\n")?;
    write_report(results, dir)
}

/// Write `index.html` and `report.md` into `dir` (created if missing).
pub fn write_report(results: &Results, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("index.html"), html(results))?;
    std::fs::write(dir.join("report.md"), markdown(results))
}

/// A figure's value with its unit, readable (`2.1 µs`, `8.0 MiB`, `1,000,000`).
fn value(f: &Figure) -> String {
    quantity(f.value, &f.unit)
}

/// `v` in `unit`, readable: how figures, chart axes and chart labels print.
fn quantity(v: f64, unit: &str) -> String {
    match unit {
        "ns" if v >= 1e6 => format!("{:.2} ms", v / 1e6),
        "ns" if v >= 1e3 => format!("{:.2} µs", v / 1e3),
        "ns" => format!("{v:.0} ns"),
        "bytes" if v.abs() >= 1024.0 * 1024.0 * 1024.0 => {
            format!("{:.2} GiB", v / (1u64 << 30) as f64)
        }
        "bytes" if v.abs() >= 1024.0 * 1024.0 => format!("{:.2} MiB", v / (1u64 << 20) as f64),
        "bytes" if v.abs() >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
        "bytes" => format!("{v:.0} B"),
        "ratio" => format!("{v:.2}x"),
        "req/s" => format!("{v:.0} req/s"),
        "ms" => format!("{v:.2} ms"),
        "s" if v.fract() == 0.0 => format!("{v:.0} s"),
        "s" => format!("{v:.1} s"),
        "µs" => format!("{v:.1} µs"),
        "count" if v >= 0.0 && v.fract() == 0.0 => crate::costs::table::thousands(v.round() as u64),
        "count" => format!("{v:.1}"),
        "%" => format!("{v:.1}%"),
        unit => format!("{v:.3} {unit}"),
    }
}

fn range(f: &Figure) -> String {
    match f.range {
        Some((lo, hi)) => {
            let at = |x: f64| {
                value(&Figure {
                    value: x,
                    ..f.clone()
                })
            };
            format!("{}–{} ({} runs)", at(lo), at(hi), f.runs)
        }
        None => String::new(),
    }
}

/// The figure the summary table shows for an experiment: its first.
fn key_figure(figures: &[Figure]) -> String {
    figures
        .first()
        .map(|f| format!("{}: {}", f.name, value(f)))
        .unwrap_or_else(|| "—".to_owned())
}

/// A chart point as words: a claimed range as `lo–hi` (`≥ lo` when open), a value as itself.
fn point_text(mark: Mark, p: &Point, unit: &str) -> String {
    match (mark, p.lo, p.hi) {
        (Mark::Span, Some(lo), Some(hi)) if hi > lo => {
            format!("{}–{}", quantity(lo, unit), quantity(hi, unit))
        }
        (Mark::Span, Some(lo), _) => format!("≥ {}", quantity(lo, unit)),
        _ => quantity(p.y, unit),
    }
}
