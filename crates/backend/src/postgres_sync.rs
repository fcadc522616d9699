//! PostgreSQL for [`crate::BlockingClients`] and `MayClients`: `tokio-postgres` sessions
//! behind the blocking [`Pool`], each pooled connection driving its own private
//! current-thread tokio runtime; each session prepares the four statements on first use.
//!
//! Why not the sync `postgres` crate, which is the same thing (a blocking facade that drives a
//! private current-thread runtime per `Client`)? It offers no way to bound a call: its socket
//! is inside that runtime, out of reach, so no read timeout can be set, and `tcp_user_timeout`
//! only fires when data goes unacknowledged, which a server (or proxy) that accepts and acks
//! but never answers does not cause. Running `tokio-postgres` on our own runtime per
//! connection keeps the same behaviour (the calling thread blocks in the kernel, in that
//! runtime's `epoll_wait`, while the query is out: no helper thread) and puts each call under
//! `tokio::time::timeout`. It also reuses the async clients' code (`pg::Session`).
//!
//! A runtime cannot be entered from a thread already inside one. Thread models never are; a
//! caller that is (a test under `#[tokio::test]`, a blocking handler run on a tokio worker)
//! gets the call moved to a short-lived scoped thread instead of a panic: slower, but correct.

use std::future::{Future, ready};
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::types::ToSql;

use crate::bank::{self, DbStatement, Guard, Pause};
use crate::clients::SqlClient;
use crate::config::POOL_CHECKOUT_TIMEOUT;
use crate::pg::{self, Deadline, Pick, Session};
use crate::pool::Pool;
use crate::queries::FromSqlRow;
use crate::runtime::TokioRt;
use crate::{Account, Activity, BackendError, BankOp, BankOutcome, Order, User};

pub struct PgPool {
    pool: Pool<Conn>,
    config: tokio_postgres::Config,
    /// How long one call may take ([`Deadline`]).
    io_timeout: Duration,
    whom: Arc<str>,
}

/// One pooled connection: its runtime, and its session once opened (lazily, under the
/// deadline of the call that needs it).
struct Conn {
    runtime: tokio::runtime::Runtime,
    session: Option<Arc<Session>>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool")
            .field("pool", &self.pool)
            .field("io_timeout", &self.io_timeout)
            .finish_non_exhaustive()
    }
}

