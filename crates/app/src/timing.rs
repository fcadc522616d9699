//! Where a request's time goes: CPU time of the threads that polled it, and wall time spent
//! waiting on each remote call. This is what the chapter's Fig 2 breakdown is built from.
//!
//! Thread CPU time comes from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`: time the *calling
//! thread* spent running, excluding time it sat blocked in the kernel. A tokio task may be
//! polled by a different worker thread after every await, so one "before/after the handler"
//! pair of readings would mix two threads' clocks. [`CpuTimed`] therefore reads the clock
//! before and after **every** poll, on the thread doing that poll, and sums the deltas.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// CPU time consumed so far by the calling thread, or `None` if the clock is unavailable.
pub fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_THREAD_CPUTIME_ID is a clock id every supported (Linux) kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

fn thread_cpu_nanos() -> u64 {
    thread_cpu_time().map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Marks "no poll in progress" in [`MeterState::poll_start_ns`].
const NOT_POLLING: u64 = u64::MAX;

#[derive(Debug)]
struct MeterState {
    /// CPU nanoseconds of all finished polls.
    total_ns: AtomicU64,
    /// Thread CPU clock at the start of the poll in progress, or [`NOT_POLLING`].
    poll_start_ns: AtomicU64,
}

/// A shared reading of a [`CpuTimed`] future's CPU time, so the future itself can report its
/// CPU time so far (the dashboard puts it in its response before it finishes).
///
/// Relaxed atomics suffice: the meter is only written by whichever thread polls the task, and
/// an executor moving a task between threads already synchronises (happens-before) the moves.
#[derive(Debug, Clone)]
pub struct CpuMeter {
    state: Arc<MeterState>,
}

impl Default for CpuMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuMeter {
    pub fn new() -> Self {
        Self {
            state: Arc::new(MeterState {
                total_ns: AtomicU64::new(0),
                poll_start_ns: AtomicU64::new(NOT_POLLING),
            }),
        }
    }

    /// CPU time of all finished polls plus, when called from inside a poll (on the polling
    /// thread), the part of the current poll so far.
    pub fn elapsed(&self) -> Duration {
        let total = self.state.total_ns.load(Ordering::Relaxed);
        let start = self.state.poll_start_ns.load(Ordering::Relaxed);
        let current = if start == NOT_POLLING {
            0
        } else {
            thread_cpu_nanos().saturating_sub(start)
        };
        Duration::from_nanos(total.saturating_add(current))
    }

    /// Wrap `fut` so every poll of it is charged to this meter.
    pub fn wrap<F: Future>(&self, fut: F) -> CpuTimed<F> {
        CpuTimed {
            fut,
            meter: self.clone(),
        }
    }

    fn begin_poll(&self) {
        self.state
            .poll_start_ns
            .store(thread_cpu_nanos(), Ordering::Relaxed);
    }

    fn end_poll(&self) {
        let start = self
            .state
            .poll_start_ns
            .swap(NOT_POLLING, Ordering::Relaxed);
        if start != NOT_POLLING {
            let spent = thread_cpu_nanos().saturating_sub(start);
            self.state.total_ns.fetch_add(spent, Ordering::Relaxed);
        }
    }
}

/// A future that sums the thread CPU time of every poll of the future it wraps.
/// Resolves to the inner output and the total CPU time. Build with [`CpuTimed::new`] or
/// [`CpuMeter::wrap`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct CpuTimed<F> {
    fut: F,
    meter: CpuMeter,
}

impl<F: Future> CpuTimed<F> {
    pub fn new(fut: F) -> Self {
        CpuMeter::new().wrap(fut)
    }

    /// The meter this future charges, for reading CPU time while it runs.
    pub fn meter(&self) -> &CpuMeter {
        &self.meter
    }
}

impl<F: Future> Future for CpuTimed<F> {
    type Output = (F::Output, Duration);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `fut`: it is never moved out of `self`, `CpuTimed` has
        // no `Drop` impl, and it is `Unpin` only when `F` is (auto trait), so the pin
        // guarantee for `fut` is upheld. `meter` is not pinned and only used by reference.
        let this = unsafe { self.get_unchecked_mut() };
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        this.meter.begin_poll();
        let poll = fut.poll(cx);
        this.meter.end_poll();
        poll.map(|out| (out, this.meter.elapsed()))
    }
}

/// Wall time of one awaited remote call.
///
/// Takes a closure, not a future, on purpose: a blocking backend does its blocking work in the
/// method body (before it returns a ready future), so the clock must start before the method
/// is *called*, not merely before its future is awaited.
pub async fn wall_timed<F, Fut>(call: F) -> (Fut::Output, Duration)
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let start = Instant::now();
    let out = call().await;
    (out, start.elapsed())
}

/// Saturating microseconds, for JSON fields.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::cpu::burn_thread_cpu;

    #[test]
    fn thread_clock_advances_with_work_not_with_sleep() {
        let t0 = thread_cpu_time().expect("thread CPU clock");
        std::thread::sleep(Duration::from_millis(30));
        let slept = thread_cpu_time().expect("thread CPU clock") - t0;
        // Sleeping costs (almost) no CPU; 30 ms of sleep must not show up as CPU time.
        assert!(
            slept < Duration::from_millis(15),
            "sleep charged {slept:?} of CPU"
        );
        let burned = burn_thread_cpu(Duration::from_millis(20));
        assert!(
            burned >= Duration::from_millis(20),
            "burned only {burned:?}"
        );
    }

    /// A future that burns ~20 ms of CPU, then waits on a timer, then burns a little more:
    /// CPU ≥ 15 ms (the burns), and CPU ≤ wall (the wait is not CPU).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cpu_timed_sums_polls_and_excludes_waiting() {
        let wall = Instant::now();
        let work = async {
            burn_thread_cpu(Duration::from_millis(20));
            tokio::time::sleep(Duration::from_millis(30)).await;
            // Yield too, so the task may be picked up by the other worker thread.
            tokio::task::yield_now().await;
            burn_thread_cpu(Duration::from_millis(2));
            7
        };
        let (out, cpu) = tokio::spawn(CpuTimed::new(work)).await.expect("task");
        let wall = wall.elapsed();
        assert_eq!(out, 7);
        assert!(cpu >= Duration::from_millis(15), "cpu {cpu:?}");
        assert!(cpu <= wall, "cpu {cpu:?} > wall {wall:?}");
        // The 30 ms sleep is not CPU; generous bound for a noisy machine.
        assert!(
            wall >= cpu + Duration::from_millis(25),
            "cpu {cpu:?} wall {wall:?}"
        );
    }

    #[tokio::test]
    async fn meter_reads_cpu_so_far_inside_the_future() {
        let meter = CpuMeter::new();
        let reader = meter.clone();
        let (inside, total) = meter
            .wrap(async move {
                burn_thread_cpu(Duration::from_millis(10));
                reader.elapsed()
            })
            .await;
        assert!(inside >= Duration::from_millis(10), "inside {inside:?}");
        assert!(total >= inside, "total {total:?} < inside {inside:?}");
        assert_eq!(
            meter.elapsed(),
            total,
            "no poll in progress after completion"
        );
    }

    #[test]
    fn wall_timed_starts_the_clock_before_the_call() {
        // A "blocking backend" call: blocks in the method body, returns a ready future.
        let blocking_call = || {
            std::thread::sleep(Duration::from_millis(20));
            std::future::ready(5)
        };
        let fut = wall_timed(blocking_call);
        let (out, waited) = crate::tests::block_on(fut);
        assert_eq!(out, 5);
        assert!(waited >= Duration::from_millis(20), "waited {waited:?}");
    }
}
