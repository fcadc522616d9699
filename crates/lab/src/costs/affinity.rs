//! Pinning the calling thread to CPUs (`sched_setaffinity`), to measure "same core" against
//! "across cores" and to take the scheduler's placement out of creation timings.

use super::error::{CostsError, Result};
use std::io;

/// A CPU set saved from a thread, to put back after a pinned measurement.
#[derive(Clone, Copy)]
pub struct CpuMask(libc::cpu_set_t);

impl std::fmt::Debug for CpuMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CpuMask").field(&self.cpus()).finish()
    }
}

impl CpuMask {
    /// The calling thread's current mask.
    pub fn current() -> Result<Self> {
        // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set, sched_getaffinity fills it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: the pointer and size describe `set`, which lives for the call.
        let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
        if rc != 0 {
            return Err(CostsError::os(
                "sched_getaffinity",
                io::Error::last_os_error(),
            ));
        }
        Ok(Self(set))
    }

    /// A mask holding exactly `cpu`.
    pub fn only(cpu: usize) -> Self {
        // SAFETY: zeroed is the empty set; CPU_SET ignores a cpu beyond CPU_SETSIZE.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, owned cpu_set_t.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        Self(set)
    }

    /// The CPUs in this mask.
    pub fn cpus(&self) -> Vec<usize> {
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: reads a bit of our own cpu_set_t, in bounds.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &self.0) })
            .collect()
    }

    /// Apply this mask to the calling thread (threads it spawns afterwards inherit it).
    pub fn apply(&self) -> Result<()> {
        // SAFETY: the pointer and size describe our own cpu_set_t.
        let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &self.0) };
        if rc != 0 {
            return Err(CostsError::os(
                "sched_setaffinity",
                io::Error::last_os_error(),
            ));
        }
        Ok(())
    }
}

/// Pin the calling thread to `cpu`.
pub fn pin_to(cpu: usize) -> Result<()> {
    CpuMask::only(cpu).apply()
}

/// The first two CPUs this thread may run on: `(same, other)`; `other` is `None` on one CPU.
pub fn two_cpus() -> Result<(usize, Option<usize>)> {
    let cpus = CpuMask::current()?.cpus();
    let first = *cpus
        .first()
        .ok_or_else(|| CostsError::Broken("empty CPU affinity mask".into()))?;
    Ok((first, cpus.get(1).copied()))
}

/// Run `f` with the calling thread pinned to `cpu`, then restore the previous mask.
pub fn with_pinned<T>(cpu: usize, f: impl FnOnce() -> T) -> Result<T> {
    let saved = CpuMask::current()?;
    pin_to(cpu)?;
    let out = f();
    saved.apply()?;
    Ok(out)
}
