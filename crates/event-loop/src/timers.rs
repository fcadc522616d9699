//! **Timers**: the loop's list of "wake me at". Each turn fires the due ones, and the
//! earliest one left becomes `epoll_wait`'s timeout, so a loop with nothing to do sleeps in
//! the kernel exactly until its next deadline.
//!
//! An ordered map (`BTreeMap`) keyed by `(deadline, sequence)`: insert, cancel and "earliest"
//! are O(log n), deadlines that tie fire in the order they were set, and a cancelled timer
//! leaves nothing behind (a binary heap cannot remove from the middle, so it would keep dead
//! entries until they surface). Why not a timer wheel: a wheel makes insert and cancel O(1)
//! by rounding deadlines to slots (tokio's is hierarchical, 1 ms slots, six levels of 64),
//! which pays off with hundreds of thousands of timers reset on every request; this server
//! arms at most a couple per connection and, like the tokio driver, does not re-arm on every
//! request, so log n of ten thousand (about 14 comparisons) is not where its time goes, and
//! the map fires at the exact deadline instead of the next millisecond slot.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::{Duration, Instant};

/// What a due timer does: wake a task, or run a callback (the raw callback API,
/// [`crate::callbacks`]).
pub(crate) enum Action {
    Wake(Waker),
    Call(Box<dyn FnOnce()>),
}

impl Action {
    pub(crate) fn run(self) {
        match self {
            Action::Wake(w) => w.wake(),
            Action::Call(f) => f(),
        }
    }
}

/// Identifies one armed timer, to cancel or re-register it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Instant,
    seq: u64,
}

#[derive(Default)]
pub(crate) struct Timers {
    armed: BTreeMap<TimerKey, Action>,
    next_seq: u64,
}

impl Timers {
    pub(crate) fn insert(&mut self, deadline: Instant, action: Action) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.armed.insert(key, action);
        key
    }

    /// Replace the waker of an armed timer (a future polled again by another task's waker).
    /// `false` if it already fired.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.armed.get_mut(&key) {
            Some(Action::Wake(w)) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            Some(Action::Call(_)) => unreachable!("a callback timer has no waker"),
            None => false,
        }
    }

    pub(crate) fn cancel(&mut self, key: TimerKey) {
        self.armed.remove(&key);
    }

    /// Remove and return every timer due at `now`, earliest first.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<Action> {
        let mut due = Vec::new();
        while let Some(entry) = self.armed.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            due.push(entry.remove());
        }
        due
    }

    /// How long until the earliest deadline (zero if one is due), `None` with none armed.
    pub(crate) fn next_timeout(&self, now: Instant) -> Option<Duration> {
        self.armed
            .first_key_value()
            .map(|(key, _)| key.deadline.saturating_duration_since(now))
    }

    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }

    pub(crate) fn clear(&mut self) {
        self.armed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn due_timers_fire_in_deadline_order_ties_in_insertion_order() {
        let mut timers = Timers::default();
        let fired = Rc::new(RefCell::new(Vec::new()));
        let t0 = Instant::now();
        for (name, ms) in [("c", 30), ("a", 10), ("b1", 20), ("b2", 20), ("late", 500)] {
            let fired = Rc::clone(&fired);
            timers.insert(
                t0 + Duration::from_millis(ms),
                Action::Call(Box::new(move || fired.borrow_mut().push(name))),
            );
        }
        assert_eq!(
            timers.next_timeout(t0),
            Some(Duration::from_millis(10)),
            "the earliest deadline is the poll timeout"
        );
        for action in timers.take_due(t0 + Duration::from_millis(100)) {
            action.run();
        }
        assert_eq!(*fired.borrow(), ["a", "b1", "b2", "c"]);
        assert_eq!(timers.len(), 1, "the one not yet due stays armed");
    }

    #[test]
    fn a_cancelled_timer_never_fires_and_leaves_nothing_behind() {
        let mut timers = Timers::default();
        let t0 = Instant::now();
        let key = timers.insert(
            t0,
            Action::Call(Box::new(|| panic!("cancelled timer fired"))),
        );
        timers.cancel(key);
        assert!(timers.take_due(t0 + Duration::from_secs(1)).is_empty());
        assert_eq!(timers.len(), 0);
        assert_eq!(timers.next_timeout(t0), None);
    }
}
