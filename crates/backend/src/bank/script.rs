//! The database side of the bank, written once over [`Session`] for every driver: plain reads
//! and writes (what `racy`, `lock` and `actor` are built from) and the guarded operations of
//! the `db-*` and transaction strategies.

use std::future::Future;

use super::op::{BankOp, BankOutcome, decide};
use super::session::{Dialect, Session, SqlError, SqlResult};
use super::sql;
use crate::{Account, BackendError};

/// Attempts of a transaction that PostgreSQL aborted as a serialization failure or deadlock
/// victim, and of a conditional write that failed only because its money arrived meanwhile.
pub(crate) const MAX_ATTEMPTS: u32 = 10;

/// A transaction's isolation level (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    fn begin(self) -> &'static str {
        match self {
            Self::ReadCommitted => "BEGIN ISOLATION LEVEL READ COMMITTED",
            Self::RepeatableRead => "BEGIN ISOLATION LEVEL REPEATABLE READ",
            Self::Serializable => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        }
    }
}

/// How the database protects an operation's check and act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The check inside each write (`ADD_IF_COVERED`); a transfer's two writes in one
    /// transaction.
    Conditional,
    /// Read the rows locked, then write, in one transaction.
    RowLock,
    /// Read, then write, in one transaction at this level; retried when aborted.
    Isolation(Isolation),
}

/// One statement of the bank on its own (no transaction): what `racy`, `lock` and `actor`
/// are built from; it answers rows. An operation the database protects is a call of its own
/// ([`crate::Clients::bank_apply`]), answering a [`BankOutcome`]: two typed calls rather than
/// one request enum, so no caller has to match an answer its request cannot get.
#[derive(Debug, Clone, Copy)]
pub enum DbStatement {
    /// Accounts `from..=to`, one statement.
    Range { from: i64, to: i64 },
    /// The accounts an operation touches.
    Read(BankOp),
    /// Write these balances (one or two accounts), blindly; answers no rows.
    Write([(i64, i64); 2]),
}

/// A simulated round trip, waited the model's way: what a script waits inside a transaction
/// between its read and its write, and before it retries.
pub trait Pause: Sync {
    fn pause(&self) -> impl Future<Output = ()> + Send;
    /// One draw of the round trip, for a wait that must block the thread instead.
    fn sample(&self) -> std::time::Duration;
}

/// Wait one round trip while holding `S`'s connection: the model's way, or blocking the
/// thread when the connection came from a blocking checkout ([`Session::BLOCKING_CHECKOUT`]).
async fn wait_holding<S: Session, P: Pause>(pause: &P) {
    if S::BLOCKING_CHECKOUT {
        let d = pause.sample();
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    } else {
        pause.pause().await;
    }
}

/// Run `st` on `s`. A write that fails with the connection lost *after* it was sent may or
/// may not have applied, so it becomes a 500 (`Query`), never a 503: a 503 promises the
/// client that nothing was applied.
pub(crate) async fn statement<S: Session>(
    s: &mut S,
    st: DbStatement,
) -> Result<Vec<Account>, BackendError> {
    let rows = match st {
        DbStatement::Range { from, to } => s.rows(sql::READ_RANGE, &[from, to]).await,
        DbStatement::Read(op) => s.rows(sql::READ_TWO, &op.ids()).await,
        DbStatement::Write([(a, x), (b, y)]) => {
            let written = s.rows(sql::SET_TWO, &[a, x, b, y]).await;
            return written.map(|_| Vec::new()).map_err(outcome_unknown);
        }
    };
    rows.map_err(|e| e.error)
}

/// Run `op` under `guard`, retried as the database asks (up to [`MAX_ATTEMPTS`]). As for a
/// write, a lost connection once a statement was sent leaves the outcome unknown (a 500).
pub(crate) async fn apply<S: Session, P: Pause>(
    s: &mut S,
    op: BankOp,
    guard: Guard,
    pause: &P,
) -> Result<BankOutcome, BackendError> {
    for _ in 0..MAX_ATTEMPTS {
        let attempt = match guard {
            Guard::Conditional => conditional(s, op).await,
            Guard::RowLock => {
                transaction(
                    s,
                    S::Dialect::BEGIN_WRITE,
                    S::Dialect::READ_LOCKED,
                    op,
                    pause,
                )
                .await
            }
            Guard::Isolation(level) => {
                transaction(s, level.begin(), sql::READ_TWO, op, pause).await
            }
        };
        match attempt {
            Ok(Some(outcome)) => return Ok(outcome),
            // Aborted by the database, or a conditional write raced by a deposit: again,
            // after a round trip, so the contenders spread out.
            Ok(None) => wait_holding::<S, P>(pause).await,
            Err(e) if e.retry => wait_holding::<S, P>(pause).await,
            // Once a statement of the operation may have reached the database, a lost
            // connection leaves its outcome unknown (conservative for a failed BEGIN).
            Err(e) => return Err(outcome_unknown(e)),
        }
    }
    Err(BackendError::Unavailable(
        "database",
        format!(
            "gave up after {MAX_ATTEMPTS} attempts aborted by concurrent writers; nothing was applied"
        ),
    ))
}

