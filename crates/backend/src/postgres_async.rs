//! PostgreSQL for the async clients ([`crate::TokioClients`], [`crate::LoopClients`]):
//! `tokio-postgres` clients, round-robin, on the runtime `R`.
//!
//! Each connection is opened over `R`'s own TCP stream (`Config::connect_raw`) and its
//! `Connection` (the task that reads replies and writes queued queries) is spawned on `R`: on
//! tokio a tokio task, on the event loop a task of our executor whose socket is in our epoll
//! set, with no helper thread.
//!
//! A tokio-postgres `Client` is shared by reference and pipelines concurrent queries on one
//! connection, so the "pool" needs no checkout: `size` slots, each a lazily opened client, and
//! each call takes the next slot in turn. A slot whose connection closed, or missed the IO
//! deadline, is reopened by the next caller that lands on it. Statements are prepared once
//! per client, on first use.
//!
//! A bank *transaction* cannot share a client: another task's statement pipelined between its
//! `BEGIN` and `COMMIT` would run inside it (and be rolled back with it). Transactions take a
//! connection of their own from a second, checked-out set ([`Exclusive`]): at most `size`,
//! opened on demand, waited for up to the pool's checkout timeout.
//!
//! Both kinds of call run under the one IO deadline ([`PgAsyncPool::within`]).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

// tokio's `sync` types need no tokio runtime: they work on the event loop too.
use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;

use crate::bank::{self, DbOutcome, DbRequest, Pause};
use crate::clients::SqlClient;
use crate::config::POOL_CHECKOUT_TIMEOUT;
use crate::pg::{self, Pick, Session};
use crate::queries::FromSqlRow;
use crate::runtime::AsyncRuntime;
use crate::{Account, Activity, BackendError, Order, User};

#[derive(Debug)]
pub struct PgAsyncPool<R> {
    config: tokio_postgres::Config,
    slots: Vec<Mutex<Option<Arc<Session>>>>,
    next: AtomicUsize,
    exclusive: Exclusive,
    /// The deadline of every call ([`PgAsyncPool::within`]).
    io_timeout: Duration,
    runtime: PhantomData<R>,
}

/// Connections a transaction holds alone: idle ones, and permits bounding how many exist.
#[derive(Debug)]
struct Exclusive {
    idle: std::sync::Mutex<Vec<Arc<Session>>>,
    permits: tokio::sync::Semaphore,
}

impl<R: AsyncRuntime> PgAsyncPool<R> {
    /// `size` slots; the first is opened now so a wrong URL or a stopped server fails at
    /// startup. Must run on `R` (each connection's IO task is spawned on it).
    pub(crate) async fn connect(
        url: &str,
        size: usize,
        io_timeout: Duration,
    ) -> Result<Self, BackendError> {
        let pool = Self {
            config: pg::config(url)?,
            slots: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            exclusive: Exclusive {
                idle: std::sync::Mutex::new(Vec::new()),
                permits: tokio::sync::Semaphore::new(size.max(1)),
            },
            io_timeout,
            runtime: PhantomData,
        };
        pool.call(|_| async { Ok(()) }).await?;
        Ok(pool)
    }

    /// **The deadline of every PostgreSQL call of the async clients**: `call`'s result, or
    /// `Unavailable` ("no answer within …") once the IO timeout has passed (`R::timeout`:
    /// tokio's timer or the loop's). Connecting, when the call needs it, is inside. Callers
    /// ([`Self::call`], [`Self::call_alone`]) make sure a connection that missed it is not
    /// used again. A new query goes through one of those two.
    async fn within<T>(
        &self,
        call: impl Future<Output = Result<T, BackendError>> + Send,
    ) -> Result<T, BackendError> {
        R::timeout(self.io_timeout, call)
            .await
            .unwrap_or_else(|| Err(pg::no_answer(&self.config, self.io_timeout)))
    }

