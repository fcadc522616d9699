//! The checks of a bank history (Jepsen's bank workload, with withdrawals and deposits):
//! (a) every full read's total lies within the bounds the other operations allow; (b) no
//! answer ever shows a negative balance; (c) the final read equals the initial state plus the
//! accepted operations, per account, within the bounds of the indeterminate ones; (d) every
//! 409 reports a balance below the amount asked.
//!
//! Bounds, never guesses: an operation that completed before a read was invoked is definitely
//! in it; one that overlaps the read (or is indeterminate and was invoked before the read
//! completed) may or may not be. The read's total must lie between the totals with the
//! possible ones' withdrawals all in and their deposits all out, and the reverse. So a clean
//! history can never be flagged, whatever the overlaps (the property test holds it to that).

use super::history::{Balances, History, Kind, Op, Outcome};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    /// A full read's total outside the bounds: money created or destroyed mid-run.
    WrongTotal,
    /// A balance below zero in some answer: the check-then-act race let a withdrawal through.
    NegativeBalance,
    /// The final state is not the initial plus the accepted operations: a lost update (or
    /// money created), per account.
    FinalState,
    /// A 409 whose reported balance covered the amount.
    BadRefusal,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 4] = [
        Self::WrongTotal,
        Self::NegativeBalance,
        Self::FinalState,
        Self::BadRefusal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::WrongTotal => "wrong-total",
            Self::NegativeBalance => "negative-balance",
            Self::FinalState => "final-state",
            Self::BadRefusal => "bad-refusal",
        }
    }
}

/// One anomaly kind: how many times it showed and the first example, with the operations
/// that show it (ids, times, values) in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub count: u64,
    pub first: String,
    /// The ids of the operations the first example names.
    pub first_ops: Vec<u64>,
}

/// Counts of a history and its anomalies (an empty list: none found).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ops: u64,
    pub accepted: u64,
    pub refused: u64,
    pub failed: u64,
    pub indeterminate: u64,
    pub reads: u64,
    pub anomalies: Vec<Anomaly>,
}

impl Report {
    pub fn count(&self, kind: AnomalyKind) -> u64 {
        self.anomalies
            .iter()
            .find(|a| a.kind == kind)
            .map_or(0, |a| a.count)
    }

    fn note(&mut self, kind: AnomalyKind, ops: &[u64], first: impl FnOnce() -> String) {
        match self.anomalies.iter_mut().find(|a| a.kind == kind) {
            Some(a) => a.count += 1,
            None => self.anomalies.push(Anomaly {
                kind,
                count: 1,
                first: first(),
                first_ops: ops.to_vec(),
            }),
        }
    }
}

/// A closed range of cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    lo: i64,
    hi: i64,
}

impl Bounds {
    fn exact(v: i64) -> Self {
        Self { lo: v, hi: v }
    }
    /// Add a delta that certainly applied.
    fn add(&mut self, d: i64) {
        self.lo += d;
        self.hi += d;
    }
    /// Add a delta that may or may not have applied.
    fn maybe(&mut self, d: i64) {
        self.lo += d.min(0);
        self.hi += d.max(0);
    }
    fn holds(&self, v: i64) -> bool {
        (self.lo..=self.hi).contains(&v)
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}..={}", self.lo, self.hi)
        }
    }
}

fn total(b: &Balances) -> i64 {
    b.iter().map(|(_, v)| v).sum()
}

/// Run every check on `history`.
pub fn check(history: &History) -> Report {
    let mut report = Report::default();
    for op in &history.ops {
        report.ops += 1;
        match &op.outcome {
            Outcome::Ok { .. } if op.kind == Kind::Read => report.reads += 1,
            Outcome::Ok { .. } => report.accepted += 1,
            Outcome::Refused { .. } => report.refused += 1,
            Outcome::Failed { .. } => report.failed += 1,
            Outcome::Indeterminate { .. } => report.indeterminate += 1,
        }
    }
    negative_balances(history, &mut report);
    refusals(history, &mut report);
    totals(history, &mut report);
    final_state(history, &mut report);
    report.anomalies.sort_by_key(|a| a.kind);
    report
}

fn describe(op: &Op) -> String {
    let what = match op.kind {
        Kind::Withdraw { account, amount } => format!("withdraw {amount} from {account}"),
        Kind::Deposit { account, amount } => format!("deposit {amount} to {account}"),
        Kind::Transfer { from, to, amount } => format!("transfer {amount} from {from} to {to}"),
        Kind::Read => "full read".to_owned(),
    };
    format!(
        "op {} (client {}, {what}, {}..{} µs)",
        op.id, op.client, op.invoke_us, op.complete_us
    )
}

