//! The legitimate client: `clab-load`'s engine (open or closed loop, HDR histograms) run
//! against the target, reduced to what the checks compare: how many requests succeeded and
//! the p99 latency. One worker thread, so on a small machine the client takes one core and
//! leaves the rest to the server under test.

use crate::target::Target;
use clab_load::{Config, LoadError, Mode, Report, Schedule, Stop};
use std::time::Duration;

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Requests that got a response or failed.
    pub requests: u64,
    /// Responses that served the request: any status below 500 except 408 and 429.
    pub ok: u64,
    /// 503 responses (load shedding).
    pub shed: u64,
    /// The p99 in ms: from the intended send time in open loop (what the client waited),
    /// from the send in closed loop. `None` when nothing was answered.
    pub p99_ms: Option<f64>,
    pub throughput: f64,
    pub report: Report,
}

impl Sample {
    /// Successful requests as a fraction of all (0 when none were made).
    pub fn success_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.ok as f64 / self.requests as f64
        }
    }
}

/// Open loop at `rate` requests/s over `connections` for `duration`.
pub fn open(
    target: &Target,
    rate: f64,
    connections: usize,
    duration: Duration,
    timeout: Duration,
) -> Result<Sample, LoadError> {
    run(target, Mode::Open { rate, connections }, duration, timeout)
}

/// Closed loop over `connections` for `duration`: as fast as the server answers.
pub fn closed(
    target: &Target,
    connections: usize,
    duration: Duration,
    timeout: Duration,
) -> Result<Sample, LoadError> {
    run(target, Mode::Closed { connections }, duration, timeout)
}

fn run(
    target: &Target,
    mode: Mode,
    duration: Duration,
    timeout: Duration,
) -> Result<Sample, LoadError> {
    let schedule = Schedule {
        mode,
        stop: Stop::Duration(duration),
        warmup: Duration::ZERO,
        pipeline: 1,
    };
    let mut config = Config::new(&target.load_url(), schedule)?;
    config.threads = 1;
    config.timeout = timeout;
    let report = clab_load::run(&config)?;
    Ok(sample(report))
}

fn sample(report: Report) -> Sample {
    let count = |f: &dyn Fn(u16) -> bool| -> u64 {
        report
            .status_codes
            .iter()
            .filter(|(s, _)| s.parse::<u16>().is_ok_and(f))
            .map(|(_, n)| n)
            .sum()
    };
    let ok = count(&|s| (100..500).contains(&s) && s != 408 && s != 429);
    let shed = count(&|s| s == 503);
    let latency = report
        .latency_corrected_ms
        .or(report.latency_uncorrected_ms);
    Sample {
        requests: report.responses + report.errors.total(),
        ok,
        shed,
        p99_ms: latency.map(|l| l.p99),
        throughput: report.throughput,
        report,
    }
}

/// The legitimate client's schedule, shared by the checks that compare its latency.
#[derive(Debug, Clone)]
pub struct Client {
    /// Open-loop rate, requests per second: well below what any server sustains, so its p99
    /// shows the server's responsiveness rather than saturation.
    pub rate: f64,
    pub connections: usize,
    /// How long one measurement runs.
    pub window: Duration,
    /// Per request: past it the request counts as failed.
    pub timeout: Duration,
    /// p99 baselines below this are taken as this: on loopback, sub-millisecond p99s differ by
    /// scheduler noise, and twice a noise figure is no bound.
    pub p99_floor_ms: f64,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            rate: 200.0,
            connections: 2,
            window: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
            p99_floor_ms: 1.0,
        }
    }
}

impl Client {
    /// One measurement at the client's rate.
    pub fn measure(&self, target: &Target) -> Result<Sample, LoadError> {
        open(
            target,
            self.rate,
            self.connections,
            self.window,
            self.timeout,
        )
    }

    /// The baseline p99 a comparison uses: the measured one, at least the floor.
    pub fn baseline_p99(&self, sample: &Sample) -> f64 {
        sample.p99_ms.unwrap_or(0.0).max(self.p99_floor_ms)
    }
}
