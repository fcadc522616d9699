//! Slow and idle clients: a crowd of connections that send nothing, that send a header byte
//! every interval (slowloris), and that sit idle after one request on a kept-alive connection
//! is held open (reconnecting when the server closes one) while a legitimate client measures
//! the server. Then the crowd stops reconnecting and waits, at most `patience` after its last
//! connect, for the server to close every one of them.
//!
//! Passes when the legitimate client's success rate stays at or above `min_success` and its
//! p99 within `max_p99_ratio` of its baseline, and every slow
//! connection was closed within the patience: the silent and idle ones quietly or with 408,
//! the trickling ones (a partial request was read) with 408.
//!
//! The baseline is measured twice, before the crowd comes and after it is gone, and the lower
//! p99 is the one compared: a burst of other work on the machine during one baseline would
//! otherwise raise the bar and let an attack pass that the quiet baseline shows.

use crate::crowd::{Crowd, Kind, Life};
use crate::legit::Client;
use crate::report::{CheckResult, quantile};
use crate::target::Target;
use std::time::{Duration, Instant};

/// Bounds of the slow-client check.
#[derive(Debug, Clone)]
pub struct Config {
    /// Slow connections held at once, split evenly over the three kinds.
    pub connections: usize,
    /// A trickling connection sends one byte per interval.
    pub interval: Duration,
    /// How long after its connect a slow connection may stay open before it counts as never
    /// closed (the server's timeout is longer, or it has none).
    pub patience: Duration,
    /// Connects in all (first ones and reconnects), so a server with a short timeout does not
    /// turn the crowd into a connect flood.
    pub max_connects: usize,
    /// Opening the crowd stops here even if not all are open (a server whose accept queue is
    /// full makes each connect wait for SYN retries).
    pub open_limit: Duration,
    pub client: Client,
    pub min_success: f64,
    pub max_p99_ratio: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connections: 300,
            interval: Duration::from_secs(1),
            patience: Duration::from_secs(12),
            max_connects: 3000,
            open_limit: Duration::from_secs(10),
            // 1,000 requests per measurement at the client's 200/s, so each p99 is the 10th
            // slowest request: over 2 s it was the 4th slowest of 400, one unlucky burst.
            client: Client {
                window: Duration::from_secs(5),
                ..Client::default()
            },
            min_success: 0.999,
            max_p99_ratio: 2.0,
        }
    }
}

/// After the first interval, before the legitimate client measures (see [`run`]).
const SETTLE: Duration = Duration::from_millis(500);

const KINDS: [(Kind, &str); 3] = [
    (Kind::Silent, "silent"),
    (Kind::Trickle, "trickle"),
    (Kind::Idle, "idle"),
];

pub fn run(target: &Target, config: &Config, progress: &dyn Fn(String)) -> CheckResult {
    let result = CheckResult::new("slow");
    progress("slow: baseline of the legitimate client".into());
    let baseline = match config.client.measure(target) {
        Ok(s) => s,
        Err(e) => return result.skip(format!("the baseline load run failed: {e}")),
    };
    if let Err(e) = clab_load::ensure_fd_limit(config.connections) {
        return result.skip(e.to_string());
    }
    progress(format!(
        "slow: opening {} slow connections",
        config.connections
    ));
    let mut crowd = Crowd::new(target, config.interval);
    let opening = Instant::now();
    for i in 0..config.connections {
        if opening.elapsed() > config.open_limit {
            break;
        }
        crowd.join(KINDS[i % KINDS.len()].0);
    }
    // Held for one interval and a settle before the measurement: each trickling connection's
    // first byte is due at its own phase within the first interval, and servers that defer
    // accepts until data arrives (the thread models) only then take it in (thread-per-request
    // spawns its thread then). The check measures the crowd held, not its arrival: a thousand
    // connections arriving within a second is load, the overload check's concern.
    let settled = Instant::now() + config.interval + SETTLE;
    while Instant::now() < settled {
        crowd.hold(Duration::from_millis(100), true, config.max_connects);
    }
    let peak = crowd.open(None);
    progress("slow: legitimate client among the slow ones".into());
    let attacked = std::thread::scope(|scope| {
        let load = scope.spawn(|| config.client.measure(target));
        while !load.is_finished() {
            crowd.hold(Duration::from_millis(100), true, config.max_connects);
        }
        load.join()
    });
    let attacked = match attacked {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return result.skip(format!("the load run among slow clients failed: {e}")),
        Err(_) => return result.skip("the load thread panicked"),
    };
    progress(format!(
        "slow: waiting up to {:?} for the server to close the slow connections",
        config.patience
    ));
    let last_connect = Instant::now();
    while crowd.open(None) > 0 && last_connect.elapsed() < config.patience {
        crowd.hold(Duration::from_millis(100), false, 0);
    }
    let (connects, connect_failures) = (crowd.connects, crowd.connect_failures);
    let lives = crowd.dismiss();
    progress("slow: baseline again, the crowd gone".into());
    let after = match config.client.measure(target) {
        Ok(s) => s,
        Err(e) => return result.skip(format!("the second baseline load run failed: {e}")),
    };
    judge(
        result,
        config,
        [&baseline, &after],
        &attacked,
        &lives,
        peak,
        connects,
        connect_failures,
    )
}

