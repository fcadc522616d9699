//! C04: IO-bound work needs concurrency, CPU-bound work needs parallelism (cores). An
//! IO-bound route on one pinned core at rising concurrency; a CPU-bound route on 1 and 2
//! workers.

use super::loadgen::load;
use crate::tour::{
    Axis, Chart, Context, Experiment, Figure, Mark, Meta, Point, Verdict, VerdictKind,
};

/// Closed-loop concurrencies of the IO-bound runs.
const CONCURRENCY: [usize; 4] = [1, 4, 16, 64];
/// Seconds per run and interleaved rounds: `--quick` and full.
const SECONDS: (usize, usize) = (2, 4);
const ROUNDS: (usize, usize) = (2, 3);
/// The CPU-bound request: this many ms of CPU on the worker.
const CPU_MS: u64 = 20;
/// Holds when concurrency 64 gives at least this many times concurrency 1's IO-bound
/// throughput on one core, and two workers at least `PARALLEL_AT` times one worker's
/// CPU-bound throughput.
const CONCURRENT_AT: f64 = 16.0;
const PARALLEL_AT: f64 = 1.5;

pub(super) struct C04Claim;

pub(super) static C04: C04Claim = C04Claim;

fn io_name(c: usize) -> String {
    format!("IO-bound, 1 core, concurrency {c}")
}

/// The key figure: the highest concurrency's IO-bound throughput over concurrency 1's.
fn gain_name() -> String {
    let last = *CONCURRENCY.last().unwrap_or(&1);
    format!("IO-bound on one core, concurrency {last} / concurrency 1")
}

fn cpu_name(w: usize) -> String {
    format!("CPU-bound, {w} worker(s)")
}

/// IO-bound throughput against concurrency on one core, beside the bound that `c` requests
/// each waiting as long as one alone gives: `c` times concurrency 1's throughput.
fn concurrency_chart(figures: &[Figure]) -> Chart {
    let ours: Vec<Point> = CONCURRENCY
        .iter()
        .filter_map(|&c| Figure::named(figures, &io_name(c)).map(|f| Point::figure(c as f64, f)))
        .collect();
    let one = Figure::find(figures, &io_name(1)).unwrap_or(f64::NAN);
    let last = *CONCURRENCY.last().unwrap_or(&1);
    let gain = Figure::find(figures, &gain_name()).unwrap_or(f64::NAN);
    let bound = CONCURRENCY
        .iter()
        .map(|&c| Point::new(c as f64, one * c as f64))
        .collect();
    Chart::lines(
        format!("One core, IO-bound: concurrency {last} serves x{gain:.0} what concurrency 1 does"),
        Axis::new("concurrent requests (closed loop)", "count").log(),
        Axis::new("throughput", "req/s").log(),
    )
    .series("measured (median of rounds)", Mark::Line, ours)
    .series(
        "c x concurrency 1 (nothing but waiting)",
        Mark::Dashed,
        bound,
    )
}

/// CPU-bound throughput on 1 and 2 workers, beside perfect scaling.
fn cores_chart(figures: &[Figure]) -> Chart {
    let one = Figure::find(figures, &cpu_name(1)).unwrap_or(f64::NAN);
    let gain = Figure::find(figures, &cpu_name(2)).unwrap_or(f64::NAN) / one;
    Chart::bars(
        format!("CPU-bound: 2 workers serve x{gain:.2} what 1 does"),
        vec!["1 worker".into(), "2 workers".into()],
        Axis::new(
            format!("throughput, {CPU_MS} ms of CPU per request"),
            "req/s",
        ),
    )
    .bar_figures(
        "measured (median, whisker: range)",
        figures,
        &[cpu_name(1), cpu_name(2)],
    )
    .series(
        "perfect scaling (workers x 1 worker)",
        Mark::Span,
        vec![Point::new(0.0, one), Point::new(1.0, 2.0 * one)],
    )
}

