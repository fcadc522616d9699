//! C09: what creating a unit costs: spawn it, let it run an empty body, join it. One figure per
//! run: the median over many units (threads are timed one by one; tasks and coroutines, too
//! cheap for one clock read each, in batches of [`BATCH`]).

use super::affinity;
use super::error::{CostsError, Result};
use super::stats::median;
use std::time::Instant;

/// Units per timed batch for tasks and coroutines.
pub const BATCH: usize = 100;

/// Median ns of one `std::thread::spawn` + `join`, over `n` threads. With `pin = Some(cpu)` the
/// spawning thread (and so every child, which inherits the mask) runs on that one CPU.
pub fn thread_spawn_join_ns(n: usize, pin: Option<usize>) -> Result<f64> {
    let measure = || -> Result<Vec<f64>> {
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Instant::now();
            std::thread::Builder::new()
                .spawn(|| std::hint::black_box(0u8))
                .map_err(|e| CostsError::Spawn {
                    unit: "thread",
                    detail: e.to_string(),
                })?
                .join()
                .map_err(|_| CostsError::Broken("an empty thread panicked".into()))?;
            samples.push(start.elapsed().as_nanos() as f64);
        }
        Ok(samples)
    };
    let mut samples = match pin {
        Some(cpu) => affinity::with_pinned(cpu, measure)??,
        None => measure()?,
    };
    median(&mut samples).ok_or_else(|| CostsError::Broken("no samples".into()))
}

/// Median ns of one `tokio::spawn` + `.await` of its handle, on a current-thread runtime.
pub fn tokio_spawn_join_ns(n: usize) -> Result<f64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| CostsError::os("building a tokio runtime", e))?;
    let mut samples = rt.block_on(async {
        let mut samples = Vec::with_capacity(n / BATCH + 1);
        for _ in 0..n.div_ceil(BATCH) {
            let start = Instant::now();
            for _ in 0..BATCH {
                tokio::spawn(async { std::hint::black_box(0u8) })
                    .await
                    .map_err(|e| CostsError::Broken(e.to_string()))?;
            }
            samples.push(start.elapsed().as_nanos() as f64 / BATCH as f64);
        }
        Ok::<_, CostsError>(samples)
    })?;
    median(&mut samples).ok_or_else(|| CostsError::Broken("no samples".into()))
}

/// Median ns of one may coroutine spawn + join, both done by a coroutine on may's worker (as
/// tokio's are done by a task): the join parks the spawner in user space. Done from a plain
/// thread, each join would add two OS-level wake-ups between that thread and the worker.
#[cfg(feature = "coroutines")]
pub fn coroutine_spawn_join_ns(n: usize) -> Result<f64> {
    use super::coroutine;
    let spawn_err = |detail| CostsError::Spawn {
        unit: "coroutine",
        detail,
    };
    let driver = coroutine::spawn(move || -> Result<Vec<f64>> {
        let mut samples = Vec::with_capacity(n / BATCH + 1);
        for _ in 0..n.div_ceil(BATCH) {
            let start = Instant::now();
            for _ in 0..BATCH {
                coroutine::spawn(|| std::hint::black_box(0u8))
                    .map_err(spawn_err)?
                    .join()
                    .map_err(|_| CostsError::Broken("an empty coroutine panicked".into()))?;
            }
            samples.push(start.elapsed().as_nanos() as f64 / BATCH as f64);
        }
        Ok(samples)
    })
    .map_err(spawn_err)?;
    let mut samples = driver
        .join()
        .map_err(|_| CostsError::Broken("the spawning coroutine panicked".into()))??;
    median(&mut samples).ok_or_else(|| CostsError::Broken("no samples".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Only sanity: a real spawn cannot be free, and cannot take a second. Speed targets live in
    // `clab costs`, not in unit tests.
    #[test]
    fn creation_costs_are_positive_and_finite() {
        let _serial = crate::costs::TEST_LOCK.lock();
        let (cpu, _) = affinity::two_cpus().unwrap();
        for ns in [
            thread_spawn_join_ns(50, Some(cpu)).unwrap(),
            thread_spawn_join_ns(50, None).unwrap(),
            tokio_spawn_join_ns(500).unwrap(),
        ] {
            assert!(ns > 1.0 && ns < 1e9, "{ns}");
        }
        #[cfg(feature = "coroutines")]
        {
            let ns = coroutine_spawn_join_ns(500).unwrap();
            assert!(ns > 1.0 && ns < 1e9, "{ns}");
        }
    }
}
