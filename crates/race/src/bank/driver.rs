//! The driver: one full read, C client threads spread round-robin over the instances until the
//! operation budget or the time limit runs out, then one more full read.

use super::client::Client;
use super::history::{History, Op};
use super::workload::Workload;
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How much load, against which instances.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub instances: Vec<SocketAddr>,
    pub accounts: u64,
    pub clients: u64,
    /// Operations in all, full reads included.
    pub ops: u64,
    /// Stop starting operations after this long even if the budget is not spent.
    pub time_limit: Duration,
    /// A request unanswered this long is indeterminate.
    pub timeout: Duration,
    pub seed: u64,
}

/// Run `plan`; `on_op` is called after every operation (a progress bar).
pub fn run(plan: &Plan, on_op: &(dyn Fn() + Sync)) -> Result<History, String> {
    let first = *plan.instances.first().ok_or("no instance to drive")?;
    if plan.accounts == 0 || plan.clients == 0 {
        return Err("accounts and clients must each be at least 1".into());
    }
    let initial = Client::new(first, plan.timeout).read_all(plan.accounts)?;
    if initial.len() as u64 != plan.accounts {
        return Err(format!(
            "the server has {} of the accounts 1..={}",
            initial.len(),
            plan.accounts
        ));
    }
    let workload = Workload::sized(
        plan.accounts,
        initial.iter().map(|(_, v)| v).sum(),
        plan.seed,
    );
    let start = Instant::now();
    let budget = AtomicU64::new(plan.ops);
    let us = || start.elapsed().as_micros() as u64;
    let per_client: Vec<Vec<Op>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..plan.clients)
            .map(|c| {
                let addr = plan.instances[c as usize % plan.instances.len()];
                let (budget, us) = (&budget, &us);
                let mut gen_ = workload.client(c);
                std::thread::Builder::new()
                    .name(format!("bank-client-{c}"))
                    .spawn_scoped(s, move || {
                        let mut client = Client::new(addr, plan.timeout);
                        let mut ops = Vec::new();
                        // Take one unit of budget per operation; stop at zero or at the limit.
                        while start.elapsed() < plan.time_limit
                            && budget
                                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                                    b.checked_sub(1)
                                })
                                .is_ok()
                        {
                            let kind = gen_.next_op();
                            let invoke_us = us();
                            let outcome = client.perform(&kind, plan.accounts);
                            ops.push(Op {
                                id: 0,
                                client: c,
                                kind,
                                invoke_us,
                                complete_us: us(),
                                outcome,
                            });
                            on_op();
                        }
                        ops
                    })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| match w {
                Ok(handle) => handle
                    .join()
                    .map_err(|_| "a client thread panicked".to_owned()),
                Err(e) => Err(format!("starting a client thread: {e}")),
            })
            .collect::<Result<_, _>>()
    })?;
    let mut ops: Vec<Op> = per_client.into_iter().flatten().collect();
    ops.sort_by_key(|o| (o.invoke_us, o.client));
    for (i, op) in ops.iter_mut().enumerate() {
        op.id = i as u64 + 1;
    }
    // Indeterminate requests may still be in flight on the server: give them the timeout to
    // land before the final read, so it sees what they did.
    if ops.iter().any(Op::indeterminate) {
        std::thread::sleep(plan.timeout.min(Duration::from_secs(2)));
    }
    let final_read = Client::new(first, plan.timeout)
        .read_all(plan.accounts)
        .ok();
    Ok(History {
        initial,
        ops,
        final_read,
    })
}
