//! C07, C08, C15: what an idle unit costs in memory. Create K units that park, read the
//! process's memory (`/proc/self/status`, `/proc/self/smaps_rollup`, `/proc/meminfo`) before and
//! after, divide the difference by K.
//!
//! Caches are emptied before the baseline so they neither inflate it nor hide the new units'
//! cost: freed heap is trimmed (`malloc_trim`), and a warm-up group of units is created first,
//! which takes back whatever stacks glibc's thread-stack cache or may's coroutine pool hold.

use super::error::{CostsError, Result};
use super::parked::ParkedThreads;
use super::procfs::{self, MemSnapshot};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Threads created before the baseline: glibc caches up to 40 MiB of freed thread stacks.
const WARM_THREADS: usize = 24;

/// Memory per idle unit, from one probe of K units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryPerUnit {
    /// K: units alive (parked) at the second snapshot.
    pub units: u64,
    /// Virtual size per unit, bytes.
    pub vsz_per_unit: f64,
    /// Resident set per unit (`smaps_rollup`), bytes.
    pub rss_per_unit: f64,
    /// Kernel stack per unit, bytes (threads only): the change of `/proc/meminfo KernelStack`
    /// over the change of the system's thread count, so threads other processes started or
    /// ended during the probe do not bias it (see [`MemSnapshot::system_threads`]).
    pub kernel_stack_per_unit: Option<f64>,
    /// Threads other processes started (or, negative, ended) during the probe: the bias the
    /// kernel-stack figure would have had, divided by K alone.
    pub other_threads_delta: i64,
    /// Nanoseconds per unit to create the K units while the earlier ones stay alive: fresh
    /// stacks every time, unlike spawn + join, where glibc and may reuse the last one.
    pub spawn_ns_per_unit: f64,
    /// Snapshot before the K units.
    pub before: MemSnapshot,
    /// Snapshot with the K units parked.
    pub after: MemSnapshot,
}

impl MemoryPerUnit {
    fn from(
        before: MemSnapshot,
        after: MemSnapshot,
        units: u64,
        kernel: bool,
        spawn: std::time::Duration,
    ) -> Self {
        let per = |a: u64, b: u64| (a as f64 - b as f64) / units.max(1) as f64;
        let system_delta = after.system_threads as i64 - before.system_threads as i64;
        let stacks_delta = after.kernel_stack as f64 - before.kernel_stack as f64;
        Self {
            units,
            spawn_ns_per_unit: spawn.as_nanos() as f64 / units.max(1) as f64,
            vsz_per_unit: per(after.vsz, before.vsz),
            rss_per_unit: per(after.rss, before.rss),
            kernel_stack_per_unit: kernel.then(|| {
                if system_delta > 0 {
                    stacks_delta / system_delta as f64
                } else {
                    per(after.kernel_stack, before.kernel_stack)
                }
            }),
            other_threads_delta: if kernel {
                system_delta - units as i64
            } else {
                0
            },
            before,
            after,
        }
    }

    /// Resident bytes of all K units together (user RSS plus kernel stacks when known).
    pub fn total_bytes(&self) -> f64 {
        (self.rss_per_unit + self.kernel_stack_per_unit.unwrap_or(0.0)) * self.units as f64
    }
}

fn spawn_err(e: std::io::Error) -> CostsError {
    CostsError::Spawn {
        unit: "thread",
        detail: e.to_string(),
    }
}

/// K parked threads with `stack` bytes of stack (`None`: std's default, 2 MiB unless
/// `RUST_MIN_STACK` says otherwise), each touching `touch_pages` pages of it first.
pub fn threads(k: usize, stack: Option<usize>, touch_pages: usize) -> Result<MemoryPerUnit> {
    let mut warm = ParkedThreads::with_capacity(WARM_THREADS);
    for _ in 0..WARM_THREADS {
        warm.spawn(stack, touch_pages).map_err(spawn_err)?;
    }
    warm.wait_parked();
    let mut group = ParkedThreads::with_capacity(k);
    procfs::trim_heap();
    let before = procfs::mem_snapshot()?;
    let t0 = Instant::now();
    for _ in 0..k {
        group.spawn(stack, touch_pages).map_err(spawn_err)?;
    }
    let spawn = t0.elapsed();
    group.wait_parked();
    let after = procfs::mem_snapshot()?;
    group.release();
    warm.release();
    Ok(MemoryPerUnit::from(before, after, k as u64, true, spawn))
}

/// Why a task probe stopped before its target (set by the caller's guard).
pub type Guard<'a, T> = &'a mut dyn FnMut(u64) -> Option<T>;

/// K tokio tasks, each parked on a shared `Notify`, on a current-thread runtime. `guard` is
/// asked every 10,000 spawns whether to stop early (the limit probe stops before memory runs
/// out); its answer comes back with the measurement.
pub fn tasks<T>(k: u64, guard: Guard<'_, T>) -> Result<(MemoryPerUnit, Option<T>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| CostsError::os("building a tokio runtime", e))?;
    rt.block_on(async move {
        let notify = Arc::new(tokio::sync::Notify::new());
        let started = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicU64::new(0));
        procfs::trim_heap();
        let before = procfs::mem_snapshot()?;
        let mut spawned = 0;
        let mut stop = None;
        let t0 = Instant::now();
        while spawned < k {
            if spawned % 10_000 == 0 {
                stop = guard(spawned);
                if stop.is_some() {
                    break;
                }
            }
            let (notify, started, finished) = (notify.clone(), started.clone(), finished.clone());
            // The JoinHandle is dropped (detached): keeping a million of them would add their
            // own 8 bytes each to the figure.
            drop(tokio::spawn(async move {
                let parked = notify.notified();
                started.fetch_add(1, Ordering::AcqRel);
                parked.await;
                finished.fetch_add(1, Ordering::AcqRel);
            }));
            spawned += 1;
        }
        let spawn = t0.elapsed();
        // Let the runtime poll every task once, so each is really parked in `notified()`.
        while started.load(Ordering::Acquire) < spawned {
            tokio::task::yield_now().await;
        }
        let after = procfs::mem_snapshot()?;
        notify.notify_waiters();
        while finished.load(Ordering::Acquire) < spawned {
            tokio::task::yield_now().await;
        }
        Ok((
            MemoryPerUnit::from(before, after, spawned, false, spawn),
            stop,
        ))
    })
}

