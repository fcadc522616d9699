//! Readers for the `/proc` and `/sys` files the measurements rely on. Every figure about memory,
//! context switches and limits comes from here, so the table says what the kernel says.

use super::error::{CostsError, Result};
use serde::Serialize;
use std::fs;

/// Read a whole `/proc` file as text.
pub fn read(path: &str) -> Result<String> {
    fs::read_to_string(path).map_err(|source| CostsError::Proc {
        path: path.to_owned(),
        source,
    })
}

/// The number after `key:` in a `Key:   1234 kB` style file, in the file's own unit.
pub fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

fn required(path: &str, text: &str, key: &str) -> Result<u64> {
    field(text, key).ok_or_else(|| CostsError::MissingField {
        path: path.to_owned(),
        field: key.to_owned(),
    })
}

/// The process's memory as the kernel reports it at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemSnapshot {
    /// Virtual size (`VmSize` of `/proc/self/status`), bytes.
    pub vsz: u64,
    /// Resident set (`Rss` of `/proc/self/smaps_rollup`), bytes. Exact, unlike `VmRSS`, whose
    /// per-thread counters are batched and can lag by many pages when there are many threads.
    pub rss: u64,
    /// `VmRSS` of `/proc/self/status`, bytes (for comparison).
    pub status_rss: u64,
    /// `KernelStack` of `/proc/meminfo`, bytes: system-wide, so other processes' threads move
    /// it too; [`MemSnapshot::system_threads`] is what takes them out.
    pub kernel_stack: u64,
    /// `Threads` of `/proc/self/status`.
    pub threads: u64,
    /// Threads of the whole system (the total in the 4th field of `/proc/loadavg`), read
    /// beside `KernelStack`: every thread has one kernel stack of the same size, so the change
    /// in `KernelStack` over the change in this count is the size of one, whatever other
    /// processes started or ended meanwhile.
    pub system_threads: u64,
}

/// Take a [`MemSnapshot`] of this process.
pub fn mem_snapshot() -> Result<MemSnapshot> {
    const STATUS: &str = "/proc/self/status";
    const ROLLUP: &str = "/proc/self/smaps_rollup";
    const MEMINFO: &str = "/proc/meminfo";
    let status = read(STATUS)?;
    let rollup = read(ROLLUP)?;
    let meminfo = read(MEMINFO)?;
    Ok(MemSnapshot {
        vsz: required(STATUS, &status, "VmSize")? * 1024,
        rss: required(ROLLUP, &rollup, "Rss")? * 1024,
        status_rss: required(STATUS, &status, "VmRSS")? * 1024,
        kernel_stack: required(MEMINFO, &meminfo, "KernelStack")? * 1024,
        threads: required(STATUS, &status, "Threads")?,
        system_threads: system_tasks().ok_or_else(|| CostsError::MissingField {
            path: "/proc/loadavg".to_owned(),
            field: "running/total".to_owned(),
        })?,
    })
}

/// Give freed heap memory back to the kernel so an RSS baseline is not inflated by (or a later
/// allocation does not silently reuse) pages that earlier measurements freed.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The kernel's id of the calling thread.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// `(voluntary, nonvoluntary)` context switches of thread `tid` of this process.
pub fn ctxt_switches(tid: i32) -> Result<(u64, u64)> {
    let path = format!("/proc/self/task/{tid}/status");
    let text = read(&path)?;
    Ok((
        required(&path, &text, "voluntary_ctxt_switches")?,
        required(&path, &text, "nonvoluntary_ctxt_switches")?,
    ))
}

/// A number from `/proc/sys` (for example `kernel/pid_max`), `None` if unreadable.
pub fn sysctl(name: &str) -> Option<u64> {
    fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Tasks (processes and threads) alive on the whole machine, from `/proc/loadavg`'s `r/total`.
pub fn system_tasks() -> Option<u64> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace()
        .nth(3)?
        .split('/')
        .nth(1)?
        .parse()
        .ok()
}

/// Memory mappings of this process (lines of `/proc/self/maps`): what `vm.max_map_count` caps.
pub fn map_count() -> Result<u64> {
    let text = read("/proc/self/maps")?;
    Ok(text.lines().count() as u64)
}

/// `uname -r` (`/proc/sys/kernel/osrelease`), empty if unreadable.
pub fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// `(MemAvailable, MemTotal)` in bytes.
pub fn mem_available() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    Some((
        field(&text, "MemAvailable")? * 1024,
        field(&text, "MemTotal")? * 1024,
    ))
}