impl Experiment for C04Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "C04",
            title: "IO-bound needs concurrency, CPU-bound needs cores",
            claim: "IO-bound work needs concurrency; CPU-bound work needs parallelism, i.e. \
                    cores (§03, §13).",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "IO-bound: `clab serve --model async-multi --workers 1 --latency same-region` pinned \
             to one CPU, `GET /users/1` (two simulated 20-30 ms waits) with `clab load` closed \
             loop at concurrency {CONCURRENCY:?}. CPU-bound: `--workers 1` and `--workers 2` \
             (not pinned), `GET /cpu?ms={CPU_MS}` at concurrency 8. {} s per run, {} \
             interleaved rounds of every run (figures: median and range); the client shares \
             the machine's cores.",
            ctx.size(SECONDS),
            ctx.size(ROUNDS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let (secs, rounds) = (ctx.size(SECONDS), ctx.size(ROUNDS));
        let cpu = crate::costs::affinity::two_cpus()
            .map_err(|e| e.to_string())?
            .0;
        let io = ctx.server_on(
            &[
                "--model",
                "async-multi",
                "--workers",
                "1",
                "--latency",
                "same-region",
            ],
            Some(cpu),
        )?;
        let cpu_server = |workers: &str| {
            ctx.server(&[
                "--model",
                "async-multi",
                "--workers",
                workers,
                "--latency",
                "none",
                "--cpu-policy",
                "inline",
            ])
        };
        let workers = [cpu_server("1")?, cpu_server("2")?];
        // Rounds interleave every run, so a slow minute of the machine lands on all of them.
        let mut io_runs = vec![Vec::new(); CONCURRENCY.len()];
        let mut cpu_runs = vec![Vec::new(); workers.len()];
        progress.start((rounds * (CONCURRENCY.len() + workers.len())) as u64);
        for round in 1..=rounds {
            for (c, out) in CONCURRENCY.iter().zip(&mut io_runs) {
                progress.step(&format!("round {round}: IO-bound, concurrency {c}"));
                let r = load(
                    &io.url("/users/1"),
                    clab_load::Mode::Closed { connections: *c },
                    secs,
                )?;
                out.push(r.throughput);
            }
            for (w, (server, out)) in workers.iter().zip(&mut cpu_runs).enumerate() {
                progress.step(&format!("round {round}: CPU-bound, {} worker(s)", w + 1));
                let r = load(
                    &server.url(&format!("/cpu?ms={CPU_MS}")),
                    clab_load::Mode::Closed { connections: 8 },
                    secs,
                )?;
                out.push(r.throughput);
            }
        }
        let mut figures: Vec<Figure> = CONCURRENCY
            .iter()
            .zip(&io_runs)
            .map(|(c, v)| {
                Figure::summary(io_name(*c), v, "req/s").note(format!("pinned to CPU {cpu}"))
            })
            .collect();
        figures.extend(
            cpu_runs
                .iter()
                .enumerate()
                .map(|(i, v)| Figure::summary(cpu_name(i + 1), v, "req/s")),
        );
        // The key figure first (the summary table shows it).
        let last = *CONCURRENCY.last().unwrap_or(&1);
        let gain = Figure::find(&figures, &io_name(last)).unwrap_or(f64::NAN)
            / Figure::find(&figures, &io_name(1)).unwrap_or(f64::NAN);
        figures.insert(0, Figure::new(gain_name(), gain, "ratio"));
        ctx.chart(concurrency_chart(&figures));
        ctx.chart(cores_chart(&figures));
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let get = |name: String| Figure::find(figures, &name);
        let (Some(io1), Some(io64), Some(cpu1), Some(cpu2)) = (
            get(io_name(1)),
            get(io_name(64)),
            get(cpu_name(1)),
            get(cpu_name(2)),
        ) else {
            return Verdict::new(VerdictKind::Inconclusive, "a run is missing");
        };
        let (concurrency, parallel) = (io64 / io1, cpu2 / cpu1);
        let numbers = format!(
            "IO-bound on one core: concurrency 64 gives x{concurrency:.1} concurrency 1's \
             throughput (holds at >= x{CONCURRENT_AT}); CPU-bound: 2 workers give x{parallel:.2} \
             one worker's (holds at >= x{PARALLEL_AT})"
        );
        match (concurrency >= CONCURRENT_AT, parallel >= PARALLEL_AT) {
            (true, true) => Verdict::new(VerdictKind::Holds, numbers),
            (false, false) => Verdict::new(VerdictKind::DoesNotHold, numbers),
            _ => Verdict::new(VerdictKind::HoldsWithDifference, numbers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(io1: f64, io64: f64, cpu1: f64, cpu2: f64) -> Vec<Figure> {
        vec![
            Figure::new(io_name(1), io1, "req/s"),
            Figure::new(io_name(64), io64, "req/s"),
            Figure::new(cpu_name(1), cpu1, "req/s"),
            Figure::new(cpu_name(2), cpu2, "req/s"),
        ]
    }

    #[test]
    fn scaling_with_concurrency_and_cores_holds_and_flat_does_not() {
        assert_eq!(
            C04.judge(&figs(20.0, 1200.0, 48.0, 92.0)).kind,
            VerdictKind::Holds
        );
        assert_eq!(
            C04.judge(&figs(20.0, 25.0, 48.0, 50.0)).kind,
            VerdictKind::DoesNotHold
        );
        assert_eq!(
            C04.judge(&figs(20.0, 1200.0, 48.0, 50.0)).kind,
            VerdictKind::HoldsWithDifference
        );
        assert_eq!(
            C04.judge(&figs(20.0, 1200.0, 48.0, 92.0)[..3]).kind,
            VerdictKind::Inconclusive
        );
    }
}
