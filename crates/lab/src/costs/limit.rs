//! The practical limit: how many units fit before creation fails, and *which* limit stopped it.
//!
//! Threads and coroutines are created (and parked) one by one until the first failure or the
//! cap; tasks until the cap (a million by default) or until memory runs low. The cause is named
//! from the error and from what `/proc` says at that moment (see [`diagnose`]).
//!
//! Some limits are shared by the whole machine: when `kernel.pid_max` or `kernel.threads-max` is
//! exhausted, *every* process's `fork` fails, and other people's builds with it. So the probe
//! stops [`PID_RESERVE`] tasks short of those and [`MAP_RESERVE`] mappings short of
//! `vm.max_map_count` (past which even this process's `malloc` fails), and reports the limit it
//! was about to hit, with the count where it would have failed. Everything is released before
//! the probe returns.

use super::error::Result;
use super::memory::{self, MemoryPerUnit};
use super::parked::ParkedThreads;
use super::procfs;
use serde::Serialize;
use std::time::Instant;

/// Free pids/tasks left to the rest of the machine when the probe stops short.
pub const PID_RESERVE: u64 = 1024;
/// Free mappings left to this process when the probe stops short.
pub const MAP_RESERVE: u64 = 64;
/// The probe stops when `MemAvailable` falls below this share of `MemTotal` (percent).
pub const MEM_RESERVE_PERCENT: u64 = 10;
/// Memory mappings per unit assumed until the probe has seen the real rate: a stack and its
/// guard page. (std threads take 4: they add a guarded `sigaltstack` for overflow reports.)
const MIN_MAPS_PER_UNIT: u64 = 2;

/// The limit that stopped a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LimitKind {
    /// `kernel.pid_max`: no free task id on the machine.
    PidMax,
    /// `kernel.threads-max`: the machine's task count cap.
    ThreadsMax,
    /// `vm.max_map_count`: this process's number of memory mappings.
    MaxMapCount,
    /// Memory (or overcommit) ran out.
    Memory,
    /// `RLIMIT_NPROC`: tasks per user (not enforced for root).
    RlimitNproc,
    /// `RLIMIT_NOFILE`: open files per process.
    FdLimit,
    /// The probe's own cap (`--max`), not a system limit.
    Cap,
    /// Creation failed and no known limit was near.
    Unknown,
}

impl LimitKind {
    /// How the limit is named in the table.
    pub fn name(self) -> &'static str {
        match self {
            Self::PidMax => "kernel.pid_max",
            Self::ThreadsMax => "kernel.threads-max",
            Self::MaxMapCount => "vm.max_map_count",
            Self::Memory => "memory",
            Self::RlimitNproc => "RLIMIT_NPROC",
            Self::FdLimit => "RLIMIT_NOFILE",
            Self::Cap => "the probe's cap",
            Self::Unknown => "unknown",
        }
    }

    /// The knob that would move the limit.
    pub fn knob(self) -> &'static str {
        match self {
            Self::PidMax => "sysctl kernel.pid_max=4194304",
            Self::ThreadsMax => "sysctl kernel.threads-max=<n>",
            Self::MaxMapCount => {
                "sysctl vm.max_map_count=<n> (a std thread maps 4 areas, a coroutine 2)"
            }
            Self::Memory => "more RAM or swap; smaller stacks; vm.overcommit_memory",
            Self::RlimitNproc => "ulimit -u (limits.conf nproc)",
            Self::FdLimit => "ulimit -n (limits.conf nofile)",
            Self::Cap => "--max / --max-threads / --max-coroutines",
            Self::Unknown => "-",
        }
    }
}

/// What the system looked like when a probe stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// `kernel.pid_max`.
    pub pid_max: Option<u64>,
    /// `kernel.threads-max`.
    pub threads_max: Option<u64>,
    /// `vm.max_map_count`.
    pub max_map_count: Option<u64>,
    /// Tasks alive on the machine.
    pub system_tasks: Option<u64>,
    /// This process's memory mappings.
    pub map_count: Option<u64>,
    /// Soft `RLIMIT_NPROC` (`None` = unlimited).
    pub rlimit_nproc: Option<u64>,
    /// Real uid of this process.
    pub uid: u32,
    /// Tasks of this uid on the machine (only counted when `RLIMIT_NPROC` is finite).
    pub uid_tasks: Option<u64>,
    /// `MemAvailable`, bytes.
    pub mem_available: Option<u64>,
    /// `MemTotal`, bytes.
    pub mem_total: Option<u64>,
    /// The errno of the failed creation, when there was one.
    pub errno: Option<i32>,
}

