//! C14: an async function is compiled into a state machine; each `await` is a state transition.
//!
//! [`fetch_user_data`] is the chapter's §08 handler in Rust: two awaits on a (simulated)
//! database. The compiler turns it into an anonymous type implementing `Future` whose variants
//! are "unresumed", one "suspended at await N" per await (holding the locals alive across that
//! await), "returned" and "panicked". [`FetchUserData`] writes the same machine by hand, with the
//! chapter's states 0, 1, 2 and done. Both run to the same result in three polls (two `Pending`
//! answers, one per await, then `Ready`), and we print both sizes.
//!
//! The database is simulated on purpose (no IO): each lookup answers `Pending` once and wakes
//! its task, as a real query would while its bytes travel, then `Ready`.

use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Primary key.
    pub id: u32,
    /// Display name.
    pub name: String,
}

/// An order row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// Primary key.
    pub id: u32,
    /// Amount in cents.
    pub cents: u64,
}

/// The handler's result: `{"user": user, "orders": orders}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserData {
    /// The user.
    pub user: User,
    /// The user's orders.
    pub orders: Vec<Order>,
}

/// A simulated database: answers are computed from the id.
#[derive(Debug, Default, Clone, Copy)]
pub struct Db;

/// A pending lookup: `Pending` on the first poll (after waking its task), `Ready` on the next.
#[derive(Debug)]
pub struct Lookup<T> {
    value: Option<T>,
    asked: bool,
}

impl<T: Unpin> Future for Lookup<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if !self.asked {
            self.asked = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match self.value.take() {
            Some(v) => Poll::Ready(v),
            // Polled again after completion: stay pending rather than panic.
            None => Poll::Pending,
        }
    }
}

impl Db {
    /// `SELECT * FROM users WHERE id = $1`, simulated.
    pub fn get_user(&self, id: u32) -> Lookup<User> {
        Lookup {
            value: Some(User {
                id,
                name: format!("user-{id}"),
            }),
            asked: false,
        }
    }

    /// `SELECT * FROM orders WHERE user_id = $1`, simulated.
    pub fn get_orders(&self, user_id: u32) -> Lookup<Vec<Order>> {
        let orders = (0..3)
            .map(|i| Order {
                id: user_id * 10 + i,
                cents: u64::from(user_id) * 100 + u64::from(i),
            })
            .collect();
        Lookup {
            value: Some(orders),
            asked: false,
        }
    }
}

/// The chapter's handler, compiled by rustc into a state machine.
pub async fn fetch_user_data(db: Db, user_id: u32) -> UserData {
    let user = db.get_user(user_id).await; // state 0 -> 1
    let orders = db.get_orders(user_id).await; // state 1 -> 2
    UserData { user, orders } // state 2 -> done
}

/// The same steps written by hand, states named as in the chapter.
#[derive(Debug)]
pub enum FetchUserData {
    /// State 0: nothing started.
    Start {
        /// The database handle.
        db: Db,
        /// Whom to fetch.
        user_id: u32,
    },
    /// State 1: waiting for the user.
    AwaitingUser {
        /// The database handle.
        db: Db,
        /// Whom to fetch.
        user_id: u32,
        /// The pending lookup.
        lookup: Lookup<User>,
    },
    /// State 2: user known, waiting for the orders.
    AwaitingOrders {
        /// The user fetched in state 1.
        user: User,
        /// The pending lookup.
        lookup: Lookup<Vec<Order>>,
    },
    /// Done: the result was returned.
    Done,
}

/// The hand-written machine's state names, in order.
pub const HAND_WRITTEN_STATES: [&str; 4] = [
    "Start (state 0)",
    "AwaitingUser (state 1)",
    "AwaitingOrders (state 2)",
    "Done",
];

impl FetchUserData {
    /// The machine in state 0.
    pub fn new(db: Db, user_id: u32) -> Self {
        Self::Start { db, user_id }
    }
}