/// Tasks (threads included) whose real uid is `uid`, on the whole machine: what `RLIMIT_NPROC`
/// counts. Processes that vanish while we scan are skipped.
pub fn tasks_of_uid(uid: u32) -> u64 {
    let Ok(dir) = fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| field(s, "Uid") == Some(u64::from(uid)))
        .filter_map(|s| field(&s, "Threads"))
        .sum()
}

/// A resource limit `(soft, hard)`; `u64::MAX` means unlimited.
pub fn rlimit(resource: libc::__rlimit_resource_t) -> Option<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    let rc = unsafe { libc::getrlimit(resource, &mut lim) };
    (rc == 0).then_some((lim.rlim_cur, lim.rlim_max))
}

/// CPU time counters, in clock ticks: the machine's (`/proc/stat`) and this process's own
/// (`/proc/self/stat`). The difference over a run is what *other* processes used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CpuTicks {
    /// user + nice + system + irq + softirq of all CPUs.
    pub machine_busy: u64,
    /// Ticks the hypervisor gave to someone else while a CPU wanted to run.
    pub steal: u64,
    /// utime + stime of this process.
    pub own: u64,
    /// cutime + cstime: children of this process that have exited and been waited for (the
    /// tour's `clab serve` servers, once stopped).
    pub children: u64,
}

impl CpuTicks {
    /// Share of all `cpus` CPUs' time over `elapsed` that processes other than this one and
    /// its waited-for children used between `self` and `later` (0–1).
    pub fn others_share(&self, later: &CpuTicks, elapsed: std::time::Duration, cpus: usize) -> f64 {
        let capacity = elapsed.as_secs_f64() * clock_ticks() as f64 * cpus.max(1) as f64;
        let ours = (later.own + later.children).saturating_sub(self.own + self.children);
        let others = later
            .machine_busy
            .saturating_sub(self.machine_busy)
            .saturating_sub(ours);
        if capacity > 0.0 {
            (others as f64 / capacity).min(1.0)
        } else {
            0.0
        }
    }
}

/// Read [`CpuTicks`] now.
pub fn cpu_ticks() -> Option<CpuTicks> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let cpu: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let own = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the `(comm)`, which may contain spaces: state is field 3, utime 14, stime 15.
    let after = own.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let cutime: u64 = fields.get(13)?.parse().ok()?;
    let cstime: u64 = fields.get(14)?.parse().ok()?;
    Some(CpuTicks {
        machine_busy: cpu.get(0..3)?.iter().sum::<u64>() + cpu.get(5..7)?.iter().sum::<u64>(),
        steal: *cpu.get(7)?,
        own: utime + stime,
        children: cutime + cstime,
    })
}

/// Clock ticks per second (`_SC_CLK_TCK`).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our own and our reaped children's CPU are not "others"; what is left of the machine's
    /// busy time is, over the CPUs' capacity.
    #[test]
    fn others_share_excludes_this_process_and_its_children() {
        let hz = clock_ticks();
        let t = |busy: u64, own: u64, children: u64| CpuTicks {
            machine_busy: busy * hz / 100,
            steal: 0,
            own: own * hz / 100,
            children: children * hz / 100,
        };
        let (a, b) = (t(1000, 100, 0), t(1300, 200, 100));
        // 2 CPUs for 1 s = 200 ticks at 100 Hz; the machine was busy 300, ours 200: others 100.
        let share = a.others_share(&b, std::time::Duration::from_secs(1), 2);
        assert!((share - 0.5).abs() < 1e-9, "{share}");
        assert_eq!(
            a.others_share(&t(1200, 200, 100), std::time::Duration::from_secs(1), 2),
            0.0
        );
    }

    #[test]
    fn field_parses_kb_lines_and_ignores_prefix_matches() {
        let text = "VmSizeX: 9 kB\nVmSize:\t  1234 kB\nThreads:\t3\n";
        assert_eq!(field(text, "VmSize"), Some(1234));
        assert_eq!(field(text, "Threads"), Some(3));
        assert_eq!(field(text, "VmRSS"), None);
    }

    #[test]
    fn snapshot_and_counters_are_plausible() {
        let snap = mem_snapshot().unwrap();
        assert!(snap.vsz > snap.rss && snap.rss > 0 && snap.threads >= 1);
        let (vol, _) = ctxt_switches(gettid()).unwrap();
        let _ = vol;
        assert!(map_count().unwrap() > 5);
        assert!(system_tasks().unwrap() >= snap.threads);
        assert!(sysctl("kernel/pid_max").unwrap() > 0);
        let ticks = cpu_ticks().unwrap();
        assert!(ticks.machine_busy >= ticks.own);
    }
}
