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
//! each call takes the next slot in turn. A slot whose connection closed is reopened by the
//! next caller that lands on it. Statements are prepared once per client, on first use.
//!
//! A bank *transaction* cannot share a client: another task's statement pipelined between its
//! `BEGIN` and `COMMIT` would run inside it (and be rolled back with it). Transactions take a
//! connection of their own from a second, checked-out set ([`Exclusive`]): at most `size`,
//! opened on demand, waited for up to the pool's checkout timeout.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

// tokio's `sync` types need no tokio runtime: they work on the event loop too.
use tokio::sync::{Mutex, OnceCell};
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;

use crate::bank::{self, DbOutcome, DbRequest, Pause};
use crate::clients::SqlClient;
use crate::config::{CONNECT_TIMEOUT, POOL_CHECKOUT_TIMEOUT};
use crate::pg::{self, Pick, Statements};
use crate::queries::FromSqlRow;
use crate::runtime::AsyncRuntime;
use crate::{Account, Activity, BackendError, Order, User};

#[derive(Debug)]
pub struct PgAsyncPool<R> {
    config: tokio_postgres::Config,
    slots: Vec<Mutex<Option<Arc<Slot>>>>,
    next: AtomicUsize,
    exclusive: Exclusive,
    runtime: PhantomData<R>,
}

/// Connections a transaction holds alone: idle ones, and permits bounding how many exist.
#[derive(Debug)]
struct Exclusive {
    idle: std::sync::Mutex<Vec<tokio_postgres::Client>>,
    permits: tokio::sync::Semaphore,
}

#[derive(Debug)]
struct Slot {
    client: tokio_postgres::Client,
    statements: OnceCell<Statements>,
}

impl<R: AsyncRuntime> PgAsyncPool<R> {
    /// `size` slots; the first is opened now so a wrong URL or a stopped server fails at
    /// startup. Must run on `R` (each connection's IO task is spawned on it).
    pub(crate) async fn connect(url: &str, size: usize) -> Result<Self, BackendError> {
        let pool = Self {
            config: pg::config(url)?,
            slots: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            exclusive: Exclusive {
                idle: std::sync::Mutex::new(Vec::new()),
                permits: tokio::sync::Semaphore::new(size.max(1)),
            },
            runtime: PhantomData,
        };
        pool.slot().await?;
        Ok(pool)
    }

    /// The next slot's client, (re)connecting it if it has none or its connection closed.
    async fn slot(&self) -> Result<Arc<Slot>, BackendError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if let Some(live) = slot.as_ref().filter(|s| !s.client.is_closed()) {
            return Ok(Arc::clone(live));
        }
        let client = R::timeout(CONNECT_TIMEOUT, self.open())
            .await
            .ok_or_else(|| self.unavailable("connect timed out"))??;
        let fresh = Arc::new(Slot {
            client,
            statements: OnceCell::new(),
        });
        *slot = Some(Arc::clone(&fresh));
        Ok(fresh)
    }

    /// One new connection over `R`'s stream, its IO task spawned on `R`.
    async fn open(&self) -> Result<tokio_postgres::Client, BackendError> {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(_)) => {
                return Err(BackendError::Config(
                    "PostgreSQL over a Unix socket is not supported by the async clients; use a TCP host".into(),
                ));
            }
            None => "localhost".to_owned(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let stream = R::connect(&host, port)
            .await
            .map_err(|e| self.unavailable(e))?;
        let (client, connection) = self
            .config
            .connect_raw(stream, tokio_postgres::NoTls)
            .await
            .map_err(|e| pg::unreachable(&self.config, &e))?;
        R::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("postgres connection ended: {e}");
            }
        });
        Ok(client)
    }

    fn unavailable(&self, why: impl std::fmt::Display) -> BackendError {
        pg::unavailable(&self.config, why)
    }

    /// A bank call: a transaction on a connection held alone, anything else on a shared one.
    async fn bank_call<Q: Pause>(
        &self,
        req: DbRequest,
        pause: &Q,
    ) -> Result<DbOutcome, BackendError> {
        if !matches!(req, DbRequest::Apply(..)) {
            let slot = self.slot().await?;
            return bank::run_script(&mut &slot.client, req, pause).await;
        }
        let _permit = R::timeout(POOL_CHECKOUT_TIMEOUT, self.exclusive.permits.acquire())
            .await
            .ok_or_else(|| {
                self.unavailable(format!(
                    "pool exhausted after {} ms: every transaction connection busy",
                    POOL_CHECKOUT_TIMEOUT.as_millis()
                ))
            })?
            .map_err(|_| self.unavailable("pool closed"))?;
        let idle = {
            let mut idle = self
                .exclusive
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            idle.retain(|c| !c.is_closed());
            idle.pop()
        };
        let client = match idle {
            Some(client) => client,
            None => R::timeout(CONNECT_TIMEOUT, self.open())
                .await
                .ok_or_else(|| self.unavailable("connect timed out"))??,
        };
        let out = bank::run_script(&mut &client, req, pause).await;
        // A failure may have left the transaction open: roll it back before anyone reuses
        // the connection, or drop the connection.
        let clean = out.is_ok() || client.batch_execute("ROLLBACK").await.is_ok();
        if clean && !client.is_closed() {
            let mut idle = self
                .exclusive
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            idle.push(client);
        }
        out
    }

    async fn rows<T: FromSqlRow>(
        &self,
        pick: Pick,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, BackendError> {
        let slot = self.slot().await?;
        let client = &slot.client;
        let statements = slot
            .statements
            .get_or_try_init(|| async {
                let [a, b, c, d] = pg::SQL;
                let prepared = [
                    client.prepare(a).await?,
                    client.prepare(b).await?,
                    client.prepare(c).await?,
                    client.prepare(d).await?,
                ];
                Ok::<_, tokio_postgres::Error>(Statements::from_prepared(prepared))
            })
            .await?;
        let rows = client.query(pick(statements), params).await?;
        Ok(rows
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, _>>()?)
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