impl PgPool {
    /// A pool of `size` connections, opened lazily; one is opened now so a wrong URL or a
    /// stopped server fails at startup.
    pub(crate) fn connect(
        url: &str,
        size: usize,
        io_timeout: Duration,
    ) -> Result<Self, BackendError> {
        let pool = Pool::new("database", size, POOL_CHECKOUT_TIMEOUT, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    BackendError::Unavailable("database", format!("postgres client runtime: {e}"))
                })?;
            Ok(Conn {
                runtime,
                session: None,
            })
        });
        let config = pg::config(url)?;
        let pool = Self {
            pool,
            whom: pg::whom(&config),
            config,
            io_timeout,
        };
        pool.call(|_| Ok(()))?;
        Ok(pool)
    }

    /// **Every PostgreSQL call of the blocking clients goes through here.** A pooled
    /// connection, its session (re)connected first if it has none or it is no longer usable,
    /// is held for `script` with the call's [`Deadline`]; connecting and each statement
    /// ([`Held::run`]) run in what is left of it. A connection whose call missed it is
    /// discarded with its runtime (which closes its socket), so no later call waits on a
    /// stalled connection; its pool slot opens a fresh one.
    pub(crate) fn call<T: Send>(
        &self,
        script: impl FnOnce(&mut Held<'_>) -> Result<T, BackendError> + Send,
    ) -> Result<T, BackendError> {
        off_runtime(|| {
            let mut conn = self.pool.get()?;
            let mut held = Held {
                conn: &mut conn,
                config: &self.config,
                deadline: Deadline::after(self.io_timeout, &self.whom),
                discard: false,
            };
            // Connected before the script runs: a failure here is the call's, not a
            // statement's.
            let out = held
                .run(|_| async { Ok::<_, BackendError>(()) })
                .and_then(|()| script(&mut held));
            if held.discard || held.deadline.was_missed() {
                conn.discard();
            }
            out
        })
    }

    /// A bank call, done in the call: the script's waits (a thread's or may's sleep) complete
    /// in place, so `block_on` polls it once; its statements run through [`Held::run`]. A
    /// failure may leave a transaction open: it is rolled back, and the connection dropped if
    /// even that fails, so no later caller inherits it.
    fn bank<T: Send>(
        &self,
        script: impl FnOnce(&mut Held<'_>) -> Result<T, BackendError> + Send,
    ) -> Result<T, BackendError> {
        self.call(|held| {
            let out = script(held);
            if out.is_err() {
                let rollback = held.run(|session| async move {
                    Ok::<_, BackendError>(session.client.batch_execute("ROLLBACK").await?)
                });
                if rollback.is_err() {
                    held.discard();
                }
            }
            out
        })
    }

    fn rows<T: FromSqlRow + Send>(
        &self,
        pick: Pick,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, BackendError> {
        self.call(|held| held.run(|session| async move { session.rows(pick, params).await }))
    }
}

/// A pooled connection held by one call ([`PgPool::call`]), and that call's deadline.
pub(crate) struct Held<'a> {
    conn: &'a mut Conn,
    config: &'a tokio_postgres::Config,
    deadline: Deadline,
    /// Drop the connection when the call ends instead of returning it to the pool.
    discard: bool,
}

impl Held<'_> {
    /// One step of the call (a query, a statement) on the connection's session, run to
    /// completion on the connection's runtime by this thread in what is left of the call's
    /// deadline. Each step is its own `block_on`, so what a script does between steps (a
    /// thread's or may's sleep) happens outside the runtime: a may coroutine never parks
    /// inside it.
    pub(crate) fn run<T, E, F, Fut>(&mut self, step: F) -> Result<T, E>
    where
        E: From<BackendError>,
        F: FnOnce(Arc<Session>) -> Fut + Send,
        Fut: Future<Output = Result<T, E>> + Send,
    {
        let Conn { runtime, session } = &mut *self.conn;
        let config = self.config;
        runtime.block_on(self.deadline.run::<TokioRt, _, _>(async {
            step(pg::reuse_or_open::<TokioRt>(session, config).await?).await
        }))
    }

    /// The connection is not fit for the next caller (a transaction may be left open).
    pub(crate) fn discard(&mut self) {
        self.discard = true;
    }
}

/// Run `f` here, or on a scoped thread if this thread is inside a tokio runtime (see the
/// module doc).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| s.spawn(f).join())
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

impl SqlClient for PgPool {
    fn bank_statement(
        &self,
        st: DbStatement,
    ) -> impl Future<Output = Result<Vec<Account>, BackendError>> + Send {
        ready(self.bank(|held| crate::block_on(bank::run_statement(held, st))))
    }

    fn bank_apply<Q: Pause>(
        &self,
        op: BankOp,
        guard: Guard,
        pause: &Q,
    ) -> impl Future<Output = Result<BankOutcome, BackendError>> + Send {
        ready(self.bank(|held| crate::block_on(bank::run_apply(held, op, guard, pause))))
    }

    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send {
        ready(self.rows(|s| &s.user, &[&id]).map(|mut rows| rows.pop()))
    }

    fn orders(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send {
        ready(self.rows(|s| &s.orders, &[&user_id, &i64::from(limit)]))
    }

    fn account(
        &self,
        user_id: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send {
        ready(
            self.rows(|s| &s.account, &[&user_id])
                .map(|mut rows| rows.pop()),
        )
    }

    fn activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send {
        ready(self.rows(|s| &s.activity, &[&user_id, &i64::from(limit)]))
    }
}
