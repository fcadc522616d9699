//! Overload: beyond the server's bound, new work must be refused quickly (503 with
//! `Retry-After`), not queued without bound. The check measures the unloaded p99 (the
//! legitimate client's open loop), the sustainable rate (closed loop), then offers `factor`
//! times that rate in open loop while a prober opens fresh connections and times what each
//! gets; then how long the server takes, once the load stops, to answer within
//! `recovery_ratio` of the unloaded p99 again.
//!
//! Passes when the server shed load (503s seen), every 503 carried `Retry-After` and came
//! within `max_503`, the requests it accepted kept a p99 within `max_accepted_ratio` of the
//! unloaded one, and it recovered within `recovery_limit`. A server with no bound on queued
//! work fails, with the figures (no 503, the latency the queue built up) that show it.

use crate::legit::{self, Client, Sample};
use crate::report::{CheckResult, quantile};
use crate::target::Target;
use crate::wire::{Answer, probe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Bounds of the overload check.
#[derive(Debug, Clone)]
pub struct Config {
    pub client: Client,
    /// Closed-loop connections that measure the sustainable rate.
    pub sustain_connections: usize,
    /// The overload offers this many times the sustainable rate.
    pub factor: f64,
    /// Open-loop connections of the overload (enough to exceed a connection bound).
    pub overload_connections: usize,
    /// How long the sustainable rate and the overload are measured.
    pub window: Duration,
    /// The prober's pause between fresh-connection probes during the overload.
    pub probe_gap: Duration,
    pub max_503: Duration,
    pub max_accepted_ratio: f64,
    pub recovery_ratio: f64,
    /// Recovery is measured in slices of this length, up to `recovery_limit`.
    pub recovery_slice: Duration,
    pub recovery_limit: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            client: Client::default(),
            sustain_connections: 16,
            factor: 2.0,
            overload_connections: 256,
            window: Duration::from_secs(2),
            probe_gap: Duration::from_millis(10),
            max_503: Duration::from_millis(100),
            max_accepted_ratio: 10.0,
            recovery_ratio: 2.0,
            recovery_slice: Duration::from_millis(250),
            recovery_limit: Duration::from_secs(5),
        }
    }
}

pub fn run(target: &Target, config: &Config, progress: &dyn Fn(String)) -> CheckResult {
    let result = CheckResult::new("overload");
    progress("overload: unloaded latency".into());
    let unloaded = match config.client.measure(target) {
        Ok(s) => s,
        Err(e) => return result.skip(format!("the unloaded run failed: {e}")),
    };
    progress("overload: sustainable rate (closed loop)".into());
    let sustained = match legit::closed(
        target,
        config.sustain_connections,
        config.window,
        config.client.timeout,
    ) {
        Ok(s) => s,
        Err(e) => return result.skip(format!("the closed-loop run failed: {e}")),
    };
    let rate = (sustained.throughput * config.factor).max(config.overload_connections as f64);
    progress(format!("overload: offering {rate:.0} req/s"));
    let done = AtomicBool::new(false);
    let (overload, probes) = std::thread::scope(|scope| {
        let prober = scope.spawn(|| {
            let mut answers = Vec::new();
            let mut unanswered = 0usize;
            while !done.load(Ordering::Relaxed) {
                match probe(target, config.client.timeout) {
                    Some(a) => answers.push(a),
                    None => unanswered += 1,
                }
                std::thread::sleep(config.probe_gap);
            }
            (answers, unanswered)
        });
        let overload = legit::open(
            target,
            rate,
            config.overload_connections,
            config.window,
            config.client.timeout,
        );
        done.store(true, Ordering::Relaxed);
        (overload, prober.join())
    });
    let overload = match overload {
        Ok(s) => s,
        Err(e) => return result.skip(format!("the overload run failed: {e}")),
    };
    let Ok(probes) = probes else {
        return result.skip("the prober thread panicked");
    };
    let stopped = Instant::now();
    progress("overload: recovery".into());
    let target_p99 = config.recovery_ratio * config.client.baseline_p99(&unloaded);
    let mut slice = config.client.clone();
    slice.window = config.recovery_slice;
    let recovered = loop {
        match slice.measure(target) {
            Ok(s) if s.p99_ms.is_some_and(|p| p <= target_p99) && s.success_rate() >= 0.999 => {
                break Some(stopped.elapsed());
            }
            _ if stopped.elapsed() >= config.recovery_limit => break None,
            _ => {}
        }
    };
    judge(
        result, config, &unloaded, &sustained, rate, &overload, &probes, recovered,
    )
}