impl Facts {
    /// Read everything now; `errno` from the failure, if any.
    pub fn now(errno: Option<i32>) -> Self {
        let nproc = procfs::rlimit(libc::RLIMIT_NPROC)
            .map(|(soft, _)| soft)
            .filter(|&s| s != libc::RLIM_INFINITY);
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        let mem = procfs::mem_available();
        Self {
            pid_max: procfs::sysctl("kernel/pid_max"),
            threads_max: procfs::sysctl("kernel/threads-max"),
            max_map_count: procfs::sysctl("vm/max_map_count"),
            system_tasks: procfs::system_tasks(),
            map_count: procfs::map_count().ok(),
            rlimit_nproc: nproc,
            uid,
            uid_tasks: nproc.map(|_| procfs::tasks_of_uid(uid)),
            mem_available: mem.map(|m| m.0),
            mem_total: mem.map(|m| m.1),
            errno,
        }
    }

    fn headroom(limit: Option<u64>, used: Option<u64>) -> Option<u64> {
        Some(limit?.saturating_sub(used?))
    }

    /// Free task ids before `pid_max` or `threads-max`, whichever is nearer.
    fn task_headroom(&self) -> Option<u64> {
        let pid = Self::headroom(self.pid_max, self.system_tasks);
        let thr = Self::headroom(self.threads_max, self.system_tasks);
        pid.into_iter().chain(thr).min()
    }

    fn low_memory(&self) -> bool {
        match (self.mem_available, self.mem_total) {
            (Some(avail), Some(total)) => avail < total / 100 * MEM_RESERVE_PERCENT,
            _ => false,
        }
    }
}

/// Name the limit behind a failed creation, from the errno and the facts read right after it.
/// (glibc turns a failed stack `mmap` into `EAGAIN`, the same errno as a task limit, so the
/// errno alone cannot tell them apart: the counts can.)
pub fn diagnose(f: &Facts) -> LimitKind {
    let near = |limit: Option<u64>, used: Option<u64>, margin: u64| match (limit, used) {
        (Some(l), Some(u)) => u + margin >= l,
        _ => false,
    };
    if matches!(f.errno, Some(libc::EMFILE | libc::ENFILE)) {
        LimitKind::FdLimit
    } else if f.uid != 0 && near(f.rlimit_nproc, f.uid_tasks, 1) {
        LimitKind::RlimitNproc
    } else if near(f.max_map_count, f.map_count, 4) {
        LimitKind::MaxMapCount
    } else if near(f.pid_max, f.system_tasks, 16) {
        LimitKind::PidMax
    } else if near(f.threads_max, f.system_tasks, 16) {
        LimitKind::ThreadsMax
    } else if f.low_memory() || f.errno == Some(libc::ENOMEM) {
        LimitKind::Memory
    } else {
        LimitKind::Unknown
    }
}

/// What the probe should do next: stop short of a shared limit, or go on for `gap` more units
/// before looking again (gaps shrink as the headroom does, so the checks stay cheap).
fn guard(f: &Facts, maps_per_unit: u64) -> std::result::Result<u64, (LimitKind, u64)> {
    let maps_per_unit = maps_per_unit.max(1);
    let tasks = f.task_headroom().unwrap_or(u64::MAX);
    let maps = Facts::headroom(f.max_map_count, f.map_count).unwrap_or(u64::MAX);
    if tasks <= PID_RESERVE {
        let kind = if Facts::headroom(f.pid_max, f.system_tasks) == Some(tasks) {
            LimitKind::PidMax
        } else {
            LimitKind::ThreadsMax
        };
        return Err((kind, tasks));
    }
    if maps <= MAP_RESERVE {
        return Err((LimitKind::MaxMapCount, maps / maps_per_unit));
    }
    if f.low_memory() {
        return Err((LimitKind::Memory, 0));
    }
    let units_left = (tasks - PID_RESERVE).min((maps - MAP_RESERVE) / maps_per_unit);
    Ok((units_left / 2).clamp(1, 4096))
}

/// The outcome of one limit probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitResult {
    /// "thread", "task" or "coroutine".
    pub unit: &'static str,
    /// Units alive when the probe stopped.
    pub reached: u64,
    /// The probe's cap.
    pub cap: u64,
    /// The limit that stopped it.
    pub stopped_by: LimitKind,
    /// True when the probe stopped short of `stopped_by` on purpose (see the module doc).
    pub guarded: bool,
    /// Where creation would fail: `reached` plus the headroom left when stopping short.
    pub projected: u64,
    /// The creation error, when creation failed.
    pub error: Option<String>,
    /// The knob that would move the limit.
    pub knob: &'static str,
    /// What `/proc` said when it stopped.
    pub facts: Facts,
    /// Seconds the probe took, release included.
    pub seconds: f64,
}