    /// A call on a shared connection: the next slot's session ((re)connected if it has none
    /// or it is no longer usable) is handed to `query`, [within](Self::within) the deadline.
    /// A session whose call misses it is abandoned: the next call on its slot reconnects
    /// (dropping it closes its socket), so no later call queues behind a stalled connection.
    pub(crate) async fn call<T, F, Fut>(&self, query: F) -> Result<T, BackendError>
    where
        F: FnOnce(Arc<Session>) -> Fut + Send,
        Fut: Future<Output = Result<T, BackendError>> + Send,
    {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        // The session this call used, to abandon it if the deadline passes.
        let mut used = None;
        let out = self
            .within(async {
                let session =
                    pg::reuse_or_open::<R>(&mut *self.slots[i].lock().await, &self.config).await?;
                used = Some(Arc::clone(&session));
                query(session).await
            })
            .await;
        // Not an error of the statement but of the connection (the deadline passed, or the
        // server went away): no later call should use it.
        if let (Err(e), Some(session)) = (&out, used)
            && e.is_unavailable()
        {
            session.abandon();
        }
        out
    }

    /// A call on a connection held alone (a transaction): an idle exclusive connection or a
    /// new one, handed to `script` [within](Self::within) the deadline. It goes back to the
    /// idle set only if the call finished in time and left no transaction open; one that
    /// missed the deadline is dropped with the call, closing its socket (the server rolls its
    /// transaction back).
    async fn call_alone<T: Send, F, Fut>(&self, script: F) -> Result<T, BackendError>
    where
        F: FnOnce(Arc<Session>) -> Fut + Send,
        Fut: Future<Output = Result<T, BackendError>> + Send,
    {
        let _permit = R::timeout(POOL_CHECKOUT_TIMEOUT, self.exclusive.permits.acquire())
            .await
            .ok_or_else(|| {
                pg::unavailable(
                    &self.config,
                    format!(
                        "pool exhausted after {} ms: every transaction connection busy",
                        POOL_CHECKOUT_TIMEOUT.as_millis()
                    ),
                )
            })?
            .map_err(|_| pg::unavailable(&self.config, "pool closed"))?;
        let idle = || {
            self.exclusive
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        };
        let reused = {
            let mut idle = idle();
            idle.retain(|s| s.is_usable());
            idle.pop()
        };
        self.within(async {
            let session = match reused {
                Some(session) => session,
                None => Arc::new(pg::open::<R>(&self.config).await?),
            };
            let out = script(Arc::clone(&session)).await;
            // A failure may have left the transaction open: roll it back before anyone
            // reuses the connection, or drop the connection.
            let clean = out.is_ok() || session.client.batch_execute("ROLLBACK").await.is_ok();
            if clean && session.is_usable() {
                idle().push(session);
            }
            out
        })
        .await
    }

    /// A bank call: a transaction on a connection held alone, anything else on a shared one.
    async fn bank_call<Q: Pause>(
        &self,
        req: DbRequest,
        pause: &Q,
    ) -> Result<DbOutcome, BackendError> {
        if matches!(req, DbRequest::Apply(..)) {
            self.call_alone(|session| async move {
                bank::run_script(&mut &session.client, req, pause).await
            })
            .await
        } else {
            self.call(
                |session| async move { bank::run_script(&mut &session.client, req, pause).await },
            )
            .await
        }
    }

    async fn rows<T: FromSqlRow + Send>(
        &self,
        pick: Pick,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, BackendError> {
        self.call(|session| async move { session.rows(pick, params).await })
            .await
    }
}

impl<R: AsyncRuntime> SqlClient for PgAsyncPool<R> {
    async fn bank<Q: Pause>(&self, req: DbRequest, pause: &Q) -> Result<DbOutcome, BackendError> {
        self.bank_call(req, pause).await
    }

    async fn user(&self, id: i64) -> Result<Option<User>, BackendError> {
        Ok(self.rows(|s| &s.user, &[&id]).await?.pop())
    }

    async fn orders(&self, user_id: i64, limit: u32) -> Result<Vec<Order>, BackendError> {
        self.rows(|s| &s.orders, &[&user_id, &i64::from(limit)])
            .await
    }

    async fn account(&self, user_id: i64) -> Result<Option<Account>, BackendError> {
        Ok(self.rows(|s| &s.account, &[&user_id]).await?.pop())
    }

    async fn activity(&self, user_id: i64, limit: u32) -> Result<Vec<Activity>, BackendError> {
        self.rows(|s| &s.activity, &[&user_id, &i64::from(limit)])
            .await
    }
}
