//! [`Session`]: the little the bank's scripts (`script.rs`) need of a database connection,
//! implemented for the three drivers, so each script is written once: a SQLite connection, the
//! blocking pool's held connection (`postgres_sync::Held`), a `tokio-postgres` client.
//!
//! Parameters are all `BIGINT` (ids, cents), so a plain `&[i64]` is enough.

use std::future::{Future, ready};

use postgres::types::ToSql;
use tokio_postgres::error::SqlState;

use crate::postgres_async::Call;
use crate::postgres_sync::Held;
use crate::queries::FromSqlRow;
use crate::runtime::AsyncRuntime;
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

/// A failure of the connection rather than of the statement (a missed deadline): not worth
/// running the transaction again on it.
impl From<BackendError> for SqlError {
    fn from(error: BackendError) -> Self {
        Self {
            retry: false,
            error,
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

/// What differs between the two databases' SQL and locking, for the scripts: one zero-sized
/// impl per database ([`Sqlite`], [`Postgres`]), named by each [`Session`] impl, so the
/// three PostgreSQL drivers say it once.
pub(crate) trait Dialect {
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
}

#[derive(Debug)]
pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const READ_LOCKED: &'static str = super::sql::READ_TWO;
    const PAUSE_IN_TXN: bool = false;
}

#[derive(Debug)]
pub(crate) struct Postgres;

impl Dialect for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const READ_LOCKED: &'static str = super::sql::READ_TWO_FOR_UPDATE;
    const PAUSE_IN_TXN: bool = true;
}

/// One connection, held by one bank operation for its whole script.
pub(crate) trait Session: Send {
    /// The database this connection speaks, and so its [`Dialect`].
    type Dialect: Dialect;
    /// Whether the connection came from a blocking checkout pool (SQLite's, the blocking
    /// PostgreSQL pool's). A request waiting for one of those blocks its thread, so a script
    /// holding one must not park its coroutine or yield its task while it waits a round trip:
    /// on may, carriers blocked in the checkout would leave no thread to resume the holders
    /// (measured: most operations timed out). Its waits block the thread instead, as the
    /// blocking driver itself does (`MAY_PINNING_NOTE`).
    const BLOCKING_CHECKOUT: bool;

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[i64],
    ) -> impl Future<Output = SqlResult<Vec<Account>>> + Send;

    /// Run a statement without parameters (`BEGIN …`, `COMMIT`, `ROLLBACK`).
    fn batch(&mut self, sql: &'static str) -> impl Future<Output = SqlResult<()>> + Send;
}

impl Session for rusqlite::Connection {
    type Dialect = Sqlite;
    const BLOCKING_CHECKOUT: bool = true;

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

/// The blocking pool's connection: each statement a step of the call ([`Held::run`]), under
/// the call's deadline, on the same `tokio-postgres` client code as the async pool.
impl Session for Held<'_> {
    type Dialect = Postgres;
    const BLOCKING_CHECKOUT: bool = true;

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[i64],
    ) -> impl Future<Output = SqlResult<Vec<Account>>> + Send {
        ready(self.run(|session| async move { (&session.client).rows(sql, params).await }))
    }

    fn batch(&mut self, sql: &'static str) -> impl Future<Output = SqlResult<()>> + Send {
        ready(self.run(|session| async move { (&session.client).batch(sql).await }))
    }
}

/// The async pool's call, shared (plain reads and writes) or held alone (transactions): each
/// statement on its `tokio-postgres` client, in what is left of the call's deadline.
impl<R: AsyncRuntime> Session for &Call<R> {
    type Dialect = Postgres;
    const BLOCKING_CHECKOUT: bool = false;

    async fn rows(&mut self, sql: &'static str, params: &[i64]) -> SqlResult<Vec<Account>> {
        let mut client = &self.session.client;
        self.run(client.rows(sql, params)).await
    }

    async fn batch(&mut self, sql: &'static str) -> SqlResult<()> {
        let mut client = &self.session.client;
        self.run(client.batch(sql)).await
    }
}

/// By reference: a `tokio-postgres` client's calls take `&self`.
impl Session for &tokio_postgres::Client {
    type Dialect = Postgres;
    const BLOCKING_CHECKOUT: bool = false;

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