impl LimitResult {
    /// True when the number is only a lower bound (the cap stopped the probe).
    pub fn capped(&self) -> bool {
        self.stopped_by == LimitKind::Cap
    }
}

/// Create-and-park until a stop; `spawn` returns the errno (if known) and message of a failure.
fn probe(
    unit: &'static str,
    cap: u64,
    len: &mut dyn FnMut() -> u64,
    spawn: &mut dyn FnMut() -> std::result::Result<(), (Option<i32>, String)>,
) -> LimitResult {
    let t0 = Instant::now();
    let mut next_check = 0;
    // (units, mappings) at the previous check: the observed mappings per unit drive the guard.
    let mut last: Option<(u64, u64)> = None;
    let mut maps_per_unit = MIN_MAPS_PER_UNIT;
    let (kind, guarded, extra, error, facts) = loop {
        let n = len();
        if n >= cap {
            break (LimitKind::Cap, false, 0, None, Facts::now(None));
        }
        if n >= next_check {
            let facts = Facts::now(None);
            // Until the rate is known, look again soon.
            let learning = last.is_none();
            if let (Some((n0, m0)), Some(m)) = (last, facts.map_count)
                && n > n0
            {
                let rate = m.saturating_sub(m0).div_ceil(n - n0);
                maps_per_unit = maps_per_unit.max(rate);
            }
            last = facts.map_count.map(|m| (n, m));
            match guard(&facts, maps_per_unit) {
                Ok(gap) => next_check = n + if learning { gap.min(64) } else { gap },
                Err((kind, extra)) => break (kind, true, extra, None, facts),
            }
        }
        if let Err((errno, message)) = spawn() {
            let facts = Facts::now(errno);
            break (diagnose(&facts), false, 0, Some(message), facts);
        }
    };
    let reached = len();
    LimitResult {
        unit,
        reached,
        cap,
        stopped_by: kind,
        guarded,
        projected: reached + extra,
        error,
        knob: kind.knob(),
        facts,
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// Threads with std's default stack, up to `cap`.
pub fn threads(cap: u64) -> LimitResult {
    let mut group = ParkedThreads::with_capacity(cap.min(1 << 20) as usize);
    let group = std::cell::RefCell::new(&mut group);
    let mut result = probe(
        "thread",
        cap,
        &mut || group.borrow().len() as u64,
        &mut || {
            group
                .borrow_mut()
                .spawn(None, 0)
                .map_err(|e| (e.raw_os_error(), e.to_string()))
        },
    );
    let t0 = Instant::now();
    group.borrow_mut().release();
    result.seconds += t0.elapsed().as_secs_f64();
    result
}

/// The errno inside a may panic message such as `failed to alloc sys stack: Os { code: 12, ..`.
#[cfg_attr(not(feature = "coroutines"), allow(dead_code))]
fn errno_in(message: &str) -> Option<i32> {
    let rest = &message[message.find("code: ")? + 6..];
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// may coroutines (32 KiB stacks), up to `cap`.
#[cfg(feature = "coroutines")]
pub fn coroutines(cap: u64) -> LimitResult {
    use super::parked::ParkedCoroutines;
    let mut group = ParkedCoroutines::with_capacity(cap.min(1 << 20) as usize);
    let group = std::cell::RefCell::new(&mut group);
    // may reports a failed stack mmap as a panic; keep the default hook from printing it.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut result = probe(
        "coroutine",
        cap,
        &mut || group.borrow().len() as u64,
        &mut || {
            group
                .borrow_mut()
                .spawn()
                .map_err(|message| (errno_in(&message), message))
        },
    );
    std::panic::set_hook(hook);
    let t0 = Instant::now();
    group.borrow_mut().release();
    result.seconds += t0.elapsed().as_secs_f64();
    result
}

/// Parked tokio tasks up to `cap`, stopping early if memory runs low. Also returns their memory
/// (C15: total RSS and bytes per task).
pub fn tasks(cap: u64) -> Result<(LimitResult, MemoryPerUnit)> {
    let t0 = Instant::now();
    let (memory, stop) = memory::tasks(cap, &mut |_| {
        Facts::now(None).low_memory().then_some(LimitKind::Memory)
    })?;
    let kind = stop.unwrap_or(LimitKind::Cap);
    Ok((
        LimitResult {
            unit: "task",
            reached: memory.units,
            cap,
            stopped_by: kind,
            guarded: stop.is_some(),
            projected: memory.units,
            error: None,
            knob: kind.knob(),
            facts: Facts::now(None),
            seconds: t0.elapsed().as_secs_f64(),
        },
        memory,
    ))
}

#[cfg(test)]
mod tests;
