//! C17: M:N scheduling multiplexes many tasks on N = cores OS threads; a task that waits is
//! parked, not its thread. `async-multi` holding many connections, its threads counted from
//! outside; throughput with 1 and 2 workers.

use super::idle::idle_connections;
use super::loadgen::load;
use crate::tour::{Context, Experiment, Figure, Meta, Verdict, VerdictKind};

/// Connections held open: `--quick` and full.
const CONNECTIONS: (usize, usize) = (2_000, 10_000);
/// Seconds per throughput run.
const SECONDS: (usize, usize) = (2, 5);
/// Threads of `clab serve --model async-multi` besides its workers: the thread that runs the
/// accept loop and the signal listener.
const OTHER_THREADS: f64 = 2.0;

pub(super) struct C17Claim;

pub(super) static C17: C17Claim = C17Claim;

impl Experiment for C17Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "C17",
            title: "M:N: many tasks on N threads",
            claim: "M:N scheduling multiplexes many tasks on N = cores OS threads; a blocked \
                    task is parked, not its thread (§10).",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "`clab serve --model async-multi --workers 2 --latency same-region` holding {} \
             keep-alive connections (one task each): its OS threads from /proc/<pid>/status. \
             Then `GET /users/1` (two simulated 20-30 ms waits) with `clab load`, closed loop, \
             256 connections, {} s, on `--workers 1` and `--workers 2`.",
            ctx.size(CONNECTIONS),
            ctx.size(SECONDS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let n = ctx.size(CONNECTIONS);
        let mut figures = Vec::new();
        progress.start(2);
        for workers in ["2", "1"] {
            progress.step(&format!("{workers} worker(s)"));
            let server = ctx.server(&[
                "--model",
                "async-multi",
                "--workers",
                workers,
                "--latency",
                "same-region",
            ])?;
            if workers == "2" {
                let idle = idle_connections(ctx, &server, n)?;
                let n = idle.len();
                let threads = server.sample()?.threads;
                drop(idle);
                figures.push(
                    Figure::new(
                        format!("OS threads with {n} connections, 2 workers"),
                        threads as f64,
                        "count",
                    )
                    .claimed("N = cores (2), plus the server's own")
                    .note(format!("{n} tasks, one per connection")),
                );
            }
            let report = load(
                &server.url("/users/1"),
                clab_load::Mode::Closed { connections: 256 },
                ctx.size(SECONDS),
            )?;
            figures.push(Figure::new(
                format!("throughput, {workers} worker(s), 256 connections waiting on IO"),
                report.throughput,
                "req/s",
            ));
        }
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let Some(f) = figures
            .iter()
            .find(|f| f.name.starts_with("OS threads with"))
        else {
            return Verdict::new(VerdictKind::Inconclusive, "threads were not counted");
        };
        let allowed = 2.0 + OTHER_THREADS;
        let numbers = format!(
            "{}: {:.0} OS threads (2 workers + {OTHER_THREADS:.0} of the server's own allowed: \
             {allowed:.0})",
            f.name, f.value
        );
        if f.value <= allowed {
            Verdict::new(VerdictKind::Holds, numbers)
        } else {
            Verdict::new(VerdictKind::DoesNotHold, numbers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_that_stay_at_n_hold_and_threads_that_follow_connections_do_not() {
        let figs = |t: f64| {
            vec![Figure::new(
                "OS threads with 2000 connections, 2 workers",
                t,
                "count",
            )]
        };
        assert_eq!(C17.judge(&figs(4.0)).kind, VerdictKind::Holds);
        let v = C17.judge(&figs(2002.0));
        assert_eq!(v.kind, VerdictKind::DoesNotHold);
        assert!(v.reason.contains("2002"), "{}", v.reason);
        assert_eq!(C17.judge(&[]).kind, VerdictKind::Inconclusive);
    }
}
