//! C10: what a switch from one unit to another costs. Two units play ping-pong: each waits for
//! its turn, hands the turn to the other and waits again. One *one-way switch* is one hand-off;
//! a run of `rounds` round trips makes `2 × rounds` of them.
//!
//! - Threads hand off through a raw futex word (what `std`'s Mutex/Condvar use underneath):
//!   `FUTEX_WAIT` puts the waiter to sleep in the kernel, `FUTEX_WAKE` wakes it. Pinned to one
//!   CPU, every hand-off is a context switch on that CPU; pinned to two CPUs, it is a wake-up
//!   across cores (an inter-processor interrupt, costly under a hypervisor).
//! - Tasks hand off through tokio channels, or by both calling `yield_now`.
//! - Coroutines hand off through may channels, or by both calling `coroutine::yield_now`.
//!
//! Each thread also counts how often it really slept in the kernel and reads its own
//! `voluntary_ctxt_switches` before and after, so a test can check the benchmark against `/proc`.

use super::affinity;
use super::error::{CostsError, Result};
use super::procfs;
use serde::Serialize;
use std::sync::Arc;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// Where the two ping-pong threads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Placement {
    /// Both pinned to this CPU.
    SameCore(usize),
    /// Pinned to two different CPUs.
    CrossCore(usize, usize),
}

/// One thread ping-pong run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThreadSwitch {
    /// Nanoseconds per one-way switch (hand-off).
    pub ns_per_switch: f64,
    /// One-way hand-offs made (`2 × rounds`).
    pub switches: u64,
    /// How many `FUTEX_WAIT`s actually slept (returned after a wake), both threads together.
    pub slept: u64,
    /// Increase of `voluntary_ctxt_switches` of the two threads, from `/proc`.
    pub voluntary: u64,
    /// Increase of `nonvoluntary_ctxt_switches` of the two threads, from `/proc`.
    pub nonvoluntary: u64,
}

fn futex_wait(word: &AtomicU32, expected: u32) -> bool {
    // SAFETY: FUTEX_WAIT reads the u32 behind a valid, aligned pointer that outlives the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        )
    };
    // 0: we slept and were woken. -1 with EAGAIN: the word had already changed, no sleep.
    rc == 0
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

/// What one side of the ping-pong reports.
struct Side {
    slept: u64,
    voluntary: u64,
    nonvoluntary: u64,
    elapsed_ns: f64,
}

/// `me` is 0 or 1; the word holds whose turn it is.
fn play(turn: &AtomicU32, me: u32, rounds: u64, cpu: usize, start: &Barrier) -> Result<Side> {
    affinity::pin_to(cpu)?;
    let tid = procfs::gettid();
    let before = procfs::ctxt_switches(tid)?;
    start.wait();
    let t0 = Instant::now();
    let mut slept = 0;
    for _ in 0..rounds {
        loop {
            let now = turn.load(Ordering::Acquire);
            if now == me {
                break;
            }
            if futex_wait(turn, now) {
                slept += 1;
            }
        }
        turn.store(1 - me, Ordering::Release);
        futex_wake(turn);
    }
    let elapsed_ns = t0.elapsed().as_nanos() as f64;
    let after = procfs::ctxt_switches(tid)?;
    Ok(Side {
        slept,
        voluntary: after.0 - before.0,
        nonvoluntary: after.1 - before.1,
        elapsed_ns,
    })
}

/// Thread ping-pong over a futex: `rounds` round trips.
pub fn threads_futex(rounds: u64, placement: Placement) -> Result<ThreadSwitch> {
    let (cpu_a, cpu_b) = match placement {
        Placement::SameCore(c) => (c, c),
        Placement::CrossCore(a, b) => (a, b),
    };
    let turn = Arc::new(AtomicU32::new(0));
    let start = Arc::new(Barrier::new(2));
    let (t2, s2) = (turn.clone(), start.clone());
    let other = std::thread::Builder::new()
        .spawn(move || play(&t2, 1, rounds, cpu_b, &s2))
        .map_err(|e| CostsError::Spawn {
            unit: "thread",
            detail: e.to_string(),
        })?;
    // Run side A on a helper thread too, so pinning never touches the caller's mask.
    let (t1, s1) = (turn, start);
    let mine = std::thread::Builder::new()
        .spawn(move || play(&t1, 0, rounds, cpu_a, &s1))
        .map_err(|e| CostsError::Spawn {
            unit: "thread",
            detail: e.to_string(),
        })?;
    let broken = || CostsError::Broken("a ping-pong thread panicked".into());
    let a = mine.join().map_err(|_| broken())??;
    let b = other.join().map_err(|_| broken())??;
    let switches = 2 * rounds;
    Ok(ThreadSwitch {
        ns_per_switch: a.elapsed_ns.max(b.elapsed_ns) / switches as f64,
        switches,
        slept: a.slept + b.slept,
        voluntary: a.voluntary + b.voluntary,
        nonvoluntary: a.nonvoluntary + b.nonvoluntary,
    })
}

