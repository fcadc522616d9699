//! B02: a closed-loop load test hides queueing delay (coordinated omission); an open-loop test
//! at a fixed rate shows it. The same stalling server, measured both ways with `clab load`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::loadgen::load;
use crate::tour::server::get;
use crate::tour::{Context, Experiment, Figure, Meta, Verdict, VerdictKind};

/// The stall: `/cpu?ms=STALL_MS` on the loop of a one-thread server with CPU work inline,
/// once every `STALL_EVERY`.
const STALL_MS: u64 = 300;
const STALL_EVERY: Duration = Duration::from_secs(1);
/// Seconds per load run: `--quick` and full.
const SECONDS: (usize, usize) = (3, 10);
/// The open loop runs at this fraction of what the closed loop achieved (stalls included), so
/// the rate is one the server sustains on average.
const RATE_FRACTION: f64 = 0.5;
/// Holds when the open loop's corrected p99 shows at least half the stall and the closed
/// loop's p99 is under a fifth of it.
const SHOWS: f64 = 0.5;
const HIDES: f64 = 0.2;

pub(super) struct B02Claim;

pub(super) static B02: B02Claim = B02Claim;

fn latency_fig(name: &str, ms: f64, note: &str) -> Figure {
    Figure::new(name, ms, "ms").note(note)
}

impl Experiment for B02Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "B02",
            title: "closed loop hides queueing, open loop shows it",
            claim: "A closed-loop load test hides queueing delay (coordinated omission); an \
                    open-loop test at a fixed rate shows it.",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "`clab serve --model async-single --cpu-policy inline`, stalled for {STALL_MS} ms \
             every {} s by a `/cpu?ms={STALL_MS}` request (CPU work on the loop freezes it). \
             `GET /plaintext` for {} s each: closed loop, 8 connections; then open loop at {:.0}% \
             of the closed loop's throughput over 32 connections, latency from the intended send \
             time (corrected) and from the actual send (uncorrected). Client and server share \
             this machine's cores.",
            STALL_EVERY.as_secs(),
            ctx.size(SECONDS),
            RATE_FRACTION * 100.0
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        _: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let server = ctx.server(&[
            "--model",
            "async-single",
            "--cpu-policy",
            "inline",
            "--latency",
            "none",
        ])?;
        let stop = Arc::new(AtomicBool::new(false));
        let staller = {
            let (stop, addr) = (Arc::clone(&stop), server.addr);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = get(addr, &format!("/cpu?ms={STALL_MS}"));
                    std::thread::sleep(STALL_EVERY.saturating_sub(Duration::from_millis(STALL_MS)));
                }
            })
        };
        let secs = ctx.size(SECONDS);
        let url = server.url("/plaintext");
        let closed = load(&url, clab_load::Mode::Closed { connections: 8 }, secs);
        let open = closed.as_ref().ok().map(|c| {
            let rate = (c.throughput * RATE_FRACTION).max(100.0);
            load(
                &url,
                clab_load::Mode::Open {
                    rate,
                    connections: 32,
                },
                secs,
            )
            .map(|r| (rate, r))
        });
        stop.store(true, Ordering::Relaxed);
        let _ = staller.join();
        let closed = closed?;
        let (rate, open) = open.ok_or("the closed loop did not run")??;
        let p99 = |l: &Option<clab_load::Latency>| l.as_ref().map_or(f64::NAN, |l| l.p99);
        Ok(vec![
            latency_fig(
                "stall",
                STALL_MS as f64,
                "the server's loop frozen this long, once a second",
            ),
            latency_fig(
                "closed loop p99",
                p99(&closed.latency_uncorrected_ms),
                &format!("{:.0} req/s, 8 connections", closed.throughput),
            ),
            latency_fig(
                "open loop p99, corrected",
                p99(&open.latency_corrected_ms),
                &format!(
                    "target {rate:.0} req/s, achieved {:.0}; {} not sent",
                    open.throughput, open.errors.not_sent
                ),
            ),
            latency_fig(
                "open loop p99, uncorrected",
                p99(&open.latency_uncorrected_ms),
                "from the actual send: what a closed-loop tool reports",
            ),
        ])
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let get = |name: &str| Figure::find(figures, name);
        let (Some(stall), Some(closed), Some(open)) = (
            get("stall"),
            get("closed loop p99"),
            get("open loop p99, corrected"),
        ) else {
            return Verdict::new(VerdictKind::Inconclusive, "a run is missing");
        };
        let numbers = format!(
            "{stall:.0} ms stalls: closed-loop p99 {closed:.1} ms, open-loop corrected p99 \
             {open:.1} ms; holds when the open loop shows >= {:.0}% of the stall and the closed \
             loop < {:.0}%",
            SHOWS * 100.0,
            HIDES * 100.0
        );
        if open >= SHOWS * stall && closed < HIDES * stall {
            Verdict::new(VerdictKind::Holds, numbers)
        } else if open > closed * 2.0 {
            Verdict::new(VerdictKind::HoldsWithDifference, numbers)
        } else {
            Verdict::new(VerdictKind::DoesNotHold, numbers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(closed: f64, open: f64) -> Vec<Figure> {
        vec![
            latency_fig("stall", 300.0, ""),
            latency_fig("closed loop p99", closed, ""),
            latency_fig("open loop p99, corrected", open, ""),
        ]
    }

    #[test]
    fn a_hidden_stall_holds_and_a_visible_one_in_both_does_not() {
        assert_eq!(B02.judge(&figs(2.0, 280.0)).kind, VerdictKind::Holds);
        assert_eq!(
            B02.judge(&figs(250.0, 280.0)).kind,
            VerdictKind::DoesNotHold
        );
        assert_eq!(
            B02.judge(&figs(2.0, 60.0)).kind,
            VerdictKind::HoldsWithDifference
        );
        assert_eq!(
            B02.judge(&figs(2.0, 60.0)[..2]).kind,
            VerdictKind::Inconclusive
        );
    }
}
