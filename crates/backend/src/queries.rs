//! The SQL, written once for both databases and all four drivers, and the one mapping from a
//! result row to each domain type.
//!
//! Placeholders are `$1`, `$2`: PostgreSQL's syntax, which SQLite also accepts (as named
//! parameters numbered in order of appearance), so one text serves both. Only the DDL
//! differs: SQLite wants `INTEGER PRIMARY KEY` to make the id the rowid (no second index).

use crate::{Account, Activity, Order, User};

pub(crate) const USER: &str = "SELECT id, name, email, created_at FROM users WHERE id = $1";

pub(crate) const ORDERS: &str = "SELECT id, user_id, item, quantity, amount_cents, created_at \
     FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2";

pub(crate) const ACCOUNT: &str = "SELECT user_id, balance_cents FROM accounts WHERE user_id = $1";

pub(crate) const ACTIVITY: &str = "SELECT id, user_id, kind, at \
     FROM activity WHERE user_id = $1 ORDER BY at DESC, id DESC LIMIT $2";

pub(crate) const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";

/// Which SQL dialect a DDL statement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// `CREATE … IF NOT EXISTS` for every table and index, in order.
pub(crate) fn schema(dialect: Dialect) -> [String; 6] {
    let id = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY",
        Dialect::Postgres => "BIGINT PRIMARY KEY",
    };
    [
        format!(
            "CREATE TABLE IF NOT EXISTS users (id {id}, name TEXT NOT NULL, \
             email TEXT NOT NULL, created_at BIGINT NOT NULL)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS orders (id {id}, user_id BIGINT NOT NULL, \
             item TEXT NOT NULL, quantity INTEGER NOT NULL, amount_cents BIGINT NOT NULL, \
             created_at BIGINT NOT NULL)"
        ),
        "CREATE INDEX IF NOT EXISTS orders_user_created ON orders (user_id, created_at)".into(),
        format!(
            "CREATE TABLE IF NOT EXISTS accounts (user_id {id}, balance_cents BIGINT NOT NULL)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS activity (id {id}, user_id BIGINT NOT NULL, \
             kind TEXT NOT NULL, at BIGINT NOT NULL)"
        ),
        "CREATE INDEX IF NOT EXISTS activity_user_at ON activity (user_id, at)".into(),
    ]
}

/// The little a row mapping needs from a driver's row: typed columns by index. Implemented
/// for `rusqlite::Row` and `tokio_postgres::Row` (which the sync `postgres` crate re-exports),
/// so each domain type has exactly one mapping.
pub(crate) trait SqlRow {
    type Error;
    fn int(&self, idx: usize) -> Result<i64, Self::Error>;
    fn int32(&self, idx: usize) -> Result<i32, Self::Error>;
    fn text(&self, idx: usize) -> Result<String, Self::Error>;
}

impl SqlRow for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, idx: usize) -> Result<i64, Self::Error> {
        self.get(idx)
    }
    fn int32(&self, idx: usize) -> Result<i32, Self::Error> {
        self.get(idx)
    }
    fn text(&self, idx: usize) -> Result<String, Self::Error> {
        self.get(idx)
    }
}

impl SqlRow for tokio_postgres::Row {
    type Error = tokio_postgres::Error;
    fn int(&self, idx: usize) -> Result<i64, Self::Error> {
        self.try_get(idx)
    }
    fn int32(&self, idx: usize) -> Result<i32, Self::Error> {
        self.try_get(idx)
    }
    fn text(&self, idx: usize) -> Result<String, Self::Error> {
        self.try_get(idx)
    }
}

/// Build a domain type from a row of its query above (columns in the `SELECT`'s order).
pub(crate) trait FromSqlRow: Sized {
    fn from_row<R: SqlRow>(row: &R) -> Result<Self, R::Error>;
}

impl FromSqlRow for User {
    fn from_row<R: SqlRow>(r: &R) -> Result<Self, R::Error> {
        Ok(Self {
            id: r.int(0)?,
            name: r.text(1)?,
            email: r.text(2)?,
            created_at: r.int(3)?,
        })
    }
}

impl FromSqlRow for Order {
    fn from_row<R: SqlRow>(r: &R) -> Result<Self, R::Error> {
        Ok(Self {
            id: r.int(0)?,
            user_id: r.int(1)?,
            item: r.text(2)?,
            quantity: r.int32(3)?,
            amount_cents: r.int(4)?,
            created_at: r.int(5)?,
        })
    }
}

impl FromSqlRow for Account {
    fn from_row<R: SqlRow>(r: &R) -> Result<Self, R::Error> {
        Ok(Self {
            user_id: r.int(0)?,
            balance_cents: r.int(1)?,
        })
    }
}

impl FromSqlRow for Activity {
    fn from_row<R: SqlRow>(r: &R) -> Result<Self, R::Error> {
        Ok(Self {
            id: r.int(0)?,
            user_id: r.int(1)?,
            kind: r.text(2)?,
            at: r.int(3)?,
        })
    }
}
