//! [`run`]: perform every measurement of a [`Config`] and assemble the [`Report`] and its rows.

use super::limit::{self, LimitResult};
use super::memory::{self, MemoryPerUnit};
use super::state_machine::{self, StateMachineReport};
use super::stats::Summary;
use super::switch::{self, Placement, ThreadSwitch};
use super::sysctl::RaisedLimits;
use super::table::{self, Quantity, Row, claims};
use super::{Config, Progress, Result, affinity, creation, procfs};
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Instant;

/// The 8 MiB stack of the chapter (glibc's default for C programs, `ulimit -s`).
pub const BIG_STACK: usize = 8 << 20;

/// The machine the figures come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// CPUs this process may use.
    pub cpus: usize,
    /// `uname -r`.
    pub kernel: String,
    /// 1-minute load average when the run started (the run's own thousands of threads inflate
    /// it afterwards, so the end value is not taken).
    pub loadavg_at_start: f64,
    /// Share of all CPUs' time that *other* processes used during the run (0–1), from
    /// `/proc/stat` minus this process's own ticks: above ~0.1, other work competed with the
    /// measurements and inflated the timings.
    pub others_cpu_share: Option<f64>,
    /// Share of CPU time the hypervisor stole during the run (0–1).
    pub steal_share: Option<f64>,
    /// `kernel.pid_max`, `kernel.threads-max`, `vm.max_map_count` at the start.
    pub pid_max: Option<u64>,
    /// See `pid_max`.
    pub threads_max: Option<u64>,
    /// See `pid_max`.
    pub max_map_count: Option<u64>,
    /// `MemTotal`, bytes.
    pub mem_total: Option<u64>,
    /// Kernel settings `--raise-limits` changed (and restored): `(name, old value)`.
    pub raised: Vec<(String, String)>,
    /// may's coroutine stack, bytes (0 without the `coroutines` feature).
    pub coroutine_stack: usize,
}

/// Memory per idle unit over runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitMemory {
    /// Units per run (K).
    pub units: u64,
    /// Virtual size per unit.
    pub vsz: Summary,
    /// User RSS per unit.
    pub rss: Summary,
    /// Kernel stack per unit (threads only).
    pub kernel_stack: Option<Summary>,
    /// Largest change in other processes' thread count during one run (threads only): what
    /// the system-wide `KernelStack` reading was corrected for.
    pub other_threads_delta: i64,
    /// RSS plus kernel stack per unit.
    pub physical: Summary,
    /// Creation time per unit while the others stay alive (fresh stacks).
    pub spawn_alive_ns: Summary,
}

impl UnitMemory {
    fn of(runs: &[MemoryPerUnit]) -> Option<Self> {
        let pick = |f: &dyn Fn(&MemoryPerUnit) -> f64| {
            Summary::of(&runs.iter().map(f).collect::<Vec<_>>())
        };
        Some(Self {
            units: runs.first()?.units,
            vsz: pick(&|m| m.vsz_per_unit)?,
            rss: pick(&|m| m.rss_per_unit)?,
            kernel_stack: runs
                .first()?
                .kernel_stack_per_unit
                .and_then(|_| pick(&|m| m.kernel_stack_per_unit.unwrap_or(0.0))),
            other_threads_delta: runs
                .iter()
                .map(|m| m.other_threads_delta)
                .max_by_key(|d| d.abs())
                .unwrap_or(0),
            physical: pick(&|m| m.rss_per_unit + m.kernel_stack_per_unit.unwrap_or(0.0))?,
            spawn_alive_ns: pick(&|m| m.spawn_ns_per_unit)?,
        })
    }
}

/// Everything one `clab costs` run measured, and the table rows judged from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What was asked for.
    pub config: Config,
    /// Where it ran.
    pub machine: Machine,
    /// The table.
    pub rows: Vec<Row>,
    /// Per-run detail of the thread ping-pong on one core (slept vs `/proc` switches).
    pub thread_switch_runs: Vec<ThreadSwitch>,
    /// Memory per idle unit: std-default-stack threads, 8 MiB threads, tasks, coroutines.
    pub memory: Vec<(String, UnitMemory)>,
    /// The limit probes.
    pub limits: Vec<LimitResult>,
    /// C15: the parked tokio tasks of the task limit probe (total RSS, bytes per task).
    pub parked_tasks: MemoryPerUnit,
    /// C14.
    pub state_machine: StateMachineReport,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
}