/// `db-conditional`. `Ok(None)`: refused by the `WHERE`, but a read afterwards found the
/// money there (a deposit landed in between): try again rather than answer a 409 whose
/// balance would cover the amount.
async fn conditional<S: Session>(s: &mut S, op: BankOp) -> SqlResult<Option<BankOutcome>> {
    let changes = op.changes();
    let one = changes.len() == 1;
    if !one {
        s.batch(S::Dialect::BEGIN_WRITE).await?;
    }
    let mut after = Vec::with_capacity(2);
    for &(id, change) in &changes {
        match s.rows(sql::ADD_IF_COVERED, &[change, id]).await {
            Ok(mut row) if row.len() == 1 => after.append(&mut row),
            Ok(_) => {
                if !one {
                    s.batch("ROLLBACK").await?;
                }
                let read = s.rows(sql::READ_TWO, &op.ids()).await?;
                return Ok(decide(op, &read).err());
            }
            Err(e) => return Err(abandon(s, !one, e).await),
        }
    }
    if !one {
        commit(s).await?;
    }
    Ok(Some(BankOutcome::Applied(after)))
}

/// `db-lock` and the isolation strategies: begin, read (locked or not), wait a round trip
/// where the database allows it (the window `racy` loses money in), decide, write, commit.
/// `Ok(None)` never comes from here; a retryable abort is an `Err` with `retry`.
async fn transaction<S: Session, P: Pause>(
    s: &mut S,
    begin: &'static str,
    read_sql: &'static str,
    op: BankOp,
    pause: &P,
) -> SqlResult<Option<BankOutcome>> {
    s.batch(begin).await?;
    let read = match s.rows(read_sql, &op.ids()).await {
        Ok(read) => read,
        Err(e) => return Err(abandon(s, true, e).await),
    };
    if S::Dialect::PAUSE_IN_TXN {
        wait_holding::<S, P>(pause).await;
    }
    let after = match decide(op, &read) {
        Ok(after) => after,
        Err(refusal) => {
            s.batch("ROLLBACK").await?;
            return Ok(Some(refusal));
        }
    };
    let [a, b] = pair(&after);
    if let Err(e) = s.rows(sql::SET_TWO, &[a.0, a.1, b.0, b.1]).await {
        return Err(abandon(s, true, e).await);
    }
    commit(s).await?;
    Ok(Some(BankOutcome::Applied(after)))
}

/// The write of [`DbStatement::Write`] for balances `after` (one or two accounts).
pub(crate) fn pair(after: &[Account]) -> [(i64, i64); 2] {
    let first = (after[0].user_id, after[0].balance_cents);
    let last = after.last().map_or(first, |a| (a.user_id, a.balance_cents));
    [first, last]
}

/// Roll back after a failed statement inside a transaction (best effort: the connection may
/// be gone, and the driver discards a closed one), keeping the statement's error.
async fn abandon<S: Session>(s: &mut S, in_txn: bool, e: SqlError) -> SqlError {
    if in_txn {
        let _ = s.batch("ROLLBACK").await;
    }
    e
}

/// `COMMIT`. A serialization failure at commit (SERIALIZABLE reports them there) is rolled
/// back and retried by the caller.
async fn commit<S: Session>(s: &mut S) -> SqlResult<()> {
    match s.batch("COMMIT").await {
        Err(e) if e.retry => Err(abandon(s, true, e).await),
        done => done,
    }
}

fn outcome_unknown(e: SqlError) -> BackendError {
    match e.error {
        BackendError::Unavailable(part, why) => BackendError::Query(format!(
            "{part} connection lost after a write was sent, outcome unknown: {why}"
        )),
        other => other,
    }
}
