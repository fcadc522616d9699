//! C03: a typical API call spends ~95% of its time waiting on IO (§02–03, Fig 2: ~250 ms of
//! IO, ~10 ms of CPU).

use super::dashboard;
use crate::tour::{
    Axis, Chart, Context, Experiment, Figure, Mark, Meta, Point, Verdict, VerdictKind,
};

/// The chapter's Fig 2 figures, for the report.
const CHAPTER_IO_MS: f64 = 250.0;
const CHAPTER_CPU_MS: f64 = 10.0;
/// IO share at or above which the claim holds (the chapter: ~95%); between the two, it holds
/// with a difference.
const HOLDS_AT: f64 = 0.90;
const DIFFERS_AT: f64 = 0.70;

pub(super) struct C03Claim;

pub(super) static C03: C03Claim = C03Claim;

/// Requests per measurement: `--quick` and full.
const REQUESTS: (usize, usize) = (20, 100);

/// A figure over the requests' `values`, with the chapter's figure when it gives one.
fn fig(name: &str, values: &[f64], unit: &str, claimed: Option<String>, note: &str) -> Figure {
    let f = Figure::summary(name, values, unit).note(note);
    match claimed {
        Some(c) => f.claimed(c),
        None => f,
    }
}

/// The chapter's Fig 2 beside ours: a request's time, IO wait and CPU, in ms.
fn fig2(figures: &[Figure]) -> Chart {
    let names = ["IO wait", "CPU (handler's thread time)"];
    let share = Figure::find(figures, "IO share of wall time").unwrap_or(f64::NAN) / 100.0;
    Chart::bars(
        format!(
            "Fig 2 here: {:.1}% of a request is waiting on IO (chapter: ~95%)",
            share * 100.0
        ),
        names.iter().map(|n| (*n).to_owned()).collect(),
        Axis::new("time per request", "ms"),
    )
    .bar_figures("measured (median, whisker: range)", figures, &names)
    .series(
        "chapter, Fig 2",
        Mark::Span,
        vec![
            Point::new(0.0, CHAPTER_IO_MS),
            Point::new(1.0, CHAPTER_CPU_MS),
        ],
    )
}

impl Experiment for C03Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "C03",
            title: "a typical API call is mostly waiting",
            claim: "A typical API call (3-5 database queries, 1-2 external calls) spends ~250 ms waiting on \
         IO and ~10 ms on CPU: ~95% of its time is IO (§02-03, Fig 2).",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "`clab serve --model async-multi --latency same-region` (simulated 20-30 ms round \
             trips), {} sequential `GET /users/{{id}}/dashboard`: 4 queries, a cache lookup, an \
             upstream call, a summary computed on the CPU. Per request, the handler's own \
             breakdown: wall, thread CPU summed over every poll, IO wait; and the server's CPU \
             per request from outside (utime+stime of /proc/<pid>/stat over the run).",
            ctx.size(REQUESTS)
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let server = ctx.server(&["--model", "async-multi", "--latency", "same-region"])?;
        let n = ctx.size(REQUESTS);
        progress.start(1);
        progress.step(&format!("{n} dashboards"));
        // Warm the connection to the database and the code paths; not measured.
        dashboard::sample(&server, 2, 9_000)?;
        let before = server.sample()?;
        let timings = dashboard::sample(&server, n, 5_000)?;
        let after = server.sample()?;
        let ms = |f: fn(&dashboard::Timing) -> f64| -> Vec<f64> {
            timings.iter().map(|t| f(t) / 1000.0).collect()
        };
        let (wall, cpu, io) = (ms(|t| t.wall_us), ms(|t| t.cpu_us), ms(|t| t.io_wait_us));
        let share: Vec<f64> = timings
            .iter()
            .map(|t| 100.0 * t.io_wait_us / t.wall_us)
            .collect();
        let outside_ms = (after.cpu_s - before.cpu_s) * 1000.0 / n as f64;
        let figures = vec![
            fig(
                "IO share of wall time",
                &share,
                "%",
                Some("~95%".into()),
                "io_wait / wall per request",
            ),
            fig(
                "wall time",
                &wall,
                "ms",
                Some(format!("~{} ms", CHAPTER_IO_MS + CHAPTER_CPU_MS)),
                "",
            ),
            fig(
                "IO wait",
                &io,
                "ms",
                Some(format!("~{CHAPTER_IO_MS} ms")),
                "5 remote calls, simulated",
            ),
            fig(
                "CPU (handler's thread time)",
                &cpu,
                "ms",
                Some(format!("~{CHAPTER_CPU_MS} ms")),
                "CLOCK_THREAD_CPUTIME_ID summed over every poll",
            ),
            Figure::new("server CPU per request, from outside", outside_ms, "ms").note(
                "utime+stime of the clab serve process over the run, divided by the requests: includes parsing, the runtime and the idle workers",
            ),
        ];
        ctx.chart(fig2(&figures));
        Ok(figures)
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let get = |name: &str| Figure::find(figures, name);
        let (Some(percent), Some(io), Some(cpu)) = (
            get("IO share of wall time"),
            get("IO wait"),
            get("CPU (handler's thread time)"),
        ) else {
            return Verdict::new(VerdictKind::Inconclusive, "the breakdown was not measured");
        };
        let share = percent / 100.0;
        let numbers = format!(
            "IO is {:.1}% of a request's time ({io:.1} ms IO, {cpu:.2} ms CPU; the chapter: ~95%, \
             {CHAPTER_IO_MS} ms and {CHAPTER_CPU_MS} ms); thresholds: holds >= {:.0}%, differs >= {:.0}%",
            share * 100.0,
            HOLDS_AT * 100.0,
            DIFFERS_AT * 100.0
        );
        if share >= HOLDS_AT {
            Verdict::new(VerdictKind::Holds, numbers)
        } else if share >= DIFFERS_AT {
            Verdict::new(VerdictKind::HoldsWithDifference, numbers)
        } else {
            Verdict::new(VerdictKind::DoesNotHold, numbers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(share: f64) -> Vec<Figure> {
        vec![
            Figure::new("IO share of wall time", share * 100.0, "%"),
            Figure::new("IO wait", 125.0, "ms"),
            Figure::new("CPU (handler's thread time)", 1.5, "ms"),
        ]
    }

    #[test]
    fn mostly_io_holds_and_mostly_cpu_does_not() {
        assert_eq!(C03.judge(&figs(0.98)).kind, VerdictKind::Holds);
        assert_eq!(
            C03.judge(&figs(0.80)).kind,
            VerdictKind::HoldsWithDifference
        );
        let v = C03.judge(&figs(0.40));
        assert_eq!(v.kind, VerdictKind::DoesNotHold);
        assert!(v.reason.contains("40.0%"), "{}", v.reason);
        assert_eq!(C03.judge(&figs(0.98)[..1]).kind, VerdictKind::Inconclusive);
    }
}
