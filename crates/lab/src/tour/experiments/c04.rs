//! C04: IO-bound work needs concurrency, CPU-bound work needs parallelism (cores). An
//! IO-bound route on one pinned core at rising concurrency; a CPU-bound route on 1 and 2
//! workers.

use super::loadgen::load;
use crate::tour::{Context, Experiment, Figure, Meta, Verdict, VerdictKind};

/// Closed-loop concurrencies of the IO-bound runs.
const CONCURRENCY: [usize; 4] = [1, 4, 16, 64];
/// Seconds per run: `--quick` and full.
const SECONDS: (usize, usize) = (2, 5);
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

fn cpu_name(w: usize) -> String {
    format!("CPU-bound, {w} worker(s)")
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
             (not pinned), `GET /cpu?ms={CPU_MS}` at concurrency 8. {} s per run; the client \
             shares the machine's cores.",
            ctx.size(SECONDS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        _: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let secs = ctx.size(SECONDS);
        let cpu = crate::costs::affinity::two_cpus()
            .map_err(|e| e.to_string())?
            .0;
        let mut figures = Vec::new();
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
        for c in CONCURRENCY {
            let r = load(
                &io.url("/users/1"),
                clab_load::Mode::Closed { connections: c },
                secs,
            )?;
            figures.push(
                Figure::new(io_name(c), r.throughput, "req/s").note(format!("pinned to CPU {cpu}")),
            );
        }
        drop(io);
        for workers in [1usize, 2] {
            let w = workers.to_string();
            let server = ctx.server(&[
                "--model",
                "async-multi",
                "--workers",
                &w,
                "--latency",
                "none",
                "--cpu-policy",
                "inline",
            ])?;
            let r = load(
                &server.url(&format!("/cpu?ms={CPU_MS}")),
                clab_load::Mode::Closed { connections: 8 },
                secs,
            )?;
            figures.push(Figure::new(cpu_name(workers), r.throughput, "req/s"));
        }
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
