//! `actor`: one owner does every bank operation, one at a time, and requests reach it over a
//! channel (the chapter's Go `counterService`). It owns the balances: it keeps each account's
//! balance in its own memory once read, checks against that, and writes every change through
//! to the database before it answers; so an operation costs it one round trip (the write),
//! not two. Nothing else in the process writes balances, so its memory is the truth, in one
//! process; a second process writing the same rows is exactly what it cannot see.
//! The owner runs in the model's own world
//! ([`Wait::spawn`]: a tokio task, a task of the event loop, or a thread for the thread and
//! coroutine models), started by the first operation.
//!
//! The mailbox is tokio's unbounded channel: sending never blocks or awaits, in any world, and
//! its receiver needs only a waker. The answer comes back through a one-slot [`Slots`] of the
//! model: the request takes the slot, hands it to the owner with the job, and waits to take it
//! again, which it can once the owner has stored the outcome and dropped the slot. So the
//! request waits the model's way (a parked thread, a pending task, a parked coroutine) without
//! a channel type per world.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::mpsc;

use super::op::{BankOp, BankOutcome, decide};
use crate::clients::Clients;
use crate::services::Services;
use crate::wait::{Slots, Wait};
use crate::{Account, BackendError};

type Answer = Arc<Mutex<Option<Result<BankOutcome, BackendError>>>>;

/// One request for the owner.
struct Job<W: Wait, C> {
    services: Services<W, C>,
    op: BankOp,
    answer: Answer,
    /// Dropped by the owner after it stored the answer: that wakes the request.
    done: <W::Slots as Slots>::Held,
}

pub(crate) struct Actor<W: Wait, C> {
    mailbox: OnceLock<mpsc::UnboundedSender<Job<W, C>>>,
}

impl<W: Wait, C> std::fmt::Debug for Actor<W, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("started", &self.mailbox.get().is_some())
            .finish()
    }
}

impl<W: Wait, C> Default for Actor<W, C> {
    fn default() -> Self {
        Self {
            mailbox: OnceLock::new(),
        }
    }
}

impl<W: Wait, C: Clients> Actor<W, C> {
    /// Have the owner do `op` with `services` (read, check, write) and wait for its answer.
    ///
    /// The job carries its `Services` rather than the owner keeping one, so the owner holds
    /// no reference to the backend between jobs: when the backend is dropped, so is the
    /// mailbox's sender, and the owner's loop ends.
    pub(crate) async fn ask(
        &self,
        services: &Services<W, C>,
        op: BankOp,
    ) -> Result<BankOutcome, BackendError> {
        let wait = &services.inner.wait;
        let signal = wait.slots(1);
        let done = signal.take().await;
        let answer: Answer = Arc::new(Mutex::new(None));
        let mailbox = self.mailbox.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            wait.spawn(owner(rx));
            tx
        });
        let job = Job {
            services: services.clone(),
            op,
            answer: Arc::clone(&answer),
            done,
        };
        if mailbox.send(job).is_err() {
            return Err(BackendError::Query("the bank's owner has stopped".into()));
        }
        // Free once the owner drops `done`: after it stored the answer, or if it panicked.
        let _again = signal.take().await;
        let stored = answer.lock().map(|mut a| a.take());
        stored.ok().flatten().unwrap_or_else(|| {
            Err(BackendError::Query(
                "the bank's owner dropped a request".into(),
            ))
        })
    }
}

/// The owner: one job at a time, in arrival order, over the balances it owns (account id →
/// cents; only accounts that exist get in, so at most the table's size).
async fn owner<W: Wait, C: Clients>(mut rx: mpsc::UnboundedReceiver<Job<W, C>>) {
    let mut owned: HashMap<i64, i64> = HashMap::new();
    while let Some(job) = rx.recv().await {
        let outcome = apply(&job.services, &mut owned, job.op).await;
        if let Ok(mut slot) = job.answer.lock() {
            *slot = Some(outcome);
        }
        drop(job.done);
    }
}

/// Check `op` against the owned balances (reading an account the owner has not seen yet),
/// then write the change through.
async fn apply<W: Wait, C: Clients>(
    services: &Services<W, C>,
    owned: &mut HashMap<i64, i64>,
    op: BankOp,
) -> Result<BankOutcome, BackendError> {
    let ids = op.ids();
    if ids.iter().any(|id| !owned.contains_key(id)) {
        for a in services.bank_read(op).await? {
            owned.insert(a.user_id, a.balance_cents);
        }
    }
    let known: Vec<Account> = owned_rows(owned, ids);
    let after = match decide(op, &known) {
        Ok(after) => after,
        Err(refusal) => return Ok(refusal),
    };
    if let Err(e) = services.bank_write(&after).await {
        // The write may or may not have landed: forget what the database now holds.
        for id in ids {
            owned.remove(&id);
        }
        return Err(e);
    }
    for a in &after {
        owned.insert(a.user_id, a.balance_cents);
    }
    Ok(BankOutcome::Applied(after))
}

fn owned_rows(owned: &HashMap<i64, i64>, ids: [i64; 2]) -> Vec<Account> {
    let mut rows: Vec<Account> = ids
        .iter()
        .filter_map(|&id| {
            owned.get(&id).map(|&balance_cents| Account {
                user_id: id,
                balance_cents,
            })
        })
        .collect();
    rows.dedup();
    rows
}
