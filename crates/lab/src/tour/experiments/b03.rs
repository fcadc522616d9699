//! B03: Little's law. Throughput = concurrency / latency; a connection pool of P connections,
//! each held for R per query, caps a service at P/R whatever the load. The same server at
//! pool sizes 1..16, every database call holding its connection for a fixed simulated round
//! trip (`--hold-connection`), loaded far above the pool, against the bound.

use super::loadgen::load;
use crate::tour::{
    Axis, Chart, ChildServer, Context, Experiment, Figure, Mark, Meta, Point, Verdict, VerdictKind,
};

/// Pool sizes: `--quick` runs the first four.
const POOLS: [usize; 5] = [1, 2, 4, 8, 16];
/// The fixed simulated round trip of every remote call, ms.
const ROUND_TRIP_MS: f64 = 20.0;
/// Database calls per `GET /users/{id}` (the user, then their orders: `handlers/users.rs`).
const QUERIES: f64 = 2.0;
/// Closed-loop connections for a pool of `p`: more requests than connections at every moment,
/// so the pool is always what they wait for, but not so many that a run of a few seconds
/// sees only the first wave (latency = connections / throughput).
fn connections(p: usize) -> usize {
    2 * p + 4
}
/// Seconds per run and interleaved rounds: `--quick` and full.
const SECONDS: (usize, usize) = (2, 3);
const ROUNDS: (usize, usize) = (2, 3);
/// Holds when every pool-limited run lands within these fractions of its bound. A run counts
/// as pool-limited when its bound is under `LIMITED` of the uncapped server's throughput
/// (above that, something else caps it first).
const HOLDS_LOW: f64 = 0.85;
const HOLDS_HIGH: f64 = 1.05;
const DIFFERS_LOW: f64 = 0.6;
const LIMITED: f64 = 0.7;

pub(super) struct B03Claim;

pub(super) static B03: B03Claim = B03Claim;

fn pools(ctx: &Context) -> &'static [usize] {
    &POOLS[..ctx.size((4, POOLS.len()))]
}

/// The P/R bound of a pool of `p` in req/s, `r_ms` being how long one request holds a
/// connection: measured alone, `QUERIES` round trips and their queries.
fn bound(p: usize, r_ms: f64) -> f64 {
    p as f64 * 1000.0 / r_ms
}

const ALONE: &str = "R: one request alone (its connection holds)";

fn measured(p: usize) -> String {
    format!("throughput, pool of {p}")
}

const UNCAPPED: &str = "throughput, round trips outside the pool (no cap)";
const LOWEST: &str = "lowest throughput as a share of P/R";

/// The R of the figures, or the simulated round trips alone when it was not measured.
fn r_ms(figures: &[Figure]) -> f64 {
    Figure::find(figures, ALONE).unwrap_or(QUERIES * ROUND_TRIP_MS)
}