/// K parked may coroutines (32 KiB stacks, see [`super::coroutine`]).
#[cfg(feature = "coroutines")]
pub fn coroutines(k: usize) -> Result<MemoryPerUnit> {
    use super::parked::ParkedCoroutines;
    let spawn_err = |detail| CostsError::Spawn {
        unit: "coroutine",
        detail,
    };
    // Drain may's pool of 1,000 recycled coroutines, stacks included, before the baseline.
    let warm_n = may::config().get_pool_capacity() + 16;
    let mut warm = ParkedCoroutines::with_capacity(warm_n);
    for _ in 0..warm_n {
        warm.spawn().map_err(spawn_err)?;
    }
    warm.wait_parked();
    let group = ParkedCoroutines::with_capacity(k);
    procfs::trim_heap();
    let before = procfs::mem_snapshot()?;
    // Spawn from a coroutine on may's worker, as a coroutine server's acceptor would: spawning
    // from a plain thread would add a wake-up of the worker per coroutine to the timing.
    let (mut group, spawn) = super::coroutine::spawn(move || {
        let mut group = group;
        let t0 = Instant::now();
        let spawned: std::result::Result<(), String> = (0..k).try_for_each(|_| group.spawn());
        (group, t0.elapsed(), spawned)
    })
    .map_err(spawn_err)?
    .join()
    .map_err(|_| CostsError::Broken("the spawning coroutine panicked".into()))
    .and_then(|(group, spawn, spawned)| spawned.map(|()| (group, spawn)).map_err(spawn_err))?;
    group.wait_parked();
    let after = procfs::mem_snapshot()?;
    group.release();
    warm.release();
    Ok(MemoryPerUnit::from(before, after, k as u64, false, spawn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::parked::PAGE;

    /// The probe must see stack pages the threads really touch: 64 threads writing 64 extra
    /// pages each must add at least ~64 × 4 KiB of RSS per thread over idle threads.
    #[test]
    fn rss_grows_with_touched_stack_pages() {
        const K: usize = 64;
        const PAGES: usize = 64;
        let _serial = crate::costs::TEST_LOCK.lock();
        let idle = threads(K, None, 0).unwrap();
        let busy = threads(K, None, PAGES).unwrap();
        let grown = busy.rss_per_unit - idle.rss_per_unit;
        let expected = (PAGES * PAGE) as f64;
        assert!(
            // Frames carry a little more than their page (return address, saved registers).
            grown > 0.8 * expected && grown < 1.5 * expected,
            "idle {idle:?}\nbusy {busy:?}\ngrown {grown} expected {expected}"
        );
        // Each thread reserves at least its 2 MiB stack of address space.
        assert!(idle.vsz_per_unit >= 2.0 * 1024.0 * 1024.0, "{idle:?}");
    }

    #[test]
    fn parked_tasks_cost_something_but_far_less_than_a_stack() {
        let _serial = crate::costs::TEST_LOCK.lock();
        let (m, stop) = tasks::<()>(20_000, &mut |_| None).unwrap();
        assert!(stop.is_none() && m.units == 20_000);
        assert!(
            m.rss_per_unit > 16.0 && m.rss_per_unit < 64.0 * 1024.0,
            "{m:?}"
        );
    }
}

#[cfg(test)]
mod kernel_stack_tests {
    use super::*;
    use std::time::Duration;

    fn snap(kernel_stack: u64, system_threads: u64) -> MemSnapshot {
        MemSnapshot {
            kernel_stack,
            system_threads,
            ..MemSnapshot::default()
        }
    }

    /// 100 threads of ours and 20 of another process start during the probe: the figure is
    /// still one kernel stack (16 KiB), not 120/100 of one, and the 20 are reported.
    #[test]
    fn other_processes_threads_do_not_bias_the_kernel_stack() {
        const STACK: u64 = 16 * 1024;
        let before = snap(1_000_000, 500);
        let after = snap(1_000_000 + 120 * STACK, 620);
        let m = MemoryPerUnit::from(before, after, 100, true, Duration::ZERO);
        assert_eq!(m.kernel_stack_per_unit, Some(STACK as f64));
        assert_eq!(m.other_threads_delta, 20);
        // And 30 threads ending elsewhere meanwhile.
        let after = snap(1_000_000 + 70 * STACK, 570);
        let m = MemoryPerUnit::from(before, after, 100, true, Duration::ZERO);
        assert_eq!(m.kernel_stack_per_unit, Some(STACK as f64));
        assert_eq!(m.other_threads_delta, -30);
    }

    #[test]
    fn units_that_are_not_threads_report_no_kernel_stack() {
        let m = MemoryPerUnit::from(snap(0, 10), snap(0, 10), 1000, false, Duration::ZERO);
        assert_eq!(m.kernel_stack_per_unit, None);
        assert_eq!(m.other_threads_delta, 0);
    }
}