impl Future for FetchUserData {
    type Output = UserData;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<UserData> {
        // Every field is Unpin, so the machine is too and can be moved out of and back in.
        let this = self.get_mut();
        loop {
            match std::mem::replace(this, Self::Done) {
                Self::Start { db, user_id } => {
                    *this = Self::AwaitingUser {
                        db,
                        user_id,
                        lookup: db.get_user(user_id),
                    };
                }
                Self::AwaitingUser {
                    db,
                    user_id,
                    mut lookup,
                } => match Pin::new(&mut lookup).poll(cx) {
                    Poll::Ready(user) => {
                        *this = Self::AwaitingOrders {
                            user,
                            lookup: db.get_orders(user_id),
                        };
                    }
                    Poll::Pending => {
                        *this = Self::AwaitingUser {
                            db,
                            user_id,
                            lookup,
                        };
                        return Poll::Pending;
                    }
                },
                Self::AwaitingOrders { user, mut lookup } => match Pin::new(&mut lookup).poll(cx) {
                    Poll::Ready(orders) => return Poll::Ready(UserData { user, orders }),
                    Poll::Pending => {
                        *this = Self::AwaitingOrders { user, lookup };
                        return Poll::Pending;
                    }
                },
                // Polled after completion: stays done.
                Self::Done => return Poll::Pending,
            }
        }
    }
}

/// A waker that only counts wake-ups.
struct CountingWaker(std::sync::atomic::AtomicU64);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Drive a future to completion on this thread, counting polls (at most `max_polls`).
pub fn run_counting<F: Future>(future: F, max_polls: u32) -> Option<(F::Output, u32)> {
    let waker = Waker::from(Arc::new(CountingWaker(0.into())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    for polls in 1..=max_polls {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some((out, polls));
        }
    }
    None
}

/// The C14 measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateMachineReport {
    /// `size_of` the compiler's future of [`fetch_user_data`], bytes.
    pub compiled_bytes: usize,
    /// `size_of` [`FetchUserData`], bytes.
    pub hand_written_bytes: usize,
    /// Awaits in the handler.
    pub awaits: u32,
    /// Polls the compiled future needed to complete.
    pub compiled_polls: u32,
    /// Polls the hand-written machine needed.
    pub hand_written_polls: u32,
    /// Both produced the same `UserData`.
    pub same_result: bool,
    /// The hand-written machine's states.
    pub hand_written_states: Vec<&'static str>,
    /// The compiled machine's states, as rustc lays out an `async fn` (one suspend state per
    /// await plus three fixed ones).
    pub compiled_states: Vec<&'static str>,
}

impl StateMachineReport {
    /// True when the claim holds here: both machines finish in `awaits + 1` polls (one state
    /// transition per await) with the same result.
    pub fn confirms_claim(&self) -> bool {
        self.same_result
            && self.compiled_polls == self.awaits + 1
            && self.hand_written_polls == self.awaits + 1
    }
}

/// Build and run both machines.
pub fn measure() -> StateMachineReport {
    let compiled = fetch_user_data(Db, 7);
    let compiled_bytes = size_of_val(&compiled);
    let hand = FetchUserData::new(Db, 7);
    let hand_written_bytes = size_of_val(&hand);
    let a = run_counting(compiled, 10);
    let b = run_counting(hand, 10);
    StateMachineReport {
        compiled_bytes,
        hand_written_bytes,
        awaits: 2,
        compiled_polls: a.as_ref().map_or(0, |r| r.1),
        hand_written_polls: b.as_ref().map_or(0, |r| r.1),
        same_result: matches!((&a, &b), (Some(x), Some(y)) if x.0 == y.0),
        hand_written_states: HAND_WRITTEN_STATES.to_vec(),
        compiled_states: vec![
            "Unresumed",
            "Suspend0 (at get_user().await)",
            "Suspend1 (at get_orders().await)",
            "Returned",
            "Panicked",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_machines_reach_the_same_result_in_the_same_steps() {
        let (a, polls_a) = run_counting(fetch_user_data(Db, 42), 10).unwrap();
        let (b, polls_b) = run_counting(FetchUserData::new(Db, 42), 10).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.user.name, "user-42");
        assert_eq!(a.orders.len(), 3);
        assert_eq!((polls_a, polls_b), (3, 3));
        let report = measure();
        assert!(report.confirms_claim(), "{report:?}");
        assert!(report.compiled_bytes > 0 && report.hand_written_bytes > 0);
    }

    #[test]
    fn runs_on_tokio_too() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let a = rt.block_on(fetch_user_data(Db, 3));
        let b = rt.block_on(FetchUserData::new(Db, 3));
        assert_eq!(a, b);
    }
}