/// Per-run values of one timed measurement, by row.
#[derive(Default)]
struct Timings {
    thread_pinned: Vec<f64>,
    thread_unpinned: Vec<f64>,
    task_spawn: Vec<f64>,
    coroutine_spawn: Vec<f64>,
    switch_same: Vec<f64>,
    switch_pipe: Vec<f64>,
    switch_cross: Vec<f64>,
    task_channel: Vec<f64>,
    task_channel_multi: Vec<f64>,
    task_yield: Vec<f64>,
    coroutine_yield: Vec<f64>,
    coroutine_channel: Vec<f64>,
    thread_runs: Vec<ThreadSwitch>,
}

fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

const COROUTINES: bool = cfg!(feature = "coroutines");

fn timed_run(
    t: &mut Timings,
    sizes: &super::Sizes,
    cpus: (usize, Option<usize>),
    progress: &mut dyn Progress,
) -> Result<()> {
    let (cpu, other) = cpus;
    progress.step("creation: threads pinned");
    t.thread_pinned.push(creation::thread_spawn_join_ns(
        sizes.spawn_threads,
        Some(cpu),
    )?);
    progress.step("creation: threads unpinned");
    t.thread_unpinned
        .push(creation::thread_spawn_join_ns(sizes.spawn_threads, None)?);
    progress.step("creation: tokio tasks");
    t.task_spawn
        .push(creation::tokio_spawn_join_ns(sizes.spawn_green)?);
    progress.step("switch: threads, same core");
    let same = switch::threads_futex(sizes.rounds_same_core, Placement::SameCore(cpu))?;
    t.switch_same.push(same.ns_per_switch);
    t.thread_runs.push(same);
    t.switch_pipe.push(switch::threads_pipe(
        sizes.rounds_same_core,
        Placement::SameCore(cpu),
    )?);
    if let Some(other) = other {
        progress.step("switch: threads, across cores");
        let cross =
            switch::threads_futex(sizes.rounds_cross_core, Placement::CrossCore(cpu, other))?;
        t.switch_cross.push(cross.ns_per_switch);
    }
    progress.step("switch: tokio channel");
    t.task_channel
        .push(switch::tasks_channel(sizes.rounds_green, None)?);
    t.task_channel_multi
        .push(switch::tasks_channel(sizes.rounds_green / 4, Some(2))?);
    progress.step("switch: tokio yield_now");
    t.task_yield.push(switch::tasks_yield(sizes.rounds_green)?);
    #[cfg(feature = "coroutines")]
    {
        progress.step("creation: may coroutines");
        t.coroutine_spawn
            .push(creation::coroutine_spawn_join_ns(sizes.spawn_green)?);
        progress.step("switch: may coroutines");
        t.coroutine_yield
            .push(switch::coroutines_yield(sizes.rounds_green)?);
        t.coroutine_channel
            .push(switch::coroutines_channel(sizes.rounds_green)?);
    }
    Ok(())
}

fn steps_per_run(two_cpus: bool) -> u64 {
    7 + u64::from(two_cpus) + if COROUTINES { 2 } else { 0 }
}

