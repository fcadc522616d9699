//! Malformed input over a socket: the codec's corpus of valid requests
//! (`clab_http::corpus::{VALID, MORE_VALID}`), often as a pipelined pair, mutated by the fuzz
//! harness's own seeded `mutate`, each sent on a fresh connection. Between batches a
//! well-formed probe checks the server still answers (no crash, no hang). Each case must
//! respect the framing rule: once the server rejects a request (a status that means it could
//! not frame it: 400, 408, 413, 414, 431, 505) it sends nothing more, and after a 400 it
//! closes the connection.

use crate::report::CheckResult;
use crate::target::Target;
use crate::wire::{End, Exchange, exchange, parallel, probe};
use clab_http::corpus::{MORE_VALID, VALID, XorShift, mutate};
use std::time::Duration;

/// Bounds of the malformed-input check.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mutated inputs sent, one connection each.
    pub cases: usize,
    /// The mutation seed: the same seed sends the same bytes, so a failure reproduces.
    pub seed: u64,
    /// How long one case waits for answers and the close.
    pub wait: Duration,
    /// Cases in flight at once.
    pub parallel: usize,
    /// A liveness probe after every this many cases.
    pub probe_every: usize,
    /// How long a liveness probe may take before the server counts as hung.
    pub probe_wait: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cases: 400,
            seed: 0x2545_f491_4f6c_dd1d,
            wait: Duration::from_millis(500),
            parallel: 16,
            probe_every: 100,
            probe_wait: Duration::from_secs(2),
        }
    }
}

/// Statuses that say the server could not frame the request, so nothing it sends after them
/// can be trusted to belong to a request the client meant.
const REJECTIONS: &[u16] = &[400, 408, 413, 414, 431, 505];

/// The inputs of a run: deterministic in `seed`.
pub fn cases(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut rng = XorShift(seed);
    let corpus: Vec<&[u8]> = VALID.iter().chain(MORE_VALID).copied().collect();
    (0..n)
        .map(|_| {
            let mut buf = rng.pick(&corpus).to_vec();
            if rng.below(3) == 0 {
                let next = rng.pick(&corpus);
                buf.extend_from_slice(next);
            }
            mutate(&mut rng, &mut buf);
            buf
        })
        .collect()
}

/// The framing rule broken by one exchange, if any.
fn violation(x: &Exchange) -> Option<String> {
    if let End::Garbage(why) = &x.end {
        return Some(why.clone());
    }
    let statuses = x.statuses();
    let rejected = statuses.iter().position(|s| REJECTIONS.contains(s));
    match rejected {
        Some(i) if i + 1 < statuses.len() => Some(format!(
            "answered {statuses:?}: a response after rejecting with {}",
            statuses[i]
        )),
        Some(i) if statuses[i] == 400 && !x.end.is_closed() => Some(format!(
            "answered {statuses:?} and left the connection open {:?} after the 400",
            x.ended_after
        )),
        _ => None,
    }
}

pub fn run(target: &Target, config: &Config, progress: &dyn Fn(String)) -> CheckResult {
    let mut result = CheckResult::new("malformed");
    let inputs = cases(config.seed, config.cases);
    let (mut sent, mut answered, mut rejected, mut server_errors) = (0, 0, 0, 0);
    let (mut no_answer, mut silent, mut violations, mut connect_failed) = (0, 0, 0, 0);
    let (mut probes, mut probes_failed) = (0, 0);
    let mut slowest_probe = Duration::ZERO;
    let mut failures = Vec::new();
    for (batch_no, batch) in inputs.chunks(config.probe_every.max(1)).enumerate() {
        progress(format!("malformed: cases {}..{}", sent, sent + batch.len()));
        let exchanges = parallel(batch, config.parallel, |raw| {
            exchange(target.addr, raw, config.wait)
        });
        for (i, x) in exchanges.iter().enumerate() {
            let case = sent + i;
            let Ok(x) = x else {
                connect_failed += 1;
                continue;
            };
            let statuses = x.statuses();
            answered += usize::from(!statuses.is_empty());
            rejected += usize::from(statuses.iter().any(|s| REJECTIONS.contains(s)));
            server_errors +=
                usize::from(statuses.iter().any(|&s| s >= 500 && s != 503 && s != 505));
            no_answer += usize::from(statuses.is_empty() && x.end == End::Open);
            silent += usize::from(statuses.is_empty() && x.end.is_closed());
            if let Some(why) = violation(x) {
                violations += 1;
                result.details.push(format!(
                    "case {case} (seed {:#x}) {:?}: {why}",
                    config.seed,
                    String::from_utf8_lossy(&batch[i])
                ));
            }
        }
        sent += batch.len();
        probes += 1;
        match probe(target, config.probe_wait) {
            Some(a) => slowest_probe = slowest_probe.max(a.after),
            None => {
                probes_failed += 1;
                failures.push(format!(
                    "the server stopped answering a well-formed request after case {} \
                     (batch {batch_no}): no answer within {:?}",
                    sent - 1,
                    config.probe_wait
                ));
                break;
            }
        }
    }
    result.count("cases", sent);
    result.count("answered", answered);
    result.count("rejected", rejected);
    result.count("no_answer_in_wait", no_answer);
    result.count("closed_silently", silent);
    result.count("server_errors_5xx", server_errors);
    result.count("connect_failed", connect_failed);
    result.count("framing_violations", violations);
    result.count("probes", probes);
    result.count("probes_failed", probes_failed);
    result.figure("slowest_probe", slowest_probe.as_secs_f64() * 1000.0, "ms");
    if violations > 0 {
        failures.push(format!(
            "{violations} of {sent} cases broke the framing rule (answered after a rejection, or \
             no close after a 400)"
        ));
    }
    if connect_failed > 0 {
        failures.push(format!("{connect_failed} cases could not connect"));
    }
    result.judge(
        &failures,
        format!(
            "{sent} mutated inputs: the server kept answering, never answered after a rejection, \
             closed after every 400"
        ),
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_framing_rule() {
        assert_eq!(violation(&Exchange::of(&[200, 404], End::Open)), None);
        assert_eq!(violation(&Exchange::of(&[200, 400], End::Closed)), None);
        assert_eq!(violation(&Exchange::of(&[431], End::Closed)), None);
        assert_eq!(violation(&Exchange::of(&[], End::Open)), None);
        assert!(violation(&Exchange::of(&[400], End::Open)).is_some());
        assert!(violation(&Exchange::of(&[400, 200], End::Closed)).is_some());
        assert!(violation(&Exchange::of(&[413, 200], End::Closed)).is_some());
        assert!(violation(&Exchange::of(&[200], End::Garbage("junk".into()))).is_some());
    }

    #[test]
    fn cases_are_deterministic_in_the_seed() {
        assert_eq!(cases(7, 20), cases(7, 20));
        assert_ne!(cases(7, 20), cases(8, 20));
    }
}
