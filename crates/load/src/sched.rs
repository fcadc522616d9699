//! The scheduling policy of the worker threads.
//!
//! A load generator on the same machine as the server takes CPU from it. Under Linux's default
//! policy a worker woken by one arriving response preempts the server thread on that core at
//! once, reads that one response, sends one request and sleeps again: on two shared cores that
//! ping-pong (each switch a few µs; a cross-core wake here ~35 µs) is what limits the run, not
//! either program. `SCHED_BATCH` keeps the worker's fair share of CPU but gives up wakeup
//! preemption: it runs when the server thread blocks or its slice ends, and then finds many
//! responses ready. `scripts/bench-load.sh` runs clab both ways (`clab` and `clab-normal`) so
//! the difference is measured on the user's machine; on a 2-vCPU VM against hyper's hello-world
//! it was 10–15% more requests/s and ~15% less client CPU per request, p50/p99 no worse. wrk
//! gains nothing from the same policy (`chrt -b 0 wrk`): its loop already spends longer between
//! waits, so it seldom sleeps with few responses pending.
//!
//! Open loop is different: a send is due at a fixed time and a late send is counted against the
//! server (latency is measured from the intended time), so there the worker keeps the normal
//! policy and its timer wakeups keep their preemption. When client and server have their own
//! cores the policy changes nothing.

use std::fmt;
use std::io;

/// What the user asked for (`--sched`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchedPolicy {
    /// `Batch` in closed loop, `Normal` in open loop.
    #[default]
    Auto,
    /// The default policy (`SCHED_OTHER`): wakeups may preempt.
    Normal,
    /// `SCHED_BATCH`: no wakeup preemption.
    Batch,
}

impl SchedPolicy {
    /// Parses `auto`, `normal` or `batch`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "normal" => Some(Self::Normal),
            "batch" => Some(Self::Batch),
            _ => None,
        }
    }

    /// The policy the workers of a closed or open loop run use: never `Auto`.
    pub fn resolve(self, open_loop: bool) -> Self {
        match self {
            Self::Auto if open_loop => Self::Normal,
            Self::Auto => Self::Batch,
            other => other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Normal => "normal",
            Self::Batch => "batch",
        }
    }

    /// Sets the calling thread's policy (a resolved one; `Auto` counts as `Normal`).
    /// Dropping to `SCHED_BATCH` needs no privilege; a failure leaves the thread as it was.
    pub fn apply_to_current_thread(self) -> io::Result<()> {
        let policy = match self {
            Self::Batch => libc::SCHED_BATCH,
            Self::Normal | Self::Auto => libc::SCHED_OTHER,
        };
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param for the
        // non-real-time policies, whose priority must be 0.
        if unsafe { libc::sched_setscheduler(0, policy, &param) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl fmt::Display for SchedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current_policy() -> libc::c_int {
        // SAFETY: pid 0 is the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn auto_is_batch_in_closed_loop_and_normal_in_open_loop() {
        assert_eq!(SchedPolicy::Auto.resolve(false), SchedPolicy::Batch);
        assert_eq!(SchedPolicy::Auto.resolve(true), SchedPolicy::Normal);
        assert_eq!(SchedPolicy::Batch.resolve(true), SchedPolicy::Batch);
        assert_eq!(SchedPolicy::Normal.resolve(false), SchedPolicy::Normal);
    }

    #[test]
    fn parse_round_trips_names_and_refuses_others() {
        for p in [SchedPolicy::Auto, SchedPolicy::Normal, SchedPolicy::Batch] {
            assert_eq!(SchedPolicy::parse(p.name()), Some(p));
        }
        assert_eq!(SchedPolicy::parse("fifo"), None);
    }

    #[test]
    fn applying_changes_only_the_calling_thread() {
        let main_before = current_policy();
        let seen = std::thread::spawn(|| {
            SchedPolicy::Batch.apply_to_current_thread().unwrap();
            let batch = current_policy();
            SchedPolicy::Normal.apply_to_current_thread().unwrap();
            (batch, current_policy())
        })
        .join()
        .unwrap();
        assert_eq!(seen, (libc::SCHED_BATCH, libc::SCHED_OTHER));
        assert_eq!(current_policy(), main_before);
    }
}
