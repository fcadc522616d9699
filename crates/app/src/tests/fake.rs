//! A small in-memory Backend for the lib's own tests (never shipped in the lib): fixed rows,
//! an optional simulated wait per remote call, and a switch that makes every call fail.

use clab_backend::{
    Account, Activity, Backend, BackendError, BankOp, BankOutcome, NotifyReceipt, Order,
    RaceStrategy, User,
};
use std::collections::HashMap;
use std::future::{Future, ready};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// How a fake call fails when [`Fake::fail`] is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Unavailable,
    Query,
}

#[derive(Debug, Default)]
pub(crate) struct Fake {
    /// Blocking wait per database/upstream call (the fake is a *blocking* backend).
    pub(crate) wait: Duration,
    pub(crate) fail: Mutex<Option<Failure>>,
    pub(crate) cache: Mutex<HashMap<String, Vec<u8>>>,
    pub(crate) cache_fails: AtomicBool,
    pub(crate) db_calls: AtomicU32,
    pub(crate) cpu_calls: AtomicU32,
}

/// Users 1..=3 exist; user 3's rows include one that belongs to someone else.
pub(crate) const KNOWN_USERS: i64 = 3;

impl Fake {
    fn db<T>(&self, value: impl FnOnce() -> T) -> Result<T, BackendError> {
        self.db_calls.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(self.wait);
        match *self.fail.lock().expect("lock") {
            Some(Failure::Unavailable) => Err(BackendError::Unavailable(
                "database",
                "pool timed out after 1s".into(),
            )),
            Some(Failure::Query) => Err(BackendError::Query("secret detail: no such table".into())),
            None => Ok(value()),
        }
    }
}

/// Every known user's account holds this much; the fake bank keeps no state.
pub(crate) const FAKE_BALANCE: i64 = 4200;

impl Backend for Fake {
    fn bank(&self, op: BankOp) -> impl Future<Output = Result<BankOutcome, BackendError>> + Send {
        let known = |id: i64| (1..=KNOWN_USERS).contains(&id);
        let after = |id: i64, change: i64| Account {
            user_id: id,
            balance_cents: FAKE_BALANCE + change,
        };
        ready(self.db(|| {
            let (taken, given) = match op {
                BankOp::Withdraw { id, amount } => (Some((id, amount)), None),
                BankOp::Deposit { id, amount } => (None, Some((id, amount))),
                BankOp::Transfer { from, to, amount } => (Some((from, amount)), Some((to, amount))),
            };
            let ids = taken.iter().chain(given.iter()).map(|&(id, _)| id);
            if let Some(id) = ids.clone().find(|&id| !known(id)) {
                return BankOutcome::Missing(id);
            }
            if let Some((id, amount)) = taken
                && amount > FAKE_BALANCE
            {
                return BankOutcome::Insufficient(after(id, 0));
            }
            let mut rows: Vec<Account> = taken
                .map(|(id, a)| after(id, -a))
                .into_iter()
                .chain(given.map(|(id, a)| after(id, a)))
                .collect();
            rows.sort_by_key(|a| a.user_id);
            BankOutcome::Applied(rows)
        }))
    }

    fn accounts(
        &self,
        from: i64,
        to: i64,
    ) -> impl Future<Output = Result<Vec<Account>, BackendError>> + Send {
        ready(self.db(|| {
            (from.max(1)..=to.min(KNOWN_USERS))
                .map(|id| Account {
                    user_id: id,
                    balance_cents: FAKE_BALANCE,
                })
                .collect()
        }))
    }

    fn race_strategy(&self) -> RaceStrategy {
        RaceStrategy::default()
    }

    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send {
        ready(self.db(|| {
            (1..=KNOWN_USERS).contains(&id).then(|| User {
                id,
                name: format!("user{id}"),
                email: format!("user{id}@example.com"),
                created_at: 1_700_000_000,
            })
        }))
    }

    fn orders(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send {
        ready(self.db(|| {
            let mut rows: Vec<Order> = (1..=3)
                .map(|n| Order {
                    id: user_id * 100 + n,
                    user_id,
                    item: if n == 2 { "cake".into() } else { "tea".into() },
                    quantity: 1,
                    amount_cents: 100 * n,
                    created_at: n,
                })
                .collect();
            if user_id == 3 {
                rows.push(Order {
                    id: 999,
                    user_id: 1,
                    item: "tea".into(),
                    quantity: 1,
                    amount_cents: 1,
                    created_at: 0,
                });
            }
            rows.truncate(limit as usize);
            rows
        }))
    }

    fn account(
        &self,
        user_id: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send {
        ready(self.db(|| {
            Some(Account {
                user_id,
                balance_cents: 4200,
            })
        }))
    }

    fn recent_activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send {
        ready(self.db(|| {
            let mut rows = vec![
                Activity {
                    id: 1,
                    user_id,
                    kind: "login".into(),
                    at: 2,
                },
                Activity {
                    id: 2,
                    user_id,
                    kind: "login".into(),
                    at: 1,
                },
                Activity {
                    id: 3,
                    user_id,
                    kind: "order".into(),
                    at: 0,
                },
            ];
            rows.truncate(limit as usize);
            rows
        }))
    }

    fn cache_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send {
        ready(if self.cache_fails.load(Ordering::Relaxed) {
            Err(BackendError::Unavailable(
                "cache",
                "connection refused".into(),
            ))
        } else {
            Ok(self.cache.lock().expect("lock").get(key).cloned())
        })
    }

    fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        _ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        ready(if self.cache_fails.load(Ordering::Relaxed) {
            Err(BackendError::Unavailable(
                "cache",
                "connection refused".into(),
            ))
        } else {
            self.cache
                .lock()
                .expect("lock")
                .insert(key.to_owned(), value);
            Ok(())
        })
    }

    fn notify(
        &self,
        user_id: i64,
        _message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send {
        std::thread::sleep(self.wait);
        ready(Ok(NotifyReceipt {
            id: format!("fake-{user_id}"),
            simulated: true,
        }))
    }

    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.cpu_calls.fetch_add(1, Ordering::Relaxed);
        ready(work())
    }

    fn describe(&self) -> String {
        "fake backend (test double)".into()
    }
}
