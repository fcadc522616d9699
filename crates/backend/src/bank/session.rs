//! [`Session`]: the little the bank's scripts (`script.rs`) need of a database connection,
//! implemented for the three drivers, so each script is written once: a SQLite connection, a
//! sync `postgres` client, an exclusively held `tokio-postgres` client.
//!
//! Parameters are all `BIGINT` (ids, cents), so a plain `&[i64]` is enough.

use std::future::{Future, ready};

use postgres::types::ToSql;
use tokio_postgres::error::SqlState;

use crate::queries::FromSqlRow;
use crate::{Account, BackendError};

/// A failed statement, and whether running the transaction again may succeed (a
/// serialization failure or a deadlock victim: PostgreSQL's SQLSTATE 40001 and 40P01).
#[derive(Debug)]
pub(crate) struct SqlError {
    pub retry: bool,
    pub error: BackendError,
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        Self {
            retry: false,
            error: e.into(),
        }
    }
}

impl From<tokio_postgres::Error> for SqlError {
    fn from(e: tokio_postgres::Error) -> Self {
        let retry = matches!(
            e.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        );
        Self {
            retry,
            error: e.into(),
        }
    }
}

pub(crate) type SqlResult<T> = Result<T, SqlError>;

/// One connection, held by one bank operation for its whole script.
pub(crate) trait Session: Send {
    /// How a write transaction starts: SQLite's `BEGIN IMMEDIATE` takes the database's write
    /// lock at once (a deferred `BEGIN` would upgrade at the first write and could fail with
    /// `SQLITE_BUSY` mid-transaction); PostgreSQL's plain `BEGIN` is READ COMMITTED.
    const BEGIN_WRITE: &'static str;
    /// The read that holds the rows for `db-lock`: `FOR UPDATE` on PostgreSQL; on SQLite the
    /// `BEGIN IMMEDIATE` already holds the whole database, and `FOR UPDATE` is not SQL it has.
    const READ_LOCKED: &'static str;
    /// Whether a script may wait a round trip inside a transaction. Not on SQLite: its
    /// transaction holds a database-wide lock and its calls run synchronously on the calling
    /// thread, so a task of a single-threaded model that waited inside one would leave the
    /// next task's `BEGIN IMMEDIATE` blocking that same thread in SQLite's busy handler.
    const PAUSE_IN_TXN: bool;

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[i64],
    ) -> impl Future<Output = SqlResult<Vec<Account>>> + Send;

    /// Run a statement without parameters (`BEGIN …`, `COMMIT`, `ROLLBACK`).
    fn batch(&mut self, sql: &'static str) -> impl Future<Output = SqlResult<()>> + Send;
}

impl Session for rusqlite::Connection {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const READ_LOCKED: &'static str = super::sql::READ_TWO;
    const PAUSE_IN_TXN: bool = false;

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[i64],
    ) -> impl Future<Output = SqlResult<Vec<Account>>> + Send {
        let run = || -> SqlResult<Vec<Account>> {
            let mut stmt = self.prepare_cached(sql)?;
            let rows =
                stmt.query_map(rusqlite::params_from_iter(params), |r| Account::from_row(r))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        };
        ready(run())
    }

    fn batch(&mut self, sql: &'static str) -> impl Future<Output = SqlResult<()>> + Send {
        ready(self.execute_batch(sql).map_err(SqlError::from))
    }
}

fn pg_params(params: &[i64]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Session for postgres::Client {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const READ_LOCKED: &'static str = super::sql::READ_TWO_FOR_UPDATE;
    const PAUSE_IN_TXN: bool = true;

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[i64],
    ) -> impl Future<Output = SqlResult<Vec<Account>>> + Send {
        let rows = self.query(sql, &pg_params(params));
        ready(rows.map_err(SqlError::from).and_then(|rows| {
            rows.iter()
                .map(Account::from_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(SqlError::from)
        }))
    }

    fn batch(&mut self, sql: &'static str) -> impl Future<Output = SqlResult<()>> + Send {
        ready(self.batch_execute(sql).map_err(SqlError::from))
    }
}

/// By reference: a `tokio-postgres` client's calls take `&self`, and the async pool hands out
/// shared clients (plain reads and writes) and exclusively held ones (transactions).
impl Session for &tokio_postgres::Client {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const READ_LOCKED: &'static str = super::sql::READ_TWO_FOR_UPDATE;
    const PAUSE_IN_TXN: bool = true;

    async fn rows(&mut self, sql: &'static str, params: &[i64]) -> SqlResult<Vec<Account>> {
        let rows = self.query(sql, &pg_params(params)).await?;
        Ok(rows
            .iter()
            .map(Account::from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }

    async fn batch(&mut self, sql: &'static str) -> SqlResult<()> {
        Ok(self.batch_execute(sql).await?)
    }
}
