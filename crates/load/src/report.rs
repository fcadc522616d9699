//! The result of a run as plain data: what the printers print and what `--json` serialises
//! (its shape is checked in as `schema/report.schema.json`).

use crate::stats::{ErrorCounts, Recorder};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Self {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        })
    }
}

/// One second of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineSecond {
    /// Seconds since the end of the warmup.
    pub second: u64,
    pub responses: u64,
    pub errors: u64,
    /// p99 latency in ms during this second (corrected in open loop), to within ~12%.
    pub p99_ms: Option<f64>,
    /// Open loop: the uncorrected p99 of this second (from the actual send), beside
    /// `p99_ms`; closed loop: `p99_ms` again.
    pub p99_uncorrected_ms: Option<f64>,
}

/// The settings the run used, echoed in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSettings {
    pub url: String,
    /// `closed` or `open`.
    pub mode: &'static str,
    pub connections: usize,
    pub threads: usize,
    pub pipeline: usize,
    /// Open loop: requests per second asked for.
    pub target_rate: Option<f64>,
    /// Duration stop, in seconds.
    pub duration_s: Option<f64>,
    /// Count stop.
    pub requests: Option<u64>,
    pub warmup_s: f64,
    pub timeout_s: f64,
    pub targets: usize,
    /// The workers' scheduling policy as applied: `normal` or `batch`.
    pub sched: &'static str,
}

/// How far below the target rate the run fell (open loop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateShortfall {
    pub target: f64,
    pub achieved: f64,
    /// `achieved / target` as a percentage.
    pub percent_of_target: f64,
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub settings: RunSettings,
    /// Measured wall time after the warmup, in seconds.
    pub elapsed_s: f64,
    /// Complete responses (any status).
    pub responses: u64,
    /// Responses per second over `elapsed_s`.
    pub throughput: f64,
    /// Open loop: set when the achieved rate is more than 1% below the target.
    pub shortfall: Option<RateShortfall>,
    /// From the send to the end of the response.
    pub latency_uncorrected_ms: Option<Latency>,
    /// Open loop only: from the intended send time (coordinated-omission corrected).
    pub latency_corrected_ms: Option<Latency>,
    /// Status code → count (`"0"` collects codes outside 100–599).
    pub status_codes: BTreeMap<String, u64>,
    pub errors: ErrorCounts,
    pub body_bytes: u64,
    /// Connections established, including reconnects.
    pub connects: u64,
    pub timeline: Vec<TimelineSecond>,
    /// Limits that were hit or adjusted (fd limit raised, source addresses spread, …).
    pub notes: Vec<String>,
}

impl Report {
    /// Builds the report from the merged recordings. `elapsed` is the measured window.
    pub fn build(
        settings: RunSettings,
        merged: &Recorder,
        elapsed: Duration,
        notes: Vec<String>,
    ) -> Self {
        let elapsed_s = elapsed.as_secs_f64().max(1e-9);
        let throughput = merged.responses as f64 / elapsed_s;
        let open = settings.target_rate.is_some();
        let shortfall = settings.target_rate.and_then(|target| {
            let achieved = throughput;
            (achieved < target * 0.99).then(|| RateShortfall {
                target,
                achieved,
                percent_of_target: 100.0 * achieved / target,
            })
        });
        let timeline = merged
            .timeline
            .iter()
            .enumerate()
            .map(|(i, s)| TimelineSecond {
                second: i as u64,
                responses: s.responses,
                errors: s.errors,
                p99_ms: s.latency.quantile(0.99).map(|us| us as f64 / 1000.0),
                p99_uncorrected_ms: if open { &s.uncorrected } else { &s.latency }
                    .quantile(0.99)
                    .map(|us| us as f64 / 1000.0),
            })
            .collect();
        Self {
            tool: "clab load",
            settings,
            elapsed_s,
            responses: merged.responses,
            throughput,
            shortfall,
            latency_uncorrected_ms: Latency::from_histogram(&merged.uncorrected),
            latency_corrected_ms: if open {
                Latency::from_histogram(&merged.corrected)
            } else {
                None
            },
            status_codes: merged
                .status_counts()
                .map(|(s, c)| (s.to_string(), c))
                .collect(),
            errors: merged.errors,
            body_bytes: merged.body_bytes,
            connects: merged.connects,
            timeline,
            notes,
        }
    }
}