impl Experiment for B03Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "B03",
            title: "a pool of P with round trip R caps throughput at P/R",
            claim: "Little's law: throughput = concurrency / latency; a connection pool of P \
                    with round-trip R caps a service at P/R.",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "`clab serve --model async-multi --latency {ROUND_TRIP_MS} --hold-connection \
             --pool-size P` for P in {:?}: every database call holds one of P connections for \
             its simulated {ROUND_TRIP_MS} ms round trip and its query, as a real query in \
             flight does; `GET /users/{{id}}` makes {QUERIES} such calls. R, how long one \
             request holds connections, is its mean latency alone (concurrency 1, pool of 1); \
             the bound is P/R. `clab load` closed loop at 2P+4 connections (the pool always \
             has waiters), {} s per run, {} interleaved rounds; beside them the same server \
             without --hold-connection (round trips outside the pool) at the largest pool's \
             concurrency, for what caps it otherwise. The round trip is simulated (a timer).",
            pools(ctx),
            ctx.size(SECONDS),
            ctx.size(ROUNDS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let rt = ROUND_TRIP_MS.to_string();
        let server = |pool: usize, hold: bool| -> Result<ChildServer, String> {
            let pool = pool.to_string();
            let mut args = vec![
                "--model",
                "async-multi",
                "--latency",
                &rt,
                "--pool-size",
                &pool,
            ];
            if hold {
                args.push("--hold-connection");
            }
            ctx.server(&args)
        };
        let mut servers = pools(ctx)
            .iter()
            .map(|&p| server(p, true))
            .collect::<Result<Vec<_>, _>>()?;
        servers.push(server(*POOLS.last().unwrap_or(&16), false)?);
        let (secs, rounds) = (ctx.size(SECONDS), ctx.size(ROUNDS));
        let url = |s: &ChildServer| s.url("/users/7");
        progress.start(1 + (rounds * servers.len()) as u64);
        progress.step("R: one request alone");
        let alone = load(
            &url(&servers[0]),
            clab_load::Mode::Closed { connections: 1 },
            secs,
        )?
        .latency_uncorrected_ms
        .map_or(f64::NAN, |l| l.mean);
        let mut concurrency: Vec<usize> = pools(ctx).iter().map(|&p| connections(p)).collect();
        concurrency.push(connections(*pools(ctx).last().unwrap_or(&1)));
        let mut runs = vec![Vec::new(); servers.len()];
        for _ in 0..rounds {
            for ((s, out), &c) in servers.iter().zip(&mut runs).zip(&concurrency) {
                progress.step(&format!("{c} connections"));
                let r = load(&url(s), clab_load::Mode::Closed { connections: c }, secs)?;
                out.push(r.throughput);
            }
        }
        drop(servers);
        let mut figures: Vec<Figure> = pools(ctx)
            .iter()
            .zip(&runs)
            .map(|(&p, v)| {
                Figure::summary(measured(p), v, "req/s")
                    .claimed(format!("P/R = {:.0} req/s", bound(p, alone)))
                    .note(format!("{} connections", connections(p)))
            })
            .collect();
        figures.push(Figure::new(ALONE, alone, "ms").note(format!(
            "mean latency at concurrency 1: {QUERIES} simulated {ROUND_TRIP_MS} ms round \
                 trips and their queries"
        )));
        if let Some(v) = runs.last() {
            figures.push(Figure::summary(UNCAPPED, v, "req/s"));
        }
        // The key figure first (the summary table shows it): the pool furthest from its bound.
        let worst = pools(ctx)
            .iter()
            .filter_map(|&p| {
                Figure::find(&figures, &measured(p)).map(|t| 100.0 * t / bound(p, alone))
            })
            .fold(f64::INFINITY, f64::min);
        figures.insert(
            0,
            Figure::new(LOWEST, worst, "%").note("over the pool sizes, medians of the rounds"),
        );
        ctx.chart(chart(&figures, pools(ctx)));
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let uncapped = Figure::find(figures, UNCAPPED).unwrap_or(f64::INFINITY);
        let r = r_ms(figures);
        let limited: Vec<(usize, f64)> = POOLS
            .iter()
            .filter(|&&p| bound(p, r) < LIMITED * uncapped)
            .filter_map(|&p| Figure::find(figures, &measured(p)).map(|t| (p, t / bound(p, r))))
            .collect();
        if limited.is_empty() {
            return Verdict::new(
                VerdictKind::Inconclusive,
                "no pool-limited run was measured",
            );
        }
        let shown: Vec<String> = limited
            .iter()
            .map(|(p, r)| format!("P={p}: {:.0}% of P/R", r * 100.0))
            .collect();
        let numbers = format!(
            "R = {r:.1} ms; {}; uncapped {uncapped:.0} req/s; holds when every pool-limited run is within \
             {:.0}-{:.0}% of P/R, differs from {:.0}%",
            shown.join(", "),
            HOLDS_LOW * 100.0,
            HOLDS_HIGH * 100.0,
            DIFFERS_LOW * 100.0
        );
        let (lo, hi) = limited
            .iter()
            .fold((f64::INFINITY, 0f64), |(a, b), (_, r)| {
                (a.min(*r), b.max(*r))
            });
        if lo >= HOLDS_LOW && hi <= HOLDS_HIGH {
            Verdict::new(VerdictKind::Holds, numbers)
        } else if lo >= DIFFERS_LOW && hi <= HOLDS_HIGH {
            Verdict::new(VerdictKind::HoldsWithDifference, numbers)
        } else {
            Verdict::new(VerdictKind::DoesNotHold, numbers)
        }
    }
}

/// Throughput against pool size, beside P/R and the uncapped server.
fn chart(figures: &[Figure], pools: &[usize]) -> Chart {
    let ours: Vec<Point> = pools
        .iter()
        .filter_map(|&p| Figure::named(figures, &measured(p)).map(|f| Point::figure(p as f64, f)))
        .collect();
    let r = r_ms(figures);
    let worst = Figure::find(figures, LOWEST).unwrap_or(f64::NAN);
    let uncapped = Figure::find(figures, UNCAPPED).unwrap_or(f64::NAN);
    let (first, last) = (
        *pools.first().unwrap_or(&1) as f64,
        *pools.last().unwrap_or(&1) as f64,
    );
    Chart::lines(
        format!(
            "Throughput follows P/R: every pool size reaches at least {worst:.0}% of its bound"
        ),
        Axis::new("pool size P (connections)", "count").log(),
        Axis::new("throughput", "req/s").log(),
    )
    .series("measured (median of rounds)", Mark::Line, ours)
    .series(
        format!("P/R bound (R = {r:.1} ms, measured alone)"),
        Mark::Dashed,
        pools
            .iter()
            .map(|&p| Point::new(p as f64, bound(p, r)))
            .collect(),
    )
    .series(
        "round trips outside the pool (no cap)",
        Mark::Dashed,
        vec![Point::new(first, uncapped), Point::new(last, uncapped)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(share: f64, uncapped: f64) -> Vec<Figure> {
        let mut f: Vec<Figure> = POOLS
            .iter()
            .map(|&p| Figure::new(measured(p), bound(p, 40.0).min(uncapped) * share, "req/s"))
            .collect();
        f.push(Figure::new(ALONE, 40.0, "ms"));
        f.push(Figure::new(UNCAPPED, uncapped, "req/s"));
        f
    }

    #[test]
    fn on_the_bound_holds_far_below_does_not() {
        assert_eq!(B03.judge(&figs(0.95, 1500.0)).kind, VerdictKind::Holds);
        assert_eq!(
            B03.judge(&figs(0.7, 1500.0)).kind,
            VerdictKind::HoldsWithDifference
        );
        let v = B03.judge(&figs(0.3, 1500.0));
        assert_eq!(v.kind, VerdictKind::DoesNotHold);
        assert!(v.reason.contains("P=1: 30%"), "{}", v.reason);
        // Above the bound is not Little's law either.
        assert_eq!(B03.judge(&figs(1.5, 1500.0)).kind, VerdictKind::DoesNotHold);
        // Only pools whose bound is under the uncapped throughput count.
        assert_eq!(B03.judge(&figs(0.95, 30.0)).kind, VerdictKind::Inconclusive);
    }
}
