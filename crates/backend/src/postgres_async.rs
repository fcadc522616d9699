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

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

// tokio's `sync` types need no tokio runtime: they work on the event loop too.
use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;

use crate::clients::SqlClient;
use crate::pg::{self, Pick, Session};
use crate::queries::FromSqlRow;
use crate::runtime::AsyncRuntime;
use crate::{Account, Activity, BackendError, Order, User};

#[derive(Debug)]
pub struct PgAsyncPool<R> {
    config: tokio_postgres::Config,
    slots: Vec<Mutex<Option<Arc<Session>>>>,
    next: AtomicUsize,
    /// The deadline of every call ([`PgAsyncPool::call`]).
    io_timeout: Duration,
    runtime: PhantomData<R>,
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
            io_timeout,
            runtime: PhantomData,
        };
        pool.call(|_| async { Ok(()) }).await?;
        Ok(pool)
    }

    /// **Every PostgreSQL call of the async clients goes through here.** The next slot's
    /// session ((re)connected if it has none or its connection closed) is handed to `query`,
    /// the whole call under the IO deadline (`R::timeout`: tokio's timer or the loop's). A
    /// session that misses the deadline is abandoned: the next call on its slot reconnects
    /// (dropping it closes its socket), so no later call queues behind a stalled connection.
    pub(crate) async fn call<T, F, Fut>(&self, query: F) -> Result<T, BackendError>
    where
        F: FnOnce(Arc<Session>) -> Fut + Send,
        Fut: Future<Output = Result<T, BackendError>> + Send,
    {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        // The session this call used, to drop it if the deadline passes.
        let mut used = None;
        let bounded = R::timeout(self.io_timeout, async {
            let session =
                pg::reuse_or_open::<R>(&mut *self.slots[i].lock().await, &self.config).await?;
            used = Some(Arc::clone(&session));
            query(session).await
        })
        .await;
        bounded.unwrap_or_else(|| {
            if let Some(stalled) = used {
                stalled.abandon();
            }
            Err(pg::no_answer(&self.config, self.io_timeout))
        })
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
