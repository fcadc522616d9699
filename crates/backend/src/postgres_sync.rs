//! PostgreSQL for [`crate::BlockingClients`] and `MayClients`: the sync `postgres` client behind the blocking
//! [`Pool`]; each connection prepares the four statements on first use.
//!
//! The sync client drives a private tokio runtime and panics if the calling thread is already
//! inside one. Thread models never are; a caller that is (a test under `#[tokio::test]`, a
//! blocking handler run on a tokio worker) gets the call moved to a short-lived scoped thread
//! instead of a panic: slower, but correct.

use std::future::{Future, ready};

use postgres::types::ToSql;

use crate::bank::{self, DbOutcome, DbRequest, Pause};
use crate::clients::SqlClient;
use crate::config::POOL_CHECKOUT_TIMEOUT;
use crate::pg::{self, Pick, Statements};
use crate::pool::Pool;
use crate::queries::FromSqlRow;
use crate::{Account, Activity, BackendError, Order, User};

pub struct PgPool {
    pool: Pool<Conn>,
}

struct Conn {
    client: postgres::Client,
    statements: Option<Statements>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool").field("pool", &self.pool).finish()
    }
}

impl PgPool {
    /// A pool of `size` connections, opened lazily; one is opened now so a wrong URL or a
    /// stopped server fails at startup.
    pub(crate) fn connect(url: &str, size: usize) -> Result<Self, BackendError> {
        let config = pg::config(url)?;
        let pool = Pool::new("database", size, POOL_CHECKOUT_TIMEOUT, move || {
            let client = postgres::Config::from(config.clone())
                .connect(postgres::NoTls)
                .map_err(|e| pg::unreachable(&config, &e))?;
            Ok(Conn {
                client,
                statements: None,
            })
        });
        off_runtime(|| pool.get().map(drop))?;
        Ok(Self { pool })
    }

    fn rows<T: FromSqlRow + Send>(
        &self,
        pick: Pick,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, BackendError> {
        off_runtime(|| {
            let mut conn = self.pool.get()?;
            let result = query(&mut conn, pick, params);
            if result.is_err() && conn.client.is_closed() {
                // The server went away: drop this connection so the next caller reconnects.
                conn.discard();
            }
            result
        })
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
    /// Done in the call: the script's waits (a thread's or may's sleep) complete in place, so
    /// `block_on` polls it once.
    fn bank<Q: Pause>(
        &self,
        req: DbRequest,
        pause: &Q,
    ) -> impl Future<Output = Result<DbOutcome, BackendError>> + Send {
        ready(off_runtime(|| {
            let mut conn = self.pool.get()?;
            let out = crate::block_on(bank::run_script(&mut conn.client, req, pause));
            let left_dirty = out.is_err() && conn.client.batch_execute("ROLLBACK").is_err();
            if left_dirty || conn.client.is_closed() {
                conn.discard();
            }
            out
        }))
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

fn query<T: FromSqlRow>(
    conn: &mut Conn,
    pick: Pick,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<T>, BackendError> {
    let Conn { client, statements } = conn;
    let statements = match statements {
        Some(s) => s,
        None => {
            let [a, b, c, d] = pg::SQL;
            let prepared = [
                client.prepare(a)?,
                client.prepare(b)?,
                client.prepare(c)?,
                client.prepare(d)?,
            ];
            statements.insert(Statements::from_prepared(prepared))
        }
    };
    let rows = client.query(pick(statements), params)?;
    Ok(rows
        .iter()
        .map(T::from_row)
        .collect::<Result<Vec<T>, _>>()?)
}
