//! Printers: a human summary and JSON, each to any `Write`.

use crate::report::{Latency, Report};
use std::io::{self, Write};

/// Writes the report as pretty JSON (shape: `schema/report.schema.json`).
pub fn write_json<W: Write>(report: &Report, mut out: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)
}

/// Writes the human summary.
pub fn write_human<W: Write>(report: &Report, mut out: W) -> io::Result<()> {
    let s = &report.settings;
    let mode = match s.target_rate {
        Some(rate) => format!("open loop at {rate} req/s"),
        None => "closed loop".to_owned(),
    };
    writeln!(
        out,
        "clab load {} — {mode}, {}, {} ({} scheduling), pipeline {}",
        s.url,
        count(s.connections, "connection"),
        count(s.threads, "thread"),
        s.sched,
        s.pipeline
    )?;
    writeln!(
        out,
        "  {} responses in {:.2}s: {:.0} req/s, {} body bytes",
        report.responses, report.elapsed_s, report.throughput, report.body_bytes
    )?;
    if report.errors.not_sent > 0 {
        let intended = report.responses + report.errors.total();
        writeln!(
            out,
            "  WARNING: {} of {intended} intended requests ({:.1}%) were never sent: their \
             connections were still busy; each counts as an error, and its wait up to the end \
             of the run is in the corrected latency",
            report.errors.not_sent,
            100.0 * report.errors.not_sent as f64 / intended.max(1) as f64
        )?;
    }
    if let Some(short) = &report.shortfall {
        writeln!(
            out,
            "  WARNING: achieved {:.0} req/s = {:.1}% of the target {} req/s: the server (or this client) \
             could not keep up; corrected latency includes the queueing",
            short.achieved, short.percent_of_target, short.target
        )?;
    }
    writeln!(
        out,
        "  latency (ms)       p50       p90       p99     p99.9       max      mean"
    )?;
    let row = |out: &mut W, name: &str, l: &Option<Latency>| -> io::Result<()> {
        match l {
            Some(l) => writeln!(
                out,
                "  {name:<13} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                l.p50, l.p90, l.p99, l.p999, l.max, l.mean
            ),
            None => writeln!(out, "  {name:<13} (no responses)"),
        }
    };
    if s.target_rate.is_some() {
        row(&mut out, "corrected", &report.latency_corrected_ms)?;
        row(&mut out, "uncorrected", &report.latency_uncorrected_ms)?;
        writeln!(
            out,
            "  (corrected = from the intended send time; uncorrected = from the actual send)"
        )?;
    } else {
        row(&mut out, "send→response", &report.latency_uncorrected_ms)?;
    }
    let codes: Vec<String> = report
        .status_codes
        .iter()
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    writeln!(
        out,
        "  status codes: {}",
        if codes.is_empty() {
            "none".to_owned()
        } else {
            codes.join(", ")
        }
    )?;
    let e = &report.errors;
    writeln!(
        out,
        "  errors: {} (connect {}, timeout {}, reset {}, bad response {}, closed {}, \
         not sent: connection busy {}); connections made: {}",
        e.total(),
        e.connect,
        e.timeout,
        e.reset,
        e.bad_response,
        e.closed,
        e.not_sent,
        report.connects
    )?;
    for note in &report.notes {
        writeln!(out, "  note: {note}")?;
    }
    Ok(())
}

/// `1 connection`, `64 connections`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
