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
//! Both kinds of call run under the one IO deadline ([`Deadline`], through [`Call::run`]).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

// tokio's `sync` types need no tokio runtime: they work on the event loop too.
use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;

use crate::bank::{self, DbStatement, Guard, Pause};
use crate::clients::SqlClient;
use crate::config::POOL_CHECKOUT_TIMEOUT;
use crate::pg::{self, Deadline, Pick, Session};
use crate::queries::FromSqlRow;
use crate::runtime::AsyncRuntime;
use crate::{Account, Activity, BackendError, BankOp, BankOutcome, Order, User};

#[derive(Debug)]
pub struct PgAsyncPool<R> {
    config: tokio_postgres::Config,
    slots: Vec<Mutex<Option<Arc<Session>>>>,
    next: AtomicUsize,
    exclusive: Exclusive,
    /// How long one call may take ([`Deadline`]).
    io_timeout: Duration,
    whom: Arc<str>,
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
        let config = pg::config(url)?;
        let pool = Self {
            whom: pg::whom(&config),
            config,
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

    /// **Every PostgreSQL call of the async clients on a shared connection goes through
    /// here** (transactions: [`Self::call_alone`]). The next slot's session, (re)connected
    /// if it has none or it is no longer usable, is handed to `script` with the call's
    /// [`Deadline`] ([`Call`]); connecting and every statement run in what is left of it. A
    /// session whose call missed it is abandoned: the next call on its slot reconnects
    /// (dropping it closes its socket), so no later call queues behind a stalled connection.
    pub(crate) async fn call<T, F, Fut>(&self, script: F) -> Result<T, BackendError>
    where
        F: FnOnce(Call<R>) -> Fut + Send,
        Fut: Future<Output = Result<T, BackendError>> + Send,
    {
        let deadline = Arc::new(Deadline::after(self.io_timeout, &self.whom));
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let session = deadline
            .run::<R, _, _>(async {
                pg::reuse_or_open::<R>(&mut *self.slots[i].lock().await, &self.config).await
            })
            .await?;
        let out = script(Call::new(&session, &deadline)).await;
        if deadline.was_missed() {
            session.abandon();
        }
        out
    }

    /// A call on a connection held alone (a transaction): an idle exclusive connection or a
    /// new one, handed to `script` with the call's [`Deadline`] ([`Call`]). It goes back to
    /// the idle set only if the call finished in time and left no transaction open; one that
    /// missed the deadline is dropped, closing its socket (the server rolls an open
    /// transaction back).
    pub(crate) async fn call_alone<T, F, Fut>(&self, script: F) -> Result<T, BackendError>
    where
        F: FnOnce(Call<R>) -> Fut + Send,
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
        let deadline = Arc::new(Deadline::after(self.io_timeout, &self.whom));
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
        let session = match reused {
            Some(session) => session,
            None => Arc::new(deadline.run::<R, _, _>(pg::open::<R>(&self.config)).await?),
        };
        let out = script(Call::new(&session, &deadline)).await;
        // A failure may have left the transaction open: roll it back before anyone reuses
        // the connection, or drop the connection.
        let clean = out.is_ok()
            || deadline
                .run::<R, _, BackendError>(async {
                    Ok(session.client.batch_execute("ROLLBACK").await?)
                })
                .await
                .is_ok();
        if clean && session.is_usable() && !deadline.was_missed() {
            idle().push(session);
        }
        out
    }

    async fn rows<T: FromSqlRow + Send>(
        &self,
        pick: Pick,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, BackendError> {
        self.call(|call| async move { call.run(call.session.rows(pick, params)).await })
            .await
    }
}

/// One call's session and [`Deadline`], as the call's statements see it: each statement goes
/// through [`Call::run`].
pub(crate) struct Call<R> {
    pub session: Arc<Session>,
    deadline: Arc<Deadline>,
    runtime: PhantomData<R>,
}

impl<R: AsyncRuntime> Call<R> {
    fn new(session: &Arc<Session>, deadline: &Arc<Deadline>) -> Self {
        Self {
            session: Arc::clone(session),
            deadline: Arc::clone(deadline),
            runtime: PhantomData,
        }
    }

    /// `step` in what is left of the call's deadline.
    pub(crate) async fn run<T, E: From<BackendError>>(
        &self,
        step: impl Future<Output = Result<T, E>> + Send,
    ) -> Result<T, E> {
        self.deadline.run::<R, _, _>(step).await
    }
}

impl<R: AsyncRuntime> SqlClient for PgAsyncPool<R> {
    /// A statement on a shared connection: it opens no transaction.
    async fn bank_statement(&self, st: DbStatement) -> Result<Vec<Account>, BackendError> {
        self.call(|call| async move { bank::run_statement(&mut &call, st).await })
            .await
    }

    /// A protected operation may run a transaction: on a connection held alone.
    async fn bank_apply<Q: Pause>(
        &self,
        op: BankOp,
        guard: Guard,
        pause: &Q,
    ) -> Result<BankOutcome, BackendError> {
        self.call_alone(|call| async move { bank::run_apply(&mut &call, op, guard, pause).await })
            .await
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
