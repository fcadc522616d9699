//! C02: where the database lives sets the wait (§02's table: localhost 1–2 ms, same region
//! 20–30 ms, cross-region 90–100 ms).

use super::dashboard;
use crate::tour::{Context, Experiment, Figure, Meta, Verdict, VerdictKind};

/// The chapter's table: profile name, low and high ms.
const PROFILES: [(&str, f64, f64); 3] = [
    ("localhost", 1.0, 2.0),
    ("same-region", 20.0, 30.0),
    ("cross-region", 90.0, 100.0),
];

/// A timer wakes a little after its deadline: this much over the top of a range still counts
/// as within it.
const OVERSHOOT_MS: f64 = 0.5;

pub(super) struct C02Claim;

pub(super) static C02: C02Claim = C02Claim;

/// Requests per measurement: `--quick` and full.
const REQUESTS: (usize, usize) = (8, 40);

impl Experiment for C02Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "C02",
            title: "where the database lives sets the wait",
            claim: "Where the database lives sets the wait per query: localhost 1-2 ms, same region 20-30 ms, \
         cross-region 90-100 ms (§02).",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "`clab serve --model async-multi --latency P` for each profile P, {} sequential \
             `GET /users/{{id}}/dashboard` (distinct users: the cache misses), each 5 remote \
             calls; the per-call wait as the handler timed it. The profiles are *simulated* \
             round trips (timers on SQLite in-process): this checks that what a request waits \
             matches the chapter's table, not where a real database is.",
            ctx.size(REQUESTS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let mut figures = Vec::new();
        progress.start(PROFILES.len() as u64);
        for (i, (profile, lo, hi)) in PROFILES.iter().enumerate() {
            progress.step(&format!("--latency {profile}"));
            let server = ctx.server(&["--model", "async-multi", "--latency", profile])?;
            let n = ctx.size(REQUESTS);
            let timings = dashboard::sample(&server, n, 1 + i * n)?;
            let calls: Vec<f64> = timings
                .iter()
                .flat_map(|t| t.calls_us)
                .map(|us| us / 1000.0)
                .collect();
            figures.push(
                Figure::summary(format!("wait per remote call — {profile}"), &calls, "ms")
                    .claimed(format!("{lo}–{hi} ms"))
                    .note(format!("{n} dashboards x 5 calls")),
            );
        }
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let mut off = Vec::new();
        let mut all = Vec::new();
        for (profile, lo, hi) in PROFILES {
            let Some(f) = figures.iter().find(|f| f.name.ends_with(profile)) else {
                return Verdict::new(VerdictKind::Inconclusive, format!("{profile} not measured"));
            };
            let line = format!("{profile} {:.2} ms (chapter {lo}–{hi} ms)", f.value);
            if f.value < lo || f.value > hi + OVERSHOOT_MS {
                off.push(line.clone());
            }
            all.push(line);
        }
        if off.is_empty() {
            Verdict::new(
                VerdictKind::Holds,
                format!(
                    "median waits within the table (+{OVERSHOOT_MS} ms timer overshoot): {}",
                    all.join("; ")
                ),
            )
        } else {
            Verdict::new(
                VerdictKind::DoesNotHold,
                format!(
                    "outside the table (+{OVERSHOOT_MS} ms allowed): {}",
                    off.join("; ")
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(values: [f64; 3]) -> Vec<Figure> {
        PROFILES
            .iter()
            .zip(values)
            .map(|((p, _, _), v)| Figure::new(format!("wait per remote call — {p}"), v, "ms"))
            .collect()
    }

    #[test]
    fn waits_inside_the_table_hold_and_one_outside_does_not() {
        assert_eq!(C02.judge(&figs([1.6, 25.3, 95.1])).kind, VerdictKind::Holds);
        let v = C02.judge(&figs([1.6, 41.0, 95.1]));
        assert_eq!(v.kind, VerdictKind::DoesNotHold);
        assert!(v.reason.contains("same-region 41.00 ms"), "{}", v.reason);
        assert_eq!(
            C02.judge(&figs([1.6, 25.0, 95.0])[..2]).kind,
            VerdictKind::Inconclusive
        );
    }
}