fn negative_balances(h: &History, r: &mut Report) {
    for op in &h.ops {
        let negative: Vec<(u64, i64)> = match &op.outcome {
            Outcome::Ok { balances } => balances.iter().copied().filter(|(_, v)| *v < 0).collect(),
            Outcome::Refused { account, balance } if *balance < 0 => vec![(*account, *balance)],
            _ => Vec::new(),
        };
        if let Some(&(account, balance)) = negative.first() {
            r.note(AnomalyKind::NegativeBalance, &[op.id], || {
                format!(
                    "{} answered account {account} at {balance} cents",
                    describe(op)
                )
            });
        }
    }
    if let Some(fin) = &h.final_read
        && let Some(&(account, balance)) = fin.iter().find(|(_, v)| *v < 0)
    {
        r.note(AnomalyKind::NegativeBalance, &[], || {
            format!("the final read has account {account} at {balance} cents")
        });
    }
}

fn refusals(h: &History, r: &mut Report) {
    for op in &h.ops {
        if let (Outcome::Refused { account, balance }, Some(amount)) =
            (&op.outcome, op.kind.amount())
            && *balance >= amount
        {
            r.note(AnomalyKind::BadRefusal, &[op.id], || {
                format!(
                    "{} was refused 409 although account {account} reported {balance} ≥ {amount}",
                    describe(op)
                )
            });
        }
    }
}

/// Check (a): each full read's total against the operations around it.
fn totals(h: &History, r: &mut Report) {
    let initial = total(&h.initial);
    // Money-moving operations that may have applied, by invocation time, so that each read
    // looks only at those invoked before it completed.
    let mut movers: Vec<&Op> = h
        .ops
        .iter()
        .filter(|o| o.kind != Kind::Read && o.kind.total_delta() != 0)
        .filter(|o| o.applied() || o.indeterminate())
        .collect();
    movers.sort_by_key(|o| o.invoke_us);
    for read in h.ops.iter().filter(|o| o.kind == Kind::Read) {
        let Outcome::Ok { balances } = &read.outcome else {
            continue;
        };
        let mut bounds = Bounds::exact(initial);
        for op in movers
            .iter()
            .take_while(|o| o.maybe_applied_before(read.complete_us))
        {
            // Definitely in: accepted and completed before the read began.
            if op.applied() && op.complete_us < read.invoke_us {
                bounds.add(op.kind.total_delta());
            } else {
                bounds.maybe(op.kind.total_delta());
            }
        }
        let seen = total(balances);
        if !bounds.holds(seen) {
            r.note(AnomalyKind::WrongTotal, &[read.id], || {
                format!(
                    "{} totals {seen} cents; initial {initial} and the operations around it allow {bounds}",
                    describe(read)
                )
            });
        }
    }
}

/// Check (c): the final read, account by account.
fn final_state(h: &History, r: &mut Report) {
    let Some(fin) = &h.final_read else {
        return;
    };
    let mut expect: BTreeMap<u64, (Bounds, Vec<u64>)> = h
        .initial
        .iter()
        .map(|&(id, v)| (id, (Bounds::exact(v), Vec::new())))
        .collect();
    for op in &h.ops {
        for (account, d) in op.kind.deltas() {
            let Some((b, ids)) = expect.get_mut(&account) else {
                continue;
            };
            if op.applied() {
                b.add(d);
                ids.push(op.id);
            } else if op.indeterminate() {
                b.maybe(d);
                ids.push(op.id);
            }
        }
    }
    for &(account, seen) in fin {
        let Some((bounds, ids)) = expect.get(&account) else {
            continue;
        };
        if !bounds.holds(seen) {
            let how = if seen < bounds.lo {
                "lost update: money vanished"
            } else {
                "money created"
            };
            let first_ids: Vec<u64> = ids.iter().copied().take(8).collect();
            r.note(AnomalyKind::FinalState, &first_ids, || {
                let initial = h.initial.iter().find(|(id, _)| *id == account).map_or(0, |p| p.1);
                format!(
                    "account {account} ends at {seen} cents; initial {initial} plus its {} accepted/indeterminate operations gives {bounds} ({how}; first ops {first_ids:?})",
                    ids.len()
                )
            });
        }
    }
}
