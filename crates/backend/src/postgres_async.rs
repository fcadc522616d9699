//! PostgreSQL for [`crate::TokioClients`]: `tokio-postgres` clients, round-robin.
//!
//! A tokio-postgres `Client` is shared by reference and pipelines concurrent queries on one
//! connection, so the "pool" needs no checkout: `size` slots, each a lazily opened client, and
//! each call takes the next slot in turn. A slot whose connection closed is reopened by the
//! next caller that lands on it. Statements are prepared once per client, on first use.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Mutex, OnceCell};
use tokio_postgres::types::ToSql;

use crate::clients::SqlClient;
use crate::pg::{self, Pick, Statements};
use crate::queries::FromSqlRow;
use crate::{Account, Activity, BackendError, Order, User};

#[derive(Debug)]
pub struct PgAsyncPool {
    config: tokio_postgres::Config,
    slots: Vec<Mutex<Option<Arc<Slot>>>>,
    next: AtomicUsize,
}

#[derive(Debug)]
struct Slot {
    client: tokio_postgres::Client,
    statements: OnceCell<Statements>,
}

impl PgAsyncPool {
    /// `size` slots; the first is opened now so a wrong URL or a stopped server fails at
    /// startup. Must run inside tokio (each connection's IO task is spawned on it).
    pub(crate) async fn connect(url: &str, size: usize) -> Result<Self, BackendError> {
        let pool = Self {
            config: pg::config(url)?,
            slots: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
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
        let (client, connection) = self
            .config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| pg::unreachable(&self.config, &e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("postgres connection ended: {e}");
            }
        });
        let fresh = Arc::new(Slot {
            client,
            statements: OnceCell::new(),
        });
        *slot = Some(Arc::clone(&fresh));
        Ok(fresh)
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

impl SqlClient for PgAsyncPool {
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