/// A pipe's two ends, closed on drop.
struct Pipe([libc::c_int; 2]);

impl Pipe {
    fn new() -> Result<Self> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two fds into the array we own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(CostsError::os("pipe2", std::io::Error::last_os_error()));
        }
        Ok(Self(fds))
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: we own both fds and close each once.
        unsafe {
            libc::close(self.0[0]);
            libc::close(self.0[1]);
        }
    }
}

/// Move one byte: write it to `to`, then block reading one from `from`.
fn pipe_round(to: libc::c_int, from: libc::c_int, first: bool) -> bool {
    let mut byte = 0u8;
    // SAFETY: one-byte reads and writes into a byte we own, on fds kept open by the caller.
    unsafe {
        if first && libc::write(to, (&raw const byte).cast(), 1) != 1 {
            return false;
        }
        if libc::read(from, (&raw mut byte).cast(), 1) != 1 {
            return false;
        }
        if !first && libc::write(to, (&raw const byte).cast(), 1) != 1 {
            return false;
        }
    }
    true
}

/// Thread ping-pong over two pipes (the classic `perf bench sched pipe`): ns per one-way
/// hand-off. Heavier than a futex: each hand-off is a `write` plus a blocking `read`.
pub fn threads_pipe(rounds: u64, placement: Placement) -> Result<f64> {
    let (cpu_a, cpu_b) = match placement {
        Placement::SameCore(c) => (c, c),
        Placement::CrossCore(a, b) => (a, b),
    };
    let (ab, ba) = (Arc::new(Pipe::new()?), Arc::new(Pipe::new()?));
    let start = Arc::new(Barrier::new(2));
    let side = |cpu: usize, first: bool| {
        let (ab, ba, start) = (ab.clone(), ba.clone(), start.clone());
        move || -> Result<f64> {
            affinity::pin_to(cpu)?;
            let (to, from) = if first {
                (ab.0[1], ba.0[0])
            } else {
                (ba.0[1], ab.0[0])
            };
            start.wait();
            let t0 = Instant::now();
            for _ in 0..rounds {
                if !pipe_round(to, from, first) {
                    return Err(CostsError::Broken("pipe ping-pong stopped".into()));
                }
            }
            Ok(t0.elapsed().as_nanos() as f64)
        }
    };
    let spawn = |f: Box<dyn FnOnce() -> Result<f64> + Send>| {
        std::thread::Builder::new()
            .spawn(f)
            .map_err(|e| CostsError::Spawn {
                unit: "thread",
                detail: e.to_string(),
            })
    };
    let b = spawn(Box::new(side(cpu_b, false)))?;
    let a = spawn(Box::new(side(cpu_a, true)))?;
    let broken = || CostsError::Broken("a ping-pong thread panicked".into());
    let ns = a.join().map_err(|_| broken())??;
    b.join().map_err(|_| broken())??;
    Ok(ns / (2 * rounds) as f64)
}

fn runtime(workers: Option<usize>) -> Result<tokio::runtime::Runtime> {
    let built = match workers {
        None => tokio::runtime::Builder::new_current_thread().build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .build(),
    };
    built.map_err(|e| CostsError::os("building a tokio runtime", e))
}

