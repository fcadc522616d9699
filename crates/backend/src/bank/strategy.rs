//! [`RaceStrategy`]: how the bank's check ("enough balance?") and act (deduct) are protected,
//! chosen by `clab serve --race-strategy`.

use std::fmt;
use std::str::FromStr;

use crate::{BackendError, DatabaseUrl};

/// See the variants; [`RaceStrategy::ALL`] lists them in the order reports show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaceStrategy {
    /// Read the balance, wait one simulated round trip (the write's), write the new balance:
    /// the check and the act are split by an await (the chapter's §11 withdrawal).
    Racy,
    /// The same steps under a lock per account, in the model's own world (a tokio semaphore
    /// for tasks, a condvar for threads, may's semaphore for coroutines), taken in account
    /// order so transfers cannot deadlock. Protects one process only.
    Lock,
    /// The same steps done by one owner (a task, thread or the loop's task) that receives
    /// requests over a channel, one at a time (the chapter's Go `counterService`). One process.
    Actor,
    /// The check inside the write: `UPDATE … SET balance = balance - $1 WHERE id = $2 AND
    /// balance >= $1`, and the affected row count says whether it applied. The default: it
    /// is correct on every database and across processes.
    #[default]
    DbConditional,
    /// A transaction holding the rows: `SELECT … FOR UPDATE` on PostgreSQL, `BEGIN
    /// IMMEDIATE` (the database-wide write lock) on SQLite.
    DbLock,
    /// PostgreSQL SERIALIZABLE; a serialization failure is retried, at most 10 attempts.
    Serializable,
    /// The naive read-then-write inside a READ COMMITTED transaction (PostgreSQL's default):
    /// a transaction alone does not prevent a lost update.
    TxnReadCommitted,
    /// The same at REPEATABLE READ: PostgreSQL aborts the second writer ("could not
    /// serialize access due to concurrent update"); retried, at most 10 attempts.
    TxnRepeatableRead,
}

impl RaceStrategy {
    pub const ALL: [RaceStrategy; 8] = [
        Self::Racy,
        Self::Lock,
        Self::Actor,
        Self::DbConditional,
        Self::DbLock,
        Self::Serializable,
        Self::TxnReadCommitted,
        Self::TxnRepeatableRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Racy => "racy",
            Self::Lock => "lock",
            Self::Actor => "actor",
            Self::DbConditional => "db-conditional",
            Self::DbLock => "db-lock",
            Self::Serializable => "serializable",
            Self::TxnReadCommitted => "txn-read-committed",
            Self::TxnRepeatableRead => "txn-repeatable-read",
        }
    }

    /// Whether the strategy means something on `db`; `Err` says why not, in one line.
    ///
    /// SQLite has no isolation levels to choose: every transaction is serializable, by one
    /// database-wide write lock, so the three isolation strategies would silently be
    /// `db-lock` under another name. The tool refuses them rather than pretend.
    pub fn check(self, db: &DatabaseUrl) -> Result<(), BackendError> {
        let isolation = matches!(
            self,
            Self::Serializable | Self::TxnReadCommitted | Self::TxnRepeatableRead
        );
        if isolation && !matches!(db, DatabaseUrl::Postgres(_)) {
            return Err(BackendError::Config(format!(
                "--race-strategy {self} needs PostgreSQL: SQLite has no isolation levels to \
                 choose (every transaction is serializable, by one database-wide write lock); \
                 on SQLite use db-lock or db-conditional"
            )));
        }
        Ok(())
    }

    /// Whether the protection lives in the server process (so a second process sharing the
    /// database is not covered by it).
    pub fn in_process(self) -> bool {
        matches!(self, Self::Lock | Self::Actor)
    }
}

impl fmt::Display for RaceStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RaceStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown race strategy {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sqlite_refuses_isolation_levels() {
        for k in RaceStrategy::ALL {
            assert_eq!(k.name().parse::<RaceStrategy>(), Ok(k));
        }
        assert!(
            "nope"
                .parse::<RaceStrategy>()
                .unwrap_err()
                .contains("db-lock")
        );
        let sqlite = DatabaseUrl::SqliteMemory;
        let pg = DatabaseUrl::Postgres("postgres://x@127.0.0.1/y".into());
        for k in RaceStrategy::ALL {
            assert!(k.check(&pg).is_ok());
        }
        let refused: Vec<_> = RaceStrategy::ALL
            .into_iter()
            .filter(|k| k.check(&sqlite).is_err())
            .collect();
        assert_eq!(
            refused,
            [
                RaceStrategy::Serializable,
                RaceStrategy::TxnReadCommitted,
                RaceStrategy::TxnRepeatableRead
            ]
        );
    }
}
