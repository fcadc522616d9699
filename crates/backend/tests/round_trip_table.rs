//! The table of which calls pay a simulated round trip, tested once, on [`Services`] itself:
//! a counting fake [`Wait`] and a fake [`Clients`] that answer at once, so no real timer,
//! database or socket is involved and the counts are exact.

mod common;

use std::future::{Future, Ready, ready};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clab_backend::bank::{DbStatement, Guard, Pause};
use clab_backend::{
    Account, Activity, Backend, BackendConfig, BackendError, BankOp, BankOutcome, Clients,
    NotifyReceipt, Order, RaceStrategy, Services, UpstreamTarget, User, Wait,
};
use common::{memory_config, ready as first_poll};

/// What happened, in order: `"wait"` for each round trip, the client call's name otherwise.
type Log = Arc<Mutex<Vec<&'static str>>>;

#[derive(Debug)]
struct CountingWait {
    log: Log,
}

/// Logs `"slot"` when a call takes one of the pool's slots (`hold_connection`).
#[derive(Debug)]
struct CountingSlots {
    log: Log,
}

impl clab_backend::Slots for CountingSlots {
    type Held = ();
    fn take(&self) -> impl Future<Output = ()> + Send {
        self.log.lock().unwrap().push("slot");
        ready(())
    }
}

impl Wait for CountingWait {
    type Slots = CountingSlots;

    fn slots(&self, n: usize) -> CountingSlots {
        assert!(n > 0);
        CountingSlots {
            log: Arc::clone(&self.log),
        }
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        assert!(!d.is_zero(), "sleep called for a zero round trip");
        self.log.lock().unwrap().push("wait");
        ready(())
    }

    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.log.lock().unwrap().push("cpu");
        ready(work())
    }

    fn spawn(&self, _task: impl Future<Output = ()> + Send + 'static) {
        self.log.lock().unwrap().push("spawn");
    }
}

#[derive(Debug)]
struct FakeClients {
    log: Log,
    remote_cache: bool,
}

impl FakeClients {
    fn answer<T>(&self, call: &'static str, v: T) -> Ready<T> {
        self.log.lock().unwrap().push(call);
        ready(v)
    }
}

