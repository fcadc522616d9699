//! What one quantity (an account's balance, or the bank's total) could have been at some
//! instant inside an interval, given the operations around it: bounds, never guesses.
//!
//! Times are whole microseconds, truncated, so two equal stamps say nothing about which came
//! first. An accepted operation is definitely in effect at the instant only if it completed
//! strictly before the interval began; one that may apply (accepted, or indeterminate) and was
//! invoked at or before the interval's end may or may not be; the rest are certainly not.

use super::super::history::Op;
use std::fmt;

/// A closed range of cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub lo: i64,
    pub hi: i64,
}

impl Bounds {
    /// Add a delta that certainly applied.
    pub fn add(&mut self, d: i64) {
        self.lo += d;
        self.hi += d;
    }

    /// Add a delta that may or may not have applied.
    pub fn maybe(&mut self, d: i64) {
        self.lo += d.min(0);
        self.hi += d.max(0);
    }

    /// Undo [`Bounds::maybe`] for a delta counted as possible that is known to be in.
    pub fn settle(&mut self, d: i64) {
        self.lo -= d.min(0);
        self.hi -= d.max(0);
        self.add(d);
    }

    pub fn holds(&self, v: i64) -> bool {
        (self.lo..=self.hi).contains(&v)
    }

    pub fn shifted(mut self, d: i64) -> Self {
        self.add(d);
        self
    }

    pub fn widened(mut self, d: i64) -> Self {
        self.maybe(d);
        self
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}..={}", self.lo, self.hi)
        }
    }
}

/// Prefix sums of deltas over operations sorted by one time stamp: `at(k)` sums the first
/// `k`, and [`Prefix::upto`] finds `k` for a time with one binary search.
#[derive(Debug, Default)]
struct Prefix {
    times: Vec<u64>,
    /// `sums[k]` = (Σd, Σmin(d,0), Σmax(d,0)) over the first `k` operations.
    sums: Vec<(i64, i64, i64)>,
}

impl Prefix {
    fn new(mut points: Vec<(u64, i64)>) -> Self {
        points.sort_by_key(|p| p.0);
        let mut sums = Vec::with_capacity(points.len() + 1);
        let mut acc = (0, 0, 0);
        sums.push(acc);
        for &(_, d) in &points {
            acc = (acc.0 + d, acc.1 + d.min(0), acc.2 + d.max(0));
            sums.push(acc);
        }
        Self {
            times: points.into_iter().map(|p| p.0).collect(),
            sums,
        }
    }

    /// The sums over the operations whose time satisfies `before`, a prefix of the order.
    fn upto(&self, before: impl Fn(u64) -> bool) -> (i64, i64, i64) {
        self.sums[self.times.partition_point(|&t| before(t))]
    }
}

/// One quantity's timeline: its value before the run and the deltas the operations may have
/// made to it, so that [`Timeline::during`] costs two binary searches whatever the history.
#[derive(Debug)]
pub struct Timeline {
    start: i64,
    /// Operations that may apply, by invocation.
    may: Prefix,
    /// Accepted operations, by completion.
    done: Prefix,
}

impl Timeline {
    /// The quantity starting at `start`, changed by `delta(op)` for each operation.
    pub fn new(start: i64, ops: &[Op], delta: impl Fn(&Op) -> i64) -> Self {
        let may = ops
            .iter()
            .filter(|o| o.may_apply())
            .map(|o| (o.invoke_us, delta(o)))
            .filter(|p| p.1 != 0)
            .collect();
        let done = ops
            .iter()
            .filter(|o| o.applied())
            .map(|o| (o.complete_us, delta(o)))
            .filter(|p| p.1 != 0)
            .collect();
        Self {
            start,
            may: Prefix::new(may),
            done: Prefix::new(done),
        }
    }

    /// What the quantity could have been at some instant in `invoke..=complete`. Every
    /// accepted operation completed before `invoke` was also invoked before `complete`, so
    /// the definite ones are a subset of the possible ones and come off their sums.
    pub fn during(&self, invoke: u64, complete: u64) -> Bounds {
        let (_, all_lo, all_hi) = self.may.upto(|t| t <= complete);
        let (sure, sure_lo, sure_hi) = self.done.upto(|t| t < invoke);
        Bounds {
            lo: self.start + sure + (all_lo - sure_lo),
            hi: self.start + sure + (all_hi - sure_hi),
        }
    }

    /// What the quantity could be once every operation is over.
    pub fn after_all(&self) -> Bounds {
        self.during(u64::MAX, u64::MAX)
    }
}
