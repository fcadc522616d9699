//! `lock`: a lock per account, in the model's own world, taken in a fixed order.
//!
//! A lock is one slot of the model's [`Slots`] (a semaphore of one: a tokio semaphore for
//! tasks, the checkout condvar for threads, may's semaphore for coroutines), so a waiting
//! request waits the way its model waits (a mutex from the wrong world would block an event
//! loop's only thread, or park a coroutine's carrier). Accounts map onto a fixed set of
//! stripes, so no request can grow a table of locks without bound; two accounts on one stripe
//! share a lock, which only serialises more, never less.

use crate::wait::{Slots, Wait};

/// Stripes: far more than the accounts any contention experiment uses, few enough that
/// building them costs nothing.
const STRIPES: usize = 1024;

#[derive(Debug)]
pub(crate) struct Locks<S> {
    stripes: Vec<S>,
}

/// The locks one operation holds; dropping it releases them.
pub(crate) type Held<S> = (<S as Slots>::Held, Option<<S as Slots>::Held>);

impl<S: Slots> Locks<S> {
    pub(crate) fn new<W: Wait<Slots = S>>(wait: &W) -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| wait.slots(1)).collect(),
        }
    }

    /// Lock `ids` (ascending, as [`super::BankOp::ids`] gives them). Stripes are taken in
    /// ascending stripe order, whatever the ids, so two transfers between the same accounts
    /// in opposite directions cannot each hold one lock and wait for the other.
    pub(crate) async fn lock(&self, ids: [i64; 2]) -> Held<S> {
        let stripe = |id: i64| id.rem_euclid(STRIPES as i64) as usize;
        let (a, b) = (stripe(ids[0]), stripe(ids[1]));
        let (lo, hi) = (a.min(b), a.max(b));
        let first = self.stripes[lo].take().await;
        let second = if hi != lo {
            Some(self.stripes[hi].take().await)
        } else {
            None
        };
        (first, second)
    }
}
