//! C22: epoll finds ready sockets in O(1) per event, so idle connections cost nothing per
//! request. Two identical `event-loop` servers, one holding N idle keep-alive connections,
//! loaded in interleaved rounds.

use super::idle::idle_connections;
use super::loadgen::load;
use crate::tour::{
    Axis, Chart, ChildServer, Context, Experiment, Figure, Meta, Verdict, VerdictKind,
};

/// Idle connections: `--quick` and full.
const IDLE: (usize, usize) = (2_000, 10_000);
/// Interleaved rounds and seconds per round.
const ROUNDS: (usize, usize) = (2, 5);
const SECONDS: (usize, usize) = (2, 3);
/// Holds when idle connections change the server's CPU per request by at most this factor
/// and its p99 by at most `P99_AT`; differs up to `DIFFERS_AT` in CPU.
const HOLDS_AT: f64 = 1.25;
const P99_AT: f64 = 1.5;
const DIFFERS_AT: f64 = 1.6;

pub(super) struct C22Claim;

pub(super) static C22: C22Claim = C22Claim;

/// One round's figures: server CPU µs per request, p99 ms, req/s.
type Round = (f64, f64, f64);

/// One round on `server`.
fn round(server: &ChildServer, secs: usize) -> Result<Round, String> {
    let before = server.sample()?;
    let report = load(
        &server.url("/plaintext"),
        clab_load::Mode::Closed { connections: 16 },
        secs,
    )?;
    let after = server.sample()?;
    if report.responses == 0 {
        return Err("no responses".into());
    }
    // The warm-up's requests also cost CPU: count them by the time share (0.5 s of the run).
    let total = report.responses as f64 * (secs as f64 + 0.5) / secs as f64;
    let cpu_us = (after.cpu_s - before.cpu_s) * 1e6 / total;
    let p99 = report.latency_uncorrected_ms.map_or(f64::NAN, |l| l.p99);
    Ok((cpu_us, p99, report.throughput))
}

/// `what` (e.g. "p99") without and with `n` idle connections, titled with their `ratio`.
fn side_by_side(figures: &[Figure], n: usize, what: &str, unit: &str, ratio: &str) -> Chart {
    let names = [
        format!("{what}, no idle connections"),
        format!("{what}, {n} idle connections"),
    ];
    let ratio = Figure::find(figures, ratio).unwrap_or(f64::NAN);
    Chart::bars(
        format!("{n} idle connections change {what} by x{ratio:.2} (chapter: nothing)"),
        vec!["0 idle connections".into(), format!("{n} idle connections")],
        Axis::new(what, unit),
    )
    .bar_figures("measured (median, whisker: range)", figures, &names)
}