#[allow(clippy::too_many_arguments)]
fn judge(
    mut result: CheckResult,
    config: &Config,
    baselines: [&crate::legit::Sample; 2],
    attacked: &crate::legit::Sample,
    lives: &[Life],
    peak: usize,
    connects: usize,
    connect_failures: usize,
) -> CheckResult {
    let mut failures = Vec::new();
    let [before, after] = baselines;
    let base_p99 = config
        .client
        .baseline_p99(before)
        .min(config.client.baseline_p99(after));
    let p99 = attacked.p99_ms.unwrap_or(f64::INFINITY);
    let success = attacked.success_rate();
    let measured = |s: &crate::legit::Sample| s.p99_ms.unwrap_or(f64::NAN);
    result.figure("baseline_p99", measured(before).min(measured(after)), "ms");
    result.figure("baseline_before_p99", measured(before), "ms");
    result.figure("baseline_after_p99", measured(after), "ms");
    result.figure("attacked_p99", p99, "ms");
    result.figure("p99_ratio", p99 / base_p99, "x");
    result.figure("success_rate", success * 100.0, "%");
    result.count("legit_requests", attacked.requests as usize);
    result.count("slow_open_peak", peak);
    result.count("slow_connects", connects);
    result.count("connect_failures", connect_failures);
    if success < config.min_success {
        failures.push(format!(
            "legitimate success rate {:.2}% < {:.1}%",
            success * 100.0,
            config.min_success * 100.0
        ));
    }
    if p99 > config.max_p99_ratio * base_p99 {
        failures.push(format!(
            "legitimate p99 {p99:.2} ms > {}x the baseline {base_p99:.2} ms",
            config.max_p99_ratio
        ));
    }
    for (kind, name) in KINDS {
        let of_kind: Vec<&Life> = lives.iter().filter(|l| l.kind == kind).collect();
        let closed: Vec<&&Life> = of_kind.iter().filter(|l| l.closed).collect();
        let still_open = of_kind.len() - closed.len();
        // What the server sent after the request it answered (an idle connection's first).
        let after = |l: &Life| -> Vec<u16> {
            let skip = usize::from(kind == Kind::Idle);
            l.answers.iter().skip(skip).copied().collect()
        };
        let with_408 = of_kind.iter().filter(|l| after(l) == [408]).count();
        let wrong = of_kind
            .iter()
            .filter(|l| {
                let a = after(l);
                !(a.is_empty() || a == [408]) || (kind == Kind::Idle && l.answers.is_empty())
            })
            .count();
        let lived: Vec<f64> = closed
            .iter()
            .map(|l| l.lived.as_secs_f64() * 1000.0)
            .collect();
        result.count(format!("{name}_closed"), closed.len());
        result.count(format!("{name}_still_open"), still_open);
        result.count(format!("{name}_408"), with_408);
        result.figure(
            format!("{name}_closed_after_p50"),
            quantile(&lived, 0.5).unwrap_or(f64::NAN),
            "ms",
        );
        result.figure(
            format!("{name}_closed_after_max"),
            quantile(&lived, 1.0).unwrap_or(f64::NAN),
            "ms",
        );
        if still_open > 0 {
            failures.push(format!(
                "{still_open} {name} connections still open {:?} after their connect (the \
                 server's timeout is longer, or it has none)",
                config.patience
            ));
        }
        if kind == Kind::Trickle && with_408 < closed.len() {
            failures.push(format!(
                "{} trickling connections closed without a 408",
                closed.len() - with_408
            ));
        }
        if wrong > 0 {
            failures.push(format!(
                "{wrong} {name} connections got an unexpected answer"
            ));
        }
    }
    result.figure("patience", config.patience.as_secs_f64() * 1000.0, "ms");
    result.judge(
        &failures,
        format!(
            "legitimate client unaffected by {peak} slow connections ({:.2}% ok, p99 {p99:.2} ms \
             vs {base_p99:.2} ms); every slow connection closed in time",
            success * 100.0
        ),
    );
    result
}