/// Run every measurement of `config`, reporting progress, and judge the rows.
pub fn run(config: &Config, progress: &mut dyn Progress) -> Result<Report> {
    let t0 = Instant::now();
    let load_start = loadavg();
    let ticks_start = procfs::cpu_ticks();
    let sizes = config.sizes();
    let cpus = affinity::two_cpus()?;
    let memory_runs = config.runs.min(3);
    let unit_kinds = 3 + u64::from(COROUTINES);
    progress.start(
        config.runs as u64 * steps_per_run(cpus.1.is_some())
            + memory_runs as u64 * unit_kinds
            + 2
            + u64::from(COROUTINES)
            + 1,
    );
    #[cfg(feature = "coroutines")]
    super::coroutine::configure();

    let mut t = Timings::default();
    for _ in 0..config.runs {
        timed_run(&mut t, &sizes, cpus, progress)?;
    }

    let mut mem: Vec<(String, Vec<MemoryPerUnit>)> = vec![
        ("OS thread, std default stack (2 MiB)".into(), vec![]),
        ("OS thread, 8 MiB stack".into(), vec![]),
        ("tokio task".into(), vec![]),
    ];
    if COROUTINES {
        mem.push((coroutine_label(), vec![]));
    }
    for _ in 0..memory_runs {
        progress.step("memory: parked threads (std default stack)");
        mem[0]
            .1
            .push(memory::threads(sizes.memory_threads, None, 0)?);
        progress.step("memory: parked threads (8 MiB stack)");
        mem[1]
            .1
            .push(memory::threads(sizes.memory_threads, Some(BIG_STACK), 0)?);
        progress.step("memory: parked tokio tasks");
        mem[2]
            .1
            .push(memory::tasks::<()>(sizes.memory_tasks, &mut |_| None)?.0);
        #[cfg(feature = "coroutines")]
        {
            progress.step("memory: parked may coroutines");
            mem[3].1.push(memory::coroutines(sizes.memory_coroutines)?);
        }
    }
    // Read only by the coroutine probe; keeps the field used when the feature is off.
    let _ = sizes.memory_coroutines;
    let memory: Vec<(String, UnitMemory)> = mem
        .iter()
        .filter_map(|(label, runs)| Some((label.clone(), UnitMemory::of(runs)?)))
        .collect();

    let raised = if config.raise_limits {
        Some(RaisedLimits::apply()?)
    } else {
        None
    };
    progress.step("limit: threads");
    let mut limits = vec![limit::threads(config.max_threads)];
    progress.step("limit: tokio tasks (parked, C15)");
    let (task_limit, parked_tasks) = limit::tasks(config.max_tasks)?;
    limits.push(task_limit);
    #[cfg(feature = "coroutines")]
    {
        progress.step("limit: may coroutines");
        limits.push(limit::coroutines(config.max_coroutines));
    }
    let raised_list = raised
        .as_ref()
        .map(RaisedLimits::changed)
        .unwrap_or_default();
    drop(raised);

    progress.step("state machine");
    let state_machine = state_machine::measure();

    let cpus_n = affinity::CpuMask::current()?.cpus().len();
    let (others, steal) = match (ticks_start, procfs::cpu_ticks()) {
        (Some(a), Some(b)) => {
            let capacity =
                t0.elapsed().as_secs_f64() * procfs::clock_ticks() as f64 * cpus_n as f64;
            (
                Some(a.others_share(&b, t0.elapsed(), cpus_n)),
                Some(((b.steal - a.steal) as f64 / capacity).min(1.0)),
            )
        }
        _ => (None, None),
    };
    let machine = Machine {
        cpus: cpus_n,
        kernel: procfs::kernel_release(),
        loadavg_at_start: load_start,
        others_cpu_share: others,
        steal_share: steal,
        pid_max: procfs::sysctl("kernel/pid_max"),
        threads_max: procfs::sysctl("kernel/threads-max"),
        max_map_count: procfs::sysctl("vm/max_map_count"),
        mem_total: procfs::mem_available().map(|m| m.1),
        raised: raised_list,
        coroutine_stack: coroutine_stack(),
    };
    let rows = rows(&t, &memory, &limits, &parked_tasks, &state_machine);
    progress.finish();
    Ok(Report {
        config: config.clone(),
        machine,
        rows,
        thread_switch_runs: t.thread_runs,
        memory,
        limits,
        parked_tasks,
        state_machine,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn coroutine_stack() -> usize {
    #[cfg(feature = "coroutines")]
    return super::coroutine::STACK_BYTES;
    #[cfg(not(feature = "coroutines"))]
    0
}

fn coroutine_label() -> String {
    format!("may coroutine ({} KiB stack)", coroutine_stack() / 1024)
}

fn summary(values: &[f64]) -> Option<Summary> {
    Summary::of(values)
}

fn one(v: f64) -> Summary {
    Summary {
        median: v,
        min: v,
        max: v,
        runs: 1,
    }
}

fn rows(
    t: &Timings,
    memory: &[(String, UnitMemory)],
    limits: &[LimitResult],
    parked: &MemoryPerUnit,
    sm: &StateMachineReport,
) -> Vec<Row> {
    let mut rows = Vec::new();
    let find = |prefix: &str| memory.iter().find(|(l, _)| l.starts_with(prefix));
    // Stack and memory (C07, C08, C15).
    for (label, m) in memory.iter().filter(|(l, _)| l.starts_with("OS thread")) {
        rows.push(
            Row::new(
                "Stack (virtual)",
                label.clone(),
                "C07",
                claims::THREAD_STACK_VIRTUAL,
                Quantity::Bytes,
                m.vsz,
            )
            .note(format!("VmSize growth per parked thread, K = {}", m.units)),
        );
    }
    for (label, m) in memory {
        let thread = label.starts_with("OS thread");
        let claim = if thread {
            claims::THREAD_PHYSICAL
        } else {
            claims::GREEN_STACK
        };
        let note = match &m.kernel_stack {
            Some(k) => format!(
                "user RSS {} + kernel stack {} per thread, K = {} (kernel stack = change of \
                 the system-wide KernelStack over the change of the system's threads; other \
                 processes' threads changed by up to {} meanwhile)",
                table::format(Quantity::Bytes, m.rss.median),
                table::format(Quantity::Bytes, k.median),
                m.units,
                m.other_threads_delta
            ),
            None => format!("RSS growth per parked unit, K = {}", m.units),
        };
        rows.push(
            Row::new(
                "Memory per idle unit",
                label.clone(),
                if thread { "C07" } else { "C15" },
                claim,
                Quantity::Bytes,
                m.physical,
            )
            .note(note),
        );
    }
    if let Some((_, m)) = find("OS thread, 8 MiB") {
        let scale = 10_000.0;
        let s = &m.physical;
        rows.push(
            Row::new(
                "10,000 threads' memory",
                "OS thread, 8 MiB stack",
                "C08",
                claims::TEN_THOUSAND_THREADS,
                Quantity::Bytes,
                Summary {
                    median: s.median * scale,
                    min: s.min * scale,
                    max: s.max * scale,
                    runs: s.runs,
                },
            )
            .note(format!(
                "10,000 × (user RSS + kernel stack) per thread, measured with K = {} threads; \
                 the chapter counts reserved stack as if it were resident",
                m.units
            )),
        );
    }
    // Creation (C09, C15).
    let timed = [
        (
            "Creation",
            "OS thread, pinned to 1 CPU",
            "C09",
            claims::THREAD_CREATION,
            &t.thread_pinned,
            "spawn + join, median of many",
        ),
        (
            "Creation",
            "OS thread, unpinned",
            "C09",
            claims::THREAD_CREATION,
            &t.thread_unpinned,
            "spawn + join, median of many",
        ),
        (
            "Creation",
            "tokio task",
            "C15",
            claims::GREEN_CREATION,
            &t.task_spawn,
            "spawn + await, current-thread runtime",
        ),
        (
            "Creation",
            "may coroutine",
            "C15",
            claims::GREEN_CREATION,
            &t.coroutine_spawn,
            "spawn + join inside a coroutine, pool warm",
        ),
        (
            "Switch (one-way)",
            "OS thread, same core",
            "C10",
            claims::THREAD_SWITCH,
            &t.switch_same,
            "futex ping-pong, both pinned to one CPU",
        ),
        (
            "Switch (one-way)",
            "OS thread, same core, pipe",
            "C10",
            claims::THREAD_SWITCH,
            &t.switch_pipe,
            "pipe ping-pong (write + blocking read), both pinned to one CPU",
        ),
        (
            "Switch (one-way)",
            "OS thread, across cores",
            "C10",
            claims::THREAD_SWITCH,
            &t.switch_cross,
            "futex ping-pong, pinned to two CPUs: a cross-core wake-up (B05)",
        ),
        (
            "Switch (one-way)",
            "tokio task, channel",
            "C15",
            claims::GREEN_SWITCH,
            &t.task_channel,
            "mpsc ping-pong, current-thread runtime",
        ),
        (
            "Switch (one-way)",
            "tokio task, channel, 2 workers",
            "C15",
            claims::GREEN_SWITCH,
            &t.task_channel_multi,
            "mpsc ping-pong, multi-thread runtime with 2 workers",
        ),
        (
            "Switch (one-way)",
            "tokio task, yield_now",
            "C15",
            claims::GREEN_SWITCH,
            &t.task_yield,
            "two tasks yielding, current-thread runtime",
        ),
        (
            "Switch (one-way)",
            "may coroutine, yield_now",
            "C15",
            claims::GREEN_SWITCH,
            &t.coroutine_yield,
            "two coroutines yielding on one worker",
        ),
        (
            "Switch (one-way)",
            "may coroutine, channel",
            "C15",
            claims::GREEN_SWITCH,
            &t.coroutine_channel,
            "may mpsc ping-pong on one worker",
        ),
    ];
    for (property, unit, id, claim, values, note) in timed {
        if let Some(s) = summary(values) {
            rows.push(Row::new(property, unit, id, claim, Quantity::Nanos, s).note(note));
        }
    }
    // Creation with every unit kept alive: no stack reuse (C09, C15).
    for (label, m) in memory {
        let claim = if label.starts_with("OS thread") {
            claims::THREAD_CREATION
        } else {
            claims::GREEN_CREATION
        };
        let id = if label.starts_with("OS thread") {
            "C09"
        } else {
            "C15"
        };
        rows.push(
            Row::new(
                "Creation, K alive",
                label.clone(),
                id,
                claim,
                Quantity::Nanos,
                m.spawn_alive_ns,
            )
            .note(format!(
                "spawn only, {} units kept parked, so nothing is reused: a fresh stack (or task allocation) each",
                m.units
            )),
        );
    }
    // Practical limit (C15).
    for l in limits {
        let (unit, claim) = match l.unit {
            "thread" => ("OS thread, std default stack", claims::THREAD_LIMIT),
            "task" => ("tokio task", claims::GREEN_LIMIT),
            _ => ("may coroutine", claims::GREEN_LIMIT),
        };
        let value = if l.guarded { l.projected } else { l.reached };
        let how = if l.capped() {
            format!(
                "stopped at the cap {} (a lower bound)",
                table::thousands(l.cap)
            )
        } else if l.guarded {
            format!(
                "{}: stopped short at {} {}; would fail near {}; knob: {}",
                l.stopped_by.name(),
                table::thousands(l.reached),
                match l.stopped_by {
                    limit::LimitKind::MaxMapCount => {
                        "(past it even this process's malloc fails)"
                    }
                    limit::LimitKind::Memory => "(to leave memory to the machine)",
                    _ => "(to leave task ids to the rest of the machine)",
                },
                table::thousands(l.projected),
                l.knob
            )
        } else {
            format!(
                "{} stopped it at {} ({}); knob: {}",
                l.stopped_by.name(),
                table::thousands(l.reached),
                l.error.as_deref().unwrap_or("no error"),
                l.knob
            )
        };
        rows.push(
            Row::new(
                "Practical limit",
                unit,
                "C15",
                claim,
                Quantity::Count,
                one(value as f64),
            )
            .capped(l.capped())
            .note(how),
        );
    }
    rows.push(
        Row::new(
            "Memory per idle unit",
            format!("tokio task, {} parked", table::thousands(parked.units)),
            "C15",
            claims::GREEN_STACK,
            Quantity::Bytes,
            one(parked.rss_per_unit),
        )
        .note(format!(
            "total RSS growth {} for {} tasks",
            table::format(Quantity::Bytes, parked.rss_per_unit * parked.units as f64),
            table::thousands(parked.units)
        )),
    );
    // State machine (C14).
    let confirmed = sm.confirms_claim();
    rows.push(
        Row::new(
            "async fn state machine",
            "fetch_user_data, compiled",
            "C14",
            claims::STATE_MACHINE,
            Quantity::Bytes,
            one(sm.compiled_bytes as f64),
        )
        .confirmed(confirmed)
        .note(format!(
            "size_of the future; {} polls for {} awaits; states: {}",
            sm.compiled_polls,
            sm.awaits,
            sm.compiled_states.join(", ")
        )),
    );
    rows.push(
        Row::new(
            "async fn state machine",
            "FetchUserData, hand-written enum",
            "C14",
            claims::STATE_MACHINE,
            Quantity::Bytes,
            one(sm.hand_written_bytes as f64),
        )
        .confirmed(confirmed)
        .note(format!(
            "size_of the enum; {} polls; same result: {}; states: {}",
            sm.hand_written_polls,
            sm.same_result,
            sm.hand_written_states.join(", ")
        )),
    );
    rows
}

impl Report {
    /// The table, its notes and the machine, as text for a terminal.
    pub fn render(&self) -> String {
        let mut out = table::render(&self.rows);
        let _ = writeln!(
            out,
            "Verdicts compare the median with the claim read as a range (\"~X\" = X/2 to 2X); \
             for costs lower is better, for limits higher."
        );
        let _ = writeln!(out, "\nNotes:");
        for r in &self.rows {
            if !r.note.is_empty() {
                let _ = writeln!(out, "  {} / {}: {}", r.property, r.unit, r.note);
            }
        }
        if let Some(last) = self.thread_switch_runs.last() {
            let _ = writeln!(
                out,
                "  Thread ping-pong check: {} hand-offs, {} futex sleeps, /proc counted {} voluntary + {} involuntary switches",
                last.switches, last.slept, last.voluntary, last.nonvoluntary
            );
        }
        let m = &self.machine;
        let _ = writeln!(
            out,
            "\nMachine: {} CPUs, Linux {}, {} RAM; pid_max {}, threads-max {}, vm.max_map_count {}",
            m.cpus,
            m.kernel,
            m.mem_total
                .map_or("?".into(), |b| table::format(Quantity::Bytes, b as f64)),
            opt(m.pid_max),
            opt(m.threads_max),
            opt(m.max_map_count),
        );
        let share = |v: Option<f64>| v.map_or("?".to_owned(), |v| format!("{:.0}%", v * 100.0));
        let _ = writeln!(
            out,
            "During the run other processes used {} of the CPUs' time, the hypervisor stole {} \
             (load average {:.2} at start){}",
            share(m.others_cpu_share),
            share(m.steal_share),
            m.loadavg_at_start,
            if m.others_cpu_share.unwrap_or(0.0) > 0.1 {
                ": other work competed with the measurements, timings are inflated"
            } else {
                ": the machine was quiet"
            }
        );
        for (name, old) in &m.raised {
            let _ = writeln!(
                out,
                "--raise-limits changed {name} (was {old}) and restored it"
            );
        }
        let _ = writeln!(
            out,
            "Mode: {}, {} runs per timing, {:.1} s. Claims are the chapter's; every other figure was measured in this run.",
            if self.config.quick { "quick" } else { "full" },
            self.config.runs,
            self.seconds
        );
        out
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or("?".into(), table::thousands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::Silent;
    use crate::costs::verdict::Verdict;

    /// The whole pipeline on small caps: every row is measured, judged and rendered, and the
    /// report serialises for the tour.
    #[test]
    fn a_small_run_fills_every_row() {
        let _serial = crate::costs::TEST_LOCK.lock();
        let config = Config {
            runs: 1,
            max_tasks: 10_000,
            max_threads: 100,
            max_coroutines: 100,
            ..Config::quick()
        };
        let report = run(&config, &mut Silent).unwrap();
        let count = |p: &str| report.rows.iter().filter(|r| r.property == p).count();
        assert_eq!(count("Stack (virtual)"), 2);
        assert_eq!(count("Practical limit"), 2 + usize::from(COROUTINES));
        assert_eq!(count("async fn state machine"), 2);
        assert!(count("Switch (one-way)") >= 5);
        for row in &report.rows {
            assert!(row.measured.median.is_finite(), "{row:?}");
        }
        // Capped below the claim: the limit rows must not pretend to know.
        let threads = report
            .rows
            .iter()
            .find(|r| r.property == "Practical limit" && r.unit.starts_with("OS thread"))
            .unwrap();
        assert_eq!(threads.verdict, Verdict::Inconclusive);
        let text = report.render();
        assert!(
            text.contains("Chapter claims") && text.contains("confirmed"),
            "{text}"
        );
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains("\"rows\""));
    }
}