/// Task ping-pong over two tokio mpsc channels: ns per one-way hand-off. `workers = None` is a
/// current-thread runtime (one core); `Some(n)` a multi-thread runtime with `n` workers.
pub fn tasks_channel(rounds: u64, workers: Option<usize>) -> Result<f64> {
    let rt = runtime(workers)?;
    let elapsed = rt.block_on(async move {
        let (to_b, mut b_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let (to_a, mut a_rx) = tokio::sync::mpsc::channel::<u64>(1);
        let b = tokio::spawn(async move {
            while let Some(v) = b_rx.recv().await {
                if to_a.send(v).await.is_err() {
                    break;
                }
            }
        });
        let a = tokio::spawn(async move {
            let t0 = Instant::now();
            for i in 0..rounds {
                to_b.send(i).await.ok()?;
                a_rx.recv().await?;
            }
            Some(t0.elapsed())
        });
        let elapsed = a.await.ok().flatten();
        b.await.ok();
        elapsed
    });
    let elapsed = elapsed.ok_or_else(|| CostsError::Broken("task ping-pong stopped".into()))?;
    Ok(elapsed.as_nanos() as f64 / (2 * rounds) as f64)
}

/// Two tasks calling `yield_now` on a current-thread runtime: ns per switch between them.
pub fn tasks_yield(rounds: u64) -> Result<f64> {
    let rt = runtime(None)?;
    let elapsed = rt.block_on(async move {
        let t0 = Instant::now();
        let spin = || async move {
            for _ in 0..rounds {
                tokio::task::yield_now().await;
            }
        };
        let (a, b) = tokio::join!(tokio::spawn(spin()), tokio::spawn(spin()));
        a.and(b).map(|_| t0.elapsed())
    });
    let elapsed = elapsed.map_err(|e| CostsError::Broken(e.to_string()))?;
    Ok(elapsed.as_nanos() as f64 / (2 * rounds) as f64)
}

/// Two coroutines calling `yield_now` on may's single worker: ns per switch between them.
#[cfg(feature = "coroutines")]
pub fn coroutines_yield(rounds: u64) -> Result<f64> {
    use super::coroutine;
    let spawn = |f: fn(u64)| {
        coroutine::spawn(move || f(rounds)).map_err(|detail| CostsError::Spawn {
            unit: "coroutine",
            detail,
        })
    };
    let t0 = Instant::now();
    let a = spawn(yield_loop)?;
    let b = spawn(yield_loop)?;
    let broken = || CostsError::Broken("a coroutine panicked".into());
    a.join().map_err(|_| broken())?;
    b.join().map_err(|_| broken())?;
    Ok(t0.elapsed().as_nanos() as f64 / (2 * rounds) as f64)
}

#[cfg(feature = "coroutines")]
fn yield_loop(rounds: u64) {
    for _ in 0..rounds {
        may::coroutine::yield_now();
    }
}

/// Coroutine ping-pong over two may channels: ns per one-way hand-off.
#[cfg(feature = "coroutines")]
pub fn coroutines_channel(rounds: u64) -> Result<f64> {
    use super::coroutine;
    let (to_b, b_rx) = may::sync::mpsc::channel::<u64>();
    let (to_a, a_rx) = may::sync::mpsc::channel::<u64>();
    let spawn_err = |detail| CostsError::Spawn {
        unit: "coroutine",
        detail,
    };
    let b = coroutine::spawn(move || {
        while let Ok(v) = b_rx.recv() {
            if to_a.send(v).is_err() {
                break;
            }
        }
    })
    .map_err(spawn_err)?;
    let a = coroutine::spawn(move || {
        let t0 = Instant::now();
        for i in 0..rounds {
            to_b.send(i).ok()?;
            a_rx.recv().ok()?;
        }
        Some(t0.elapsed())
    })
    .map_err(spawn_err)?;
    let elapsed = a.join().ok().flatten();
    b.join().ok();
    let elapsed =
        elapsed.ok_or_else(|| CostsError::Broken("coroutine ping-pong stopped".into()))?;
    Ok(elapsed.as_nanos() as f64 / (2 * rounds) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark's own count of kernel sleeps must match what `/proc` counts as voluntary
    /// context switches of its two threads: if the futex wait never slept (a spin, a no-op),
    /// or slept more than we think, the "switch" we time is not the switch we claim.
    #[test]
    fn futex_sleeps_match_proc_voluntary_switches() {
        let _serial = crate::costs::TEST_LOCK.lock();
        let (cpu, _) = affinity::two_cpus().unwrap();
        let r = threads_futex(2000, Placement::SameCore(cpu)).unwrap();
        assert_eq!(r.switches, 4000);
        // On one CPU the waiter must really sleep for most hand-offs.
        assert!(r.slept >= r.switches / 2, "{r:?}");
        // /proc may add a handful (barrier, reading /proc itself, page faults) but no more.
        let diff = r.voluntary.abs_diff(r.slept);
        assert!(diff <= 20 + r.slept / 100, "{r:?}");
    }

    #[test]
    fn task_and_coroutine_switches_run() {
        let _serial = crate::costs::TEST_LOCK.lock();
        let (cpu, _) = affinity::two_cpus().unwrap();
        for ns in [
            threads_pipe(500, Placement::SameCore(cpu)).unwrap(),
            tasks_channel(1000, None).unwrap(),
            tasks_channel(1000, Some(2)).unwrap(),
            tasks_yield(1000).unwrap(),
        ] {
            assert!(ns > 0.0 && ns < 1e9, "{ns}");
        }
        #[cfg(feature = "coroutines")]
        for ns in [
            coroutines_yield(1000).unwrap(),
            coroutines_channel(1000).unwrap(),
        ] {
            assert!(ns > 0.0 && ns < 1e9, "{ns}");
        }
    }
}
