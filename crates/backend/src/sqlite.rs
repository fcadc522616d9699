//! SQLite (bundled, in-process): a pool of connections, the four queries, schema and seed.
//!
//! Every call here is synchronous, in *both* backends. An in-process SQLite read is a few
//! microseconds of CPU work on the calling thread, not a wait on a network: there is nothing
//! for an async runtime to overlap. What the chapter's database "costs" is the simulated round
//! trip the backend waits on top (a `thread::sleep` or a tokio timer), and that wait is where
//! the two backends differ. A connection is held only for the synchronous query, never across
//! an `.await`, so async workers never contend for the pool.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags, Params};

use crate::bank::{self, DbStatement, Guard, Pause};
use crate::config::POOL_CHECKOUT_TIMEOUT;
use crate::pool::{Pool, Pooled};
use crate::queries::{self, Dialect, FromSqlRow};
use crate::{Account, Activity, BackendError, BankOp, BankOutcome, DatabaseUrl, Order, User, seed};

/// How long a writer waits for another connection's lock before `SQLITE_BUSY`.
const BUSY_TIMEOUT_MS: u32 = 5_000;
/// Prepared statements kept per connection (the four queries and a few spare).
const STATEMENT_CACHE: usize = 16;

/// The pool plus, for `sqlite::memory:`, the connection that keeps the database alive.
pub(crate) struct SqliteDb {
    pool: Pool<Connection>,
    /// An in-memory database lives as long as one connection to it: this one, for the
    /// backend's whole life. `None` for a file.
    _keeper: Option<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// Distinguishes the in-memory databases of several backends in one process.
static MEMORY_DBS: AtomicUsize = AtomicUsize::new(0);

impl SqliteDb {
    /// Open a pool for `url` (which must be a SQLite URL). A file is opened once now so a
    /// bad path fails at startup; `sqlite::memory:` is created, given its schema and seeded
    /// here, because it only exists while this backend does.
    pub(crate) fn open(
        url: &DatabaseUrl,
        pool_size: usize,
        seed_users: u32,
        seed_orders_per_user: u32,
    ) -> Result<Self, BackendError> {
        let (target, keeper) = match url {
            DatabaseUrl::SqliteFile(path) => (path.to_string_lossy().into_owned(), None),
            DatabaseUrl::SqliteMemory => {
                let n = MEMORY_DBS.fetch_add(1, Ordering::Relaxed);
                let uri = format!(
                    "file:clab-mem-{}-{n}?mode=memory&cache=shared",
                    std::process::id()
                );
                let mut keeper = open_connection(&uri)?;
                prepare_connection(&mut keeper, seed_users, seed_orders_per_user)?;
                (uri, Some(Mutex::new(keeper)))
            }
            DatabaseUrl::Postgres(_) => {
                return Err(BackendError::Config("not a SQLite URL".into()));
            }
        };
        let pool = Pool::new("database", pool_size, POOL_CHECKOUT_TIMEOUT, move || {
            open_connection(&target)
        });
        drop(pool.get()?);
        Ok(Self {
            pool,
            _keeper: keeper,
        })
    }

    pub(crate) fn user(&self, id: i64) -> Result<Option<User>, BackendError> {
        Ok(self.rows(queries::USER, [id])?.pop())
    }

    pub(crate) fn orders(&self, user_id: i64, limit: u32) -> Result<Vec<Order>, BackendError> {
        self.rows(queries::ORDERS, [user_id, i64::from(limit)])
    }

    pub(crate) fn account(&self, user_id: i64) -> Result<Option<Account>, BackendError> {
        Ok(self.rows(queries::ACCOUNT, [user_id])?.pop())
    }

    pub(crate) fn activity(&self, user_id: i64, limit: u32) -> Result<Vec<Activity>, BackendError> {
        self.rows(queries::ACTIVITY, [user_id, i64::from(limit)])
    }

    /// One bank statement on a pooled connection.
    pub(crate) async fn bank_statement(
        &self,
        st: DbStatement,
    ) -> Result<Vec<Account>, BackendError> {
        let mut conn = self.pool.get()?;
        let out = bank::run_statement(&mut *conn, st).await;
        settle(conn);
        out
    }

    /// One bank operation under `guard` on a pooled connection.
    pub(crate) async fn bank_apply<Q: Pause>(
        &self,
        op: BankOp,
        guard: Guard,
        pause: &Q,
    ) -> Result<BankOutcome, BackendError> {
        let mut conn = self.pool.get()?;
        let out = bank::run_apply(&mut *conn, op, guard, pause).await;
        settle(conn);
        out
    }

    /// Run one of the shared queries on a pooled connection through its statement cache.
    fn rows<T: FromSqlRow>(&self, sql: &str, params: impl Params) -> Result<Vec<T>, BackendError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, |row| T::from_row(row))?;
        Ok(rows.collect::<Result<Vec<T>, _>>()?)
    }

    /// A raw connection, for tests that check what the pool's connections see.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &Pool<Connection> {
        &self.pool
    }
}

