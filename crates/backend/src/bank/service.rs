//! The bank in [`Services`]: each [`RaceStrategy`] as the steps it takes, for every model.

use std::future::Future;

use clab_trace::WaitKind;

use super::op::{BankOp, BankOutcome, decide};
use super::script::{DbStatement, Guard, Isolation, Pause, pair};
use super::{Actor, Locks, RaceStrategy};
use crate::clients::Clients;
use crate::services::Services;
use crate::wait::Wait;
use crate::{Account, BackendError, LatencyProfile};

/// What a backend keeps for the bank: its strategy and, for the in-process strategies, their
/// locks or their owner.
#[derive(Debug)]
pub(crate) struct BankState<W: Wait, C> {
    pub strategy: RaceStrategy,
    locks: Option<Locks<W::Slots>>,
    actor: Actor<W, C>,
}

impl<W: Wait, C> BankState<W, C> {
    pub(crate) fn new(strategy: RaceStrategy, wait: &W) -> Self {
        Self {
            strategy,
            locks: (strategy == RaceStrategy::Lock).then(|| Locks::new(wait)),
            actor: Actor::default(),
        }
    }
}

/// One simulated round trip of the latency profile, waited the model's way.
pub(crate) struct RoundTrip<'a, W> {
    pub wait: &'a W,
    pub latency: &'a LatencyProfile,
}

impl<W: Wait> Pause for RoundTrip<'_, W> {
    fn sample(&self) -> std::time::Duration {
        self.latency.sample()
    }

    fn pause(&self) -> impl Future<Output = ()> + Send {
        let d = self.latency.sample();
        async move {
            if !d.is_zero() {
                self.wait.sleep(d).await;
            }
        }
    }
}

impl<W: Wait, C: Clients> Services<W, C> {
    /// One statement of the bank: one round trip, then `st`.
    async fn bank_statement(&self, st: DbStatement) -> Result<Vec<Account>, BackendError> {
        self.remote(WaitKind::Db, |c| c.bank_statement(st)).await
    }

    /// Accounts `from..=to`, one statement (one snapshot).
    pub(crate) async fn bank_range(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<Account>, BackendError> {
        self.bank_statement(DbStatement::Range { from, to }).await
    }

    /// The balances of the accounts `op` touches (one round trip).
    pub(crate) async fn bank_read(&self, op: BankOp) -> Result<Vec<Account>, BackendError> {
        self.bank_statement(DbStatement::Read(op)).await
    }

    /// Write balances `after` (one or two accounts), blindly (one round trip).
    pub(crate) async fn bank_write(&self, after: &[Account]) -> Result<(), BackendError> {
        self.bank_statement(DbStatement::Write(pair(after)))
            .await
            .map(drop)
    }

    /// `racy`'s steps, also run under `lock`: read (a round trip), check, write (another
    /// round trip: the await between the check and the act).
    pub(crate) async fn read_check_write(&self, op: BankOp) -> Result<BankOutcome, BackendError> {
        let read = self.bank_read(op).await?;
        let after = match decide(op, &read) {
            Ok(after) => after,
            Err(refusal) => return Ok(refusal),
        };
        self.bank_write(&after).await?;
        Ok(BankOutcome::Applied(after))
    }

    /// `op` under the backend's strategy.
    pub(crate) async fn bank_apply(&self, op: BankOp) -> Result<BankOutcome, BackendError> {
        let bank = &self.inner.bank;
        let guard = match bank.strategy {
            RaceStrategy::Racy => return self.read_check_write(op).await,
            RaceStrategy::Lock => {
                let locks = bank.locks.as_ref().expect("lock strategy builds its locks");
                let _held = locks.lock(op.ids()).await;
                return self.read_check_write(op).await;
            }
            RaceStrategy::Actor => return bank.actor.ask(self, op).await,
            RaceStrategy::DbConditional => Guard::Conditional,
            RaceStrategy::DbLock => Guard::RowLock,
            RaceStrategy::Serializable => Guard::Isolation(Isolation::Serializable),
            RaceStrategy::TxnReadCommitted => Guard::Isolation(Isolation::ReadCommitted),
            RaceStrategy::TxnRepeatableRead => Guard::Isolation(Isolation::RepeatableRead),
        };
        // One round trip, then the whole operation; `pause` is what its transaction waits
        // inside, and between its attempts.
        let pause = RoundTrip {
            wait: &self.inner.wait,
            latency: &self.inner.parts.latency,
        };
        self.remote(WaitKind::Db, |c| c.bank_apply(op, guard, &pause))
            .await
    }
}
