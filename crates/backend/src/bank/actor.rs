//! `actor`: one owner does every bank operation, one at a time, and requests reach it over a
//! channel (the chapter's Go `counterService`). The owner runs in the model's own world
//! ([`Wait::spawn`]: a tokio task, a task of the event loop, or a thread for the thread and
//! coroutine models), started by the first operation.
//!
//! The mailbox is tokio's unbounded channel: sending never blocks or awaits, in any world, and
//! its receiver needs only a waker. The answer comes back through a one-slot [`Slots`] of the
//! model: the request takes the slot, hands it to the owner with the job, and waits to take it
//! again, which it can once the owner has stored the outcome and dropped the slot. So the
//! request waits the model's way (a parked thread, a pending task, a parked coroutine) without
//! a channel type per world.

use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::mpsc;

use super::op::{BankOp, BankOutcome};
use crate::BackendError;
use crate::clients::Clients;
use crate::services::Services;
use crate::wait::{Slots, Wait};

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

/// The owner: one job at a time, in arrival order.
async fn owner<W: Wait, C: Clients>(mut rx: mpsc::UnboundedReceiver<Job<W, C>>) {
    while let Some(job) = rx.recv().await {
        let outcome = job.services.read_check_write(job.op).await;
        if let Ok(mut slot) = job.answer.lock() {
            *slot = Some(outcome);
        }
        drop(job.done);
    }
}