/// Give back a connection after a bank call. A transaction a failure left open is rolled
/// back, and the connection dropped if even that fails, so no later caller inherits it.
fn settle(conn: Pooled<'_, Connection>) {
    if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
        conn.discard();
    }
}

/// Open one connection with the settings every connection gets.
fn open_connection(target: &str) -> Result<Connection, BackendError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        // Each connection is used by one thread at a time (the pool sees to it), so SQLite's
        // own per-connection mutex is pure overhead.
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(target, flags)
        .map_err(|e| BackendError::Unavailable("database", format!("sqlite open {target}: {e}")))?;
    conn.busy_timeout(std::time::Duration::from_millis(u64::from(BUSY_TIMEOUT_MS)))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if !target.starts_with("file:") {
        // WAL: readers never block the writer or each other, so a pool of readers scales.
        // (Not for the shared-cache in-memory database, which has no journal file.)
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    Ok(conn)
}

/// Create the schema if missing and seed the file database if `users` is empty.
pub(crate) fn prepare_file(
    path: &Path,
    users: u32,
    orders_per_user: u32,
) -> Result<(), BackendError> {
    let mut conn = open_connection(&path.to_string_lossy())?;
    prepare_connection(&mut conn, users, orders_per_user)
}

/// Schema and seed on one connection, in one `IMMEDIATE` transaction: it takes the write
/// lock first, so two processes preparing at once serialise (the second waits up to the busy
/// timeout, then sees the seeded tables and does nothing).
fn prepare_connection(
    conn: &mut Connection,
    users: u32,
    orders_per_user: u32,
) -> Result<(), BackendError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for ddl in queries::schema(Dialect::Sqlite) {
        tx.execute(&ddl, [])?;
    }
    let existing: i64 = tx.query_row(queries::COUNT_USERS, [], |r| r.get(0))?;
    if existing == 0 {
        insert_seed(&tx, users, orders_per_user)?;
        tracing::info!(users, "seeded the SQLite database");
    }
    tx.commit()?;
    Ok(())
}

fn insert_seed(
    tx: &rusqlite::Transaction<'_>,
    users: u32,
    orders_per_user: u32,
) -> rusqlite::Result<()> {
    let mut user =
        tx.prepare("INSERT INTO users (id, name, email, created_at) VALUES ($1, $2, $3, $4)")?;
    let mut order = tx.prepare(
        "INSERT INTO orders (id, user_id, item, quantity, amount_cents, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )?;
    let mut account =
        tx.prepare("INSERT INTO accounts (user_id, balance_cents) VALUES ($1, $2)")?;
    let mut activity =
        tx.prepare("INSERT INTO activity (id, user_id, kind, at) VALUES ($1, $2, $3, $4)")?;
    for s in seed::users(users, orders_per_user) {
        let u = &s.user;
        user.execute(rusqlite::params![u.id, u.name, u.email, u.created_at])?;
        for o in &s.orders {
            order.execute(rusqlite::params![
                o.id,
                o.user_id,
                o.item,
                o.quantity,
                o.amount_cents,
                o.created_at
            ])?;
        }
        account.execute(rusqlite::params![
            s.account.user_id,
            s.account.balance_cents
        ])?;
        for a in &s.activity {
            activity.execute(rusqlite::params![a.id, a.user_id, a.kind, a.at])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn memory_database_is_shared_by_all_pool_connections() {
        let db = SqliteDb::open(&DatabaseUrl::SqliteMemory, 4, 20, 10).unwrap();
        let a = db.pool().get().unwrap();
        let b = db.pool().get().unwrap();
        assert_eq!(count(&a, "users"), 20);
        assert_eq!(count(&b, "users"), 20);
        a.execute("UPDATE users SET name = 'changed' WHERE id = 1", [])
            .unwrap();
        let name: String = b
            .query_row("SELECT name FROM users WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, "changed");
    }

    #[test]
    fn two_memory_backends_are_separate_databases() {
        let one = SqliteDb::open(&DatabaseUrl::SqliteMemory, 2, 3, 10).unwrap();
        let two = SqliteDb::open(&DatabaseUrl::SqliteMemory, 2, 7, 10).unwrap();
        assert_eq!(count(&one.pool().get().unwrap(), "users"), 3);
        assert_eq!(count(&two.pool().get().unwrap(), "users"), 7);
    }

    #[test]
    fn queries_return_newest_first_within_limit() {
        let db = SqliteDb::open(&DatabaseUrl::SqliteMemory, 2, 10, 10).unwrap();
        let orders = db.orders(3, 4).unwrap();
        assert!(!orders.is_empty() && orders.len() <= 4);
        assert!(
            orders
                .windows(2)
                .all(|w| w[0].created_at >= w[1].created_at)
        );
        assert!(orders.iter().all(|o| o.user_id == 3));
        let acts = db.activity(3, 2).unwrap();
        assert_eq!(acts.len(), 2);
        assert!(acts[0].at >= acts[1].at);
        assert!(db.user(11).unwrap().is_none());
        assert!(db.account(11).unwrap().is_none());
    }
}
