//! [`Services`]: the [`Backend`] every model uses, written once over how it waits (`W`) and
//! which clients answer (`C`).
//!
//! This is the only place that knows which calls are remote, i.e. which pay a simulated round
//! trip (the table in the crate docs): every database call, the cache calls when
//! [`Clients::cache_is_remote`], and `notify` always (simulated or real). All of them go
//! through [`Services::remote`]; CPU work goes through [`Backend::run_cpu`] to the wait's
//! offload policy. Those two spots are where every wait of every model happens.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use clab_trace::WaitKind;

use crate::bank::BankState;
use crate::connect::Parts;
use crate::wait::Slots;
use crate::{
    Account, Activity, Backend, BackendConfig, BackendError, BankOp, BankOutcome, Clients,
    NotifyReceipt, Order, RaceStrategy, User, Wait, upstream,
};

/// A model's backend: its [`Wait`] and its [`Clients`], plus the latency profile, upstream
/// target and description from the config. Cheap to clone (one `Arc`); `Send + Sync`.
///
/// The workspace's models use the named instantiations ([`crate::BlockingBackend`],
/// [`crate::AsyncBackend`], `MayBackend`); a new model supplies its own `W` and `C` to
/// [`Services::new`] and inherits the dispatch and the round-trip table.
pub struct Services<W: Wait, C> {
    pub(crate) inner: Arc<Inner<W, C>>,
}

pub(crate) struct Inner<W: Wait, C> {
    pub(crate) wait: W,
    pub(crate) clients: C,
    pub(crate) parts: Parts,
    /// `--hold-connection`: one slot per pooled connection, held by each database round trip.
    pub(crate) db_slots: Option<W::Slots>,
    /// The bank's strategy and its in-process state (`bank/`).
    pub(crate) bank: BankState<W, C>,
}

// By hand: derived impls would demand `W: Clone, C: Clone`, but only the `Arc` is cloned.
impl<W: Wait, C> Clone for Services<W, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<W: Wait, C: fmt::Debug> fmt::Debug for Services<W, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Services")
            .field("wait", &self.inner.wait)
            .field("clients", &self.inner.clients)
            .field("parts", &self.inner.parts)
            .field("db_slots", &self.inner.db_slots)
            .field("bank", &self.inner.bank)
            .finish()
    }
}

impl<W: Wait, C: Clients> Services<W, C> {
    /// Put a model's wait and clients together. `cfg` supplies the latency profile, the
    /// upstream target and the description (it should be the one `clients` was connected
    /// with); it is validated here.
    pub fn new(wait: W, clients: C, cfg: &BackendConfig) -> Result<Self, BackendError> {
        let parts = Parts::new(cfg)?;
        let db_slots = cfg.hold_connection.then(|| wait.slots(cfg.pool_size));
        let bank = BankState::new(cfg.race_strategy, &wait);
        Ok(Self {
            inner: Arc::new(Inner {
                wait,
                clients,
                parts,
                db_slots,
                bank,
            }),
        })
    }

    /// One remote call: one sampled round trip, then the real call.
    ///
    /// It takes the call as a closure, not a future, because a blocking client does its work
    /// when *called*: building the call first would run the query before the wait.
    ///
    /// With `--trace`, the whole call (round trip and real work) is one wait span of the
    /// request being served (`clab_trace`): every remote wait of every model is recorded here.
    pub(crate) async fn remote<'a, F: Future>(
        &'a self,
        what: WaitKind,
        call: impl FnOnce(&'a C) -> F,
    ) -> F::Output {
        let _span = clab_trace::wait(what);
        // With `--hold-connection` a database call holds its pooled connection (a slot) for
        // its round trip too, as a real query in flight does; the slot is taken first.
        let _slot = match (&what, &self.inner.db_slots) {
            (WaitKind::Db, Some(slots)) => Some(slots.take().await),
            _ => None,
        };
        let d = self.inner.parts.latency.sample();
        if !d.is_zero() {
            self.inner.wait.sleep(d).await;
        }
        call(&self.inner.clients).await
    }
}

impl<W: Wait, C: Clients> Backend for Services<W, C> {
    async fn user(&self, id: i64) -> Result<Option<User>, BackendError> {
        self.remote(WaitKind::Db, |c| c.user(id)).await
    }

    async fn orders(&self, user_id: i64, limit: u32) -> Result<Vec<Order>, BackendError> {
        self.remote(WaitKind::Db, |c| c.orders(user_id, limit))
            .await
    }

    async fn account(&self, user_id: i64) -> Result<Option<Account>, BackendError> {
        self.remote(WaitKind::Db, |c| c.account(user_id)).await
    }

    async fn recent_activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> Result<Vec<Activity>, BackendError> {
        self.remote(WaitKind::Db, |c| c.activity(user_id, limit))
            .await
    }

    async fn cache_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let clients = &self.inner.clients;
        if clients.cache_is_remote() {
            self.remote(WaitKind::Cache, |c| c.cache_get(key)).await
        } else {
            // Process memory: no network call, so no round trip.
            clients.cache_get(key).await
        }
    }

    async fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        let clients = &self.inner.clients;
        if clients.cache_is_remote() {
            self.remote(WaitKind::Cache, |c| c.cache_set(key, value, ttl))
                .await
        } else {
            clients.cache_set(key, value, ttl).await
        }
    }

    /// Without an upstream URL the round trip *is* the call (the receipt says "simulated");
    /// with one, the round trip comes on top of the real exchange.
    async fn notify(&self, user_id: i64, message: &str) -> Result<NotifyReceipt, BackendError> {
        match &self.inner.parts.upstream {
            None => {
                self.remote(WaitKind::Upstream, |_| async {
                    Ok(upstream::simulated_receipt())
                })
                .await
            }
            Some(target) => {
                self.remote(WaitKind::Upstream, |c| c.notify(target, user_id, message))
                    .await
            }
        }
    }

    async fn bank(&self, op: BankOp) -> Result<BankOutcome, BackendError> {
        self.bank_apply(op).await
    }

    async fn accounts(&self, from: i64, to: i64) -> Result<Vec<Account>, BackendError> {
        self.bank_range(from, to).await
    }

    fn race_strategy(&self) -> RaceStrategy {
        self.inner.bank.strategy
    }

    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // With `--trace`, the CPU section is a span of the request, on the thread that runs it
        // (a pool thread when offloaded): the id is taken here, on the request's side.
        let request = clab_trace::current();
        let done = self
            .inner
            .wait
            .run_cpu(move || clab_trace::offload(request, work));
        async move {
            let out = done.await;
            // A stackful coroutine may have parked inside `run_cpu` and resumed on another
            // carrier, whose current request is someone else's: make it ours again (the
            // waits in `remote` do the same through their span guard).
            if request.is_some() {
                clab_trace::set_current(request);
            }
            out
        }
    }

    fn describe(&self) -> String {
        self.inner.parts.description.clone()
    }

    fn cpu_time_measurable(&self) -> bool {
        self.inner.wait.cpu_clock_per_poll()
    }
}
