//! B02: a closed-loop load test hides queueing delay (coordinated omission); an open-loop test
//! at a fixed rate shows it. The same stalling server, measured both ways with `clab load`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::loadgen::load;
use crate::tour::server::get;
use crate::tour::{
    Axis, Chart, Context, Experiment, Figure, Mark, Meta, Point, Verdict, VerdictKind,
};

/// The stall: `/cpu?ms=STALL_MS` on the loop of a one-thread server with CPU work inline,
/// once every `STALL_EVERY`.
const STALL_MS: u64 = 300;
const STALL_EVERY: Duration = Duration::from_secs(1);
/// Seconds per load run and rounds (each a closed then an open loop): `--quick` and full.
const SECONDS: (usize, usize) = (2, 5);
const ROUNDS: (usize, usize) = (2, 3);
/// The open loop runs at this fraction of what the closed loop achieved (stalls included), so
/// the rate is one the server sustains on average.
const RATE_FRACTION: f64 = 0.5;
/// Holds when the open loop's corrected p99 shows at least half the stall and the closed
/// loop's p99 is under a fifth of it.
const SHOWS: f64 = 0.5;
const HIDES: f64 = 0.2;

pub(super) struct B02Claim;

pub(super) static B02: B02Claim = B02Claim;

/// One round: the closed loop, the open loop's rate, the open loop.
type Round = (clab_load::Report, f64, clab_load::Report);

/// The closed loop, then the open loop at a rate it sustained on average.
fn both_loops(url: &str, secs: usize) -> Result<Round, String> {
    let closed = load(url, clab_load::Mode::Closed { connections: 8 }, secs)?;
    let rate = (closed.throughput * RATE_FRACTION).max(100.0);
    let open = load(
        url,
        clab_load::Mode::Open {
            rate,
            connections: 32,
        },
        secs,
    )?;
    Ok((closed, rate, open))
}

/// Per-second p99 of the last round: the closed loop's, and the open loop's from the intended
/// and from the actual send.
fn over_time(figures: &[Figure], closed: &clab_load::Report, open: &clab_load::Report) -> Chart {
    let line = |r: &clab_load::Report, f: fn(&clab_load::TimelineSecond) -> Option<f64>| {
        // Only whole seconds of the measured window: the last bucket holds a few stragglers.
        r.timeline
            .iter()
            .filter(|s| (s.second + 1) as f64 <= r.elapsed_s + 0.05)
            .filter_map(|s| f(s).map(|v| Point::new(s.second as f64 + 1.0, v)))
            .collect::<Vec<_>>()
    };
    let get = |name: &str| Figure::find(figures, name).unwrap_or(f64::NAN);
    Chart::lines(
        format!(
            "{STALL_MS} ms stalls: the open loop's corrected p99 shows {:.0} ms, the closed loop \
             reports {:.1} ms",
            get("open loop p99, corrected"),
            get("closed loop p99")
        ),
        Axis::new("second of the run", "s"),
        Axis::new("p99 latency in that second", "ms").log(),
    )
    .series(
        "open loop, corrected (from the intended send)",
        Mark::Line,
        line(open, |s| s.p99_ms),
    )
    .series(
        "open loop, uncorrected (from the actual send)",
        Mark::Line,
        line(open, |s| s.p99_uncorrected_ms),
    )
    .series(
        "closed loop (8 connections)",
        Mark::Line,
        line(closed, |s| s.p99_ms),
    )
    .series(
        "the stall",
        Mark::Dashed,
        vec![
            Point::new(1.0, STALL_MS as f64),
            Point::new(
                closed.timeline.len().max(open.timeline.len()).max(2) as f64,
                STALL_MS as f64,
            ),
        ],
    )
}

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
             time (corrected) and from the actual send (uncorrected); {} rounds (figures: median \
             and range). Client and server share this machine's cores.",
            STALL_EVERY.as_secs(),
            ctx.size(SECONDS),
            RATE_FRACTION * 100.0,
            ctx.size(ROUNDS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
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
        let (secs, rounds) = (ctx.size(SECONDS), ctx.size(ROUNDS));
        let url = server.url("/plaintext");
        progress.start(rounds as u64);
        let measured = (0..rounds)
            .map(|r| {
                progress.step(&format!("round {}: closed, then open loop", r + 1));
                both_loops(&url, secs)
            })
            .collect::<Result<Vec<_>, String>>();
        stop.store(true, Ordering::Relaxed);
        let _ = staller.join();
        let measured = measured?;
        let p99 = |l: &Option<clab_load::Latency>| l.as_ref().map_or(f64::NAN, |l| l.p99);
        let column = |f: &dyn Fn(&Round) -> f64| -> Vec<f64> { measured.iter().map(f).collect() };
        let (closed, rate, open) = measured.last().ok_or("no round ran")?;
        // The key figure first: the summary table shows it.
        let figures = vec![
            Figure::summary(
                "open loop p99, corrected",
                &column(&|r| p99(&r.2.latency_corrected_ms)),
                "ms",
            )
            .note(format!(
                "last round: target {rate:.0} req/s, achieved {:.0}; {} not sent",
                open.throughput, open.errors.not_sent
            )),
            Figure::summary(
                "closed loop p99",
                &column(&|r| p99(&r.0.latency_uncorrected_ms)),
                "ms",
            )
            .note(format!(
                "last round: {:.0} req/s, 8 connections",
                closed.throughput
            )),
            Figure::summary(
                "open loop p99, uncorrected",
                &column(&|r| p99(&r.2.latency_uncorrected_ms)),
                "ms",
            )
            .note("from the actual send: what a closed-loop tool reports"),
            latency_fig(
                "stall",
                STALL_MS as f64,
                "the server's loop frozen this long, once a second",
            ),
        ];
        ctx.chart(over_time(&figures, closed, open));
        Ok(figures)
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