#[allow(clippy::too_many_arguments)]
fn judge(
    mut result: CheckResult,
    config: &Config,
    unloaded: &Sample,
    sustained: &Sample,
    rate: f64,
    overload: &Sample,
    (probes, unanswered): &(Vec<Answer>, usize),
    recovered: Option<Duration>,
) -> CheckResult {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let base = config.client.baseline_p99(unloaded);
    let shed: Vec<&Answer> = probes.iter().filter(|a| a.status == 503).collect();
    let accepted: Vec<f64> = probes
        .iter()
        .filter(|a| a.status < 500)
        .map(|a| ms(a.after))
        .collect();
    let shed_ms: Vec<f64> = shed.iter().map(|a| ms(a.after)).collect();
    let without_retry_after = shed.iter().filter(|a| !a.retry_after).count();
    let accepted_p99 = quantile(&accepted, 0.99);
    let shed_p99 = quantile(&shed_ms, 0.99);
    result.figure("unloaded_p99", unloaded.p99_ms.unwrap_or(f64::NAN), "ms");
    result.figure("sustainable_rate", sustained.throughput, "/s");
    result.figure("offered_rate", rate, "/s");
    result.figure("achieved_rate", overload.throughput, "/s");
    result.count("load_503", overload.shed as usize);
    result.figure("load_p99", overload.p99_ms.unwrap_or(f64::NAN), "ms");
    result.count("probes", probes.len() + unanswered);
    result.count("probes_unanswered", *unanswered);
    result.count("probes_accepted", accepted.len());
    result.count("probes_503", shed.len());
    result.count("probes_503_without_retry_after", without_retry_after);
    result.figure("accepted_p99", accepted_p99.unwrap_or(f64::NAN), "ms");
    result.figure("503_p99", shed_p99.unwrap_or(f64::NAN), "ms");
    result.figure(
        "recovery",
        recovered.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        "ms",
    );
    if let Some(short) = &overload.report.shortfall {
        result.details.push(format!(
            "the load generator reached {:.0}% of the offered rate: this client could not drive \
             the server as far beyond its sustainable rate as asked",
            short.percent_of_target
        ));
    }
    let mut failures = Vec::new();
    if overload.shed == 0 && shed.is_empty() {
        failures.push(format!(
            "no 503 at {rate:.0} req/s ({}x the sustainable {:.0}): no bound on queued work \
             was seen (load p99 {:.1} ms vs unloaded {:.2} ms)",
            config.factor,
            sustained.throughput,
            overload.p99_ms.unwrap_or(f64::NAN),
            unloaded.p99_ms.unwrap_or(f64::NAN),
        ));
    }
    if without_retry_after > 0 {
        failures.push(format!("{without_retry_after} 503s without Retry-After"));
    }
    if shed_p99.is_some_and(|p| p > ms(config.max_503)) {
        failures.push(format!(
            "503s came slowly: p99 {:.1} ms > {:?}",
            shed_p99.unwrap_or_default(),
            config.max_503
        ));
    }
    match accepted_p99 {
        Some(p) if p > config.max_accepted_ratio * base => failures.push(format!(
            "accepted requests' p99 {p:.1} ms > {}x the unloaded {base:.2} ms",
            config.max_accepted_ratio
        )),
        None if shed.is_empty() => failures.push("no probe was answered".into()),
        _ => {}
    }
    if recovered.is_none() {
        failures.push(format!(
            "latency not back within {}x the unloaded p99 {:?} after the load stopped",
            config.recovery_ratio, config.recovery_limit
        ));
    }
    result.judge(
        &failures,
        format!(
            "shed {} of the probes with 503 + Retry-After (p99 {:.1} ms), accepted p99 {:.1} ms, \
             recovered in {:.0} ms",
            shed.len(),
            shed_p99.unwrap_or(f64::NAN),
            accepted_p99.unwrap_or(f64::NAN),
            recovered.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        ),
    );
    result
}