impl Clients for FakeClients {
    fn user(&self, _: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send {
        self.answer("user", Ok(None))
    }
    fn orders(
        &self,
        _: i64,
        _: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send {
        self.answer("orders", Ok(vec![]))
    }
    fn account(
        &self,
        _: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send {
        self.answer("account", Ok(None))
    }
    fn activity(
        &self,
        _: i64,
        _: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send {
        self.answer("activity", Ok(vec![]))
    }
    /// A read finds account 1 with 100 cents; a write succeeds.
    fn bank_statement(
        &self,
        st: DbStatement,
    ) -> impl Future<Output = Result<Vec<Account>, BackendError>> + Send {
        let (call, rows) = match st {
            DbStatement::Read(_) | DbStatement::Range { .. } => (
                "bank read",
                vec![Account {
                    user_id: 1,
                    balance_cents: 100,
                }],
            ),
            DbStatement::Write(_) => ("bank write", vec![]),
        };
        self.answer(call, Ok(rows))
    }
    /// Every operation succeeds.
    fn bank_apply<Q: Pause>(
        &self,
        _: BankOp,
        _: Guard,
        _: &Q,
    ) -> impl Future<Output = Result<BankOutcome, BackendError>> + Send {
        self.answer("bank apply", Ok(BankOutcome::Applied(vec![])))
    }
    fn cache_is_remote(&self) -> bool {
        self.remote_cache
    }
    fn cache_get(
        &self,
        _: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send {
        self.answer("cache_get", Ok(None))
    }
    fn cache_set(
        &self,
        _: &str,
        _: Vec<u8>,
        _: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        self.answer("cache_set", Ok(()))
    }
    fn notify(
        &self,
        target: &UpstreamTarget,
        _: i64,
        _: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send {
        assert_eq!(target.authority, "127.0.0.1:9");
        self.answer(
            "notify",
            Ok(NotifyReceipt {
                id: "real".into(),
                simulated: false,
            }),
        )
    }
}

fn services(cfg: &BackendConfig, remote_cache: bool) -> (Services<CountingWait, FakeClients>, Log) {
    let log = Log::default();
    let wait = CountingWait {
        log: Arc::clone(&log),
    };
    let clients = FakeClients {
        log: Arc::clone(&log),
        remote_cache,
    };
    (Services::new(wait, clients, cfg).unwrap(), log)
}

/// Every `Backend` method once, then what the log says happened.
fn calls(b: &Services<CountingWait, FakeClients>, log: &Log) -> Vec<&'static str> {
    first_poll(b.user(1)).unwrap();
    first_poll(b.orders(1, 5)).unwrap();
    first_poll(b.account(1)).unwrap();
    first_poll(b.recent_activity(1, 5)).unwrap();
    first_poll(b.cache_get("k")).unwrap();
    first_poll(b.cache_set("k", vec![1], Duration::from_secs(1))).unwrap();
    let receipt = first_poll(b.notify(1, "hi")).unwrap();
    assert_eq!(first_poll(b.run_cpu(|| 6 * 7)), 42);
    log.lock().unwrap().push(if receipt.simulated {
        "(simulated)"
    } else {
        "(real)"
    });
    std::mem::take(&mut *log.lock().unwrap())
}

fn latency(cfg: BackendConfig, text: &str) -> BackendConfig {
    BackendConfig {
        latency: text.parse().unwrap(),
        ..cfg
    }
}

#[test]
fn one_round_trip_per_remote_call_before_the_call() {
    let (b, log) = services(&latency(memory_config(1), "10"), false);
    assert_eq!(
        calls(&b, &log),
        [
            "wait",
            "user",
            "wait",
            "orders",
            "wait",
            "account",
            "wait",
            "activity",
            // the in-process cache: no round trip
            "cache_get",
            "cache_set",
            // simulated notify: the round trip is the call; the clients are not asked
            "wait",
            "cpu",
            "(simulated)",
        ]
    );
}

#[test]
fn holding_a_connection_takes_a_slot_before_each_database_round_trip_only() {
    let cfg = BackendConfig {
        hold_connection: true,
        ..latency(memory_config(1), "10")
    };
    let (b, log) = services(&cfg, true);
    let got = calls(&b, &log);
    assert_eq!(
        got[..6],
        ["slot", "wait", "user", "slot", "wait", "orders"],
        "{got:?}"
    );
    // Four database calls; the remote cache and the upstream hold no database connection.
    assert_eq!(got.iter().filter(|&&e| e == "slot").count(), 4, "{got:?}");
}

#[test]
fn remote_cache_and_real_upstream_pay_one_round_trip_each() {
    let cfg = BackendConfig {
        upstream_url: Some("http://127.0.0.1:9/notify".into()),
        ..latency(memory_config(1), "10")
    };
    let (b, log) = services(&cfg, true);
    let got = calls(&b, &log);
    assert_eq!(
        got[8..],
        [
            "wait",
            "cache_get",
            "wait",
            "cache_set",
            "wait",
            "notify",
            "cpu",
            "(real)"
        ],
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|&&e| e == "wait").count(), 7);
}

#[test]
fn no_round_trip_at_latency_none() {
    let cfg = BackendConfig {
        upstream_url: Some("http://127.0.0.1:9/notify".into()),
        ..latency(memory_config(1), "none")
    };
    let (b, log) = services(&cfg, true);
    assert_eq!(
        calls(&b, &log),
        [
            "user",
            "orders",
            "account",
            "activity",
            "cache_get",
            "cache_set",
            "notify",
            "cpu",
            "(real)"
        ]
    );
}

#[test]
fn services_is_cheap_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Services<CountingWait, FakeClients>>();
    let (b, log) = services(&memory_config(1), false);
    let copy = b.clone();
    first_poll(copy.user(1)).unwrap();
    assert_eq!(*log.lock().unwrap(), ["user"], "a clone shares the clients");
}

/// Each database step of the bank is one remote call: `racy` (read, then write) pays two round
/// trips, the await between its check and its act; `db-conditional` one.
#[test]
fn bank_steps_pay_one_round_trip_each() {
    let withdraw = BankOp::Withdraw { id: 1, amount: 30 };
    for (strategy, want) in [
        (
            RaceStrategy::Racy,
            &["wait", "bank read", "wait", "bank write"][..],
        ),
        (RaceStrategy::DbConditional, &["wait", "bank apply"][..]),
    ] {
        let cfg = BackendConfig {
            race_strategy: strategy,
            ..latency(memory_config(1), "10")
        };
        let (b, log) = services(&cfg, false);
        let outcome = first_poll(b.bank(withdraw)).unwrap();
        assert_eq!(log.lock().unwrap().as_slice(), want, "{strategy}");
        if strategy == RaceStrategy::Racy {
            assert_eq!(
                outcome,
                BankOutcome::Applied(vec![Account {
                    user_id: 1,
                    balance_cents: 70
                }])
            );
        }
    }
}