impl Experiment for C22Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "C22",
            title: "idle connections cost nothing per request",
            claim: "epoll finds ready sockets in O(1) per event, so idle connections cost \
                    nothing per request (§07).",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "Two `clab serve --model event-loop` servers; one holds {} idle keep-alive \
             connections (each answered one `GET /plaintext`). `clab load` closed loop, 16 \
             connections, `GET /plaintext`, {} interleaved rounds of {} s per server; the \
             server's CPU per request from /proc/<pid>/stat, p99 from the load report. Client \
             and servers share this machine's cores.",
            ctx.size(IDLE),
            ctx.size(ROUNDS),
            ctx.size(SECONDS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let n = ctx.size(IDLE);
        let args = ["--model", "event-loop", "--latency", "none"];
        let (bare, busy) = (ctx.server(&args)?, ctx.server(&args)?);
        progress.start(1 + 2 * ctx.size(ROUNDS) as u64);
        progress.step(&format!("opening {n} idle connections"));
        let idle = idle_connections(ctx, &busy, n)?;
        let n = idle.len();
        let rss_idle = busy.sample()?.rss_bytes as f64 - bare.sample()?.rss_bytes as f64;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for r in 0..ctx.size(ROUNDS) {
            // Alternate which goes first, so neither always meets the machine's same mood.
            let order: [(&ChildServer, &mut Vec<Round>); 2] = if r % 2 == 0 {
                [(&bare, &mut a), (&busy, &mut b)]
            } else {
                [(&busy, &mut b), (&bare, &mut a)]
            };
            for (server, out) in order {
                progress.step(&format!("round {}", r + 1));
                out.push(round(server, ctx.size(SECONDS))?);
            }
        }
        drop(idle);
        let col =
            |v: &[Round], i: usize| -> Vec<f64> { v.iter().map(|t| [t.0, t.1, t.2][i]).collect() };
        let fig = |name: &str, v: Vec<f64>, unit: &str| Figure::summary(name, &v, unit);
        let cpu_ratio: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y.0 / x.0).collect();
        let p99_ratio: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y.1 / x.1).collect();
        let figures = vec![
            fig("CPU per request ratio, idle / none", cpu_ratio, "ratio")
                .claimed("1 (nothing per request)")
                .note("per round, the two servers seconds apart"),
            fig("p99 ratio, idle / none", p99_ratio, "ratio").claimed("1"),
            fig(
                "server CPU per request, no idle connections",
                col(&a, 0),
                "µs",
            ),
            fig(
                &format!("server CPU per request, {n} idle connections"),
                col(&b, 0),
                "µs",
            ),
            fig("p99, no idle connections", col(&a, 1), "ms"),
            fig(&format!("p99, {n} idle connections"), col(&b, 1), "ms"),
            fig("throughput, no idle connections", col(&a, 2), "req/s"),
            fig(
                &format!("throughput, {n} idle connections"),
                col(&b, 2),
                "req/s",
            ),
            Figure::new(
                "memory of the idle connections, per connection",
                rss_idle / n as f64,
                "bytes",
            )
            .note("RSS of the busy server minus the bare one: what idling does cost"),
        ];
        ctx.chart(side_by_side(
            &figures,
            n,
            "server CPU per request",
            "µs",
            "CPU per request ratio, idle / none",
        ));
        ctx.chart(side_by_side(
            &figures,
            n,
            "p99",
            "ms",
            "p99 ratio, idle / none",
        ));
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let (Some(cpu), Some(p99)) = (
            Figure::find(figures, "CPU per request ratio, idle / none"),
            Figure::find(figures, "p99 ratio, idle / none"),
        ) else {
            return Verdict::new(VerdictKind::Inconclusive, "the ratios were not measured");
        };
        let numbers = format!(
            "with the idle connections, CPU per request x{cpu:.2} and p99 x{p99:.2}; holds at \
             CPU <= x{HOLDS_AT} and p99 <= x{P99_AT}, differs up to CPU x{DIFFERS_AT}"
        );
        if cpu <= HOLDS_AT && p99 <= P99_AT {
            Verdict::new(VerdictKind::Holds, numbers)
        } else if cpu <= DIFFERS_AT {
            Verdict::new(VerdictKind::HoldsWithDifference, numbers)
        } else {
            Verdict::new(VerdictKind::DoesNotHold, numbers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(cpu: f64, p99: f64) -> Vec<Figure> {
        vec![
            Figure::new("CPU per request ratio, idle / none", cpu, "ratio"),
            Figure::new("p99 ratio, idle / none", p99, "ratio"),
        ]
    }

    #[test]
    fn flat_costs_hold_and_growing_ones_do_not() {
        assert_eq!(C22.judge(&figs(1.03, 1.1)).kind, VerdictKind::Holds);
        assert_eq!(
            C22.judge(&figs(1.4, 2.0)).kind,
            VerdictKind::HoldsWithDifference
        );
        assert_eq!(C22.judge(&figs(3.0, 5.0)).kind, VerdictKind::DoesNotHold);
        assert_eq!(
            C22.judge(&figs(1.0, 1.0)[..1]).kind,
            VerdictKind::Inconclusive
        );
    }
}
