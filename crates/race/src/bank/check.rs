//! The checks of a bank history (Jepsen's bank workload, with withdrawals and deposits):
//! (a) every full read's total lies within the bounds the other operations allow; (b) no
//! answer ever shows a negative balance; (c) the final read equals the initial state plus the
//! accepted operations, per account, within the bounds of the indeterminate ones; (d) every
//! 409 is one the request could deserve: about the account it takes money from, reporting a
//! balance below the amount; (e) every balance an answer reports (a 200's, a full read's, a
//! 409's) is one the account could have had at some instant while that request was open.
//!
//! Bounds, never guesses ([`bounds`]): an operation that completed before a request was
//! invoked is definitely in what the request saw; one that overlaps it (or is indeterminate and
//! was invoked before it completed) may or may not be. So a clean history can never be
//! flagged, whatever the overlaps (`tests/bank_linearizable.rs` holds it to that). A value
//! outside its bounds is explained, where one operation can, by naming the accepted operation
//! whose effect is missing or the refused/failed one that took effect.

mod bounds;
mod report;

pub use report::{Anomaly, AnomalyKind, Report};

use super::history::{Balances, History, Kind, Op, Outcome};
use bounds::{Bounds, Timeline};
use std::collections::BTreeMap;

/// At most this many explaining operations are named in one example.
const MAX_NAMED: usize = 4;

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
    let accounts: BTreeMap<u64, Timeline> = history
        .initial
        .iter()
        .map(|&(id, v)| (id, Timeline::new(v, &history.ops, |o| o.kind.delta_on(id))))
        .collect();
    let total = Timeline::new(sum(&history.initial), &history.ops, |o| {
        o.kind.total_delta()
    });
    negative_balances(history, &mut report);
    refusals(history, &mut report);
    answers(history, &accounts, &mut report);
    totals(history, &total, &mut report);
    final_state(history, &accounts, &mut report);
    report.anomalies.sort_by_key(|a| a.kind);
    report
}

fn sum(b: &Balances) -> i64 {
    b.iter().map(|(_, v)| v).sum()
}

fn balances(b: &Balances) -> String {
    let each: Vec<String> = b.iter().map(|(id, v)| format!("{id}: {v}")).collect();
    format!("{{{}}}", each.join(", "))
}

/// One operation in words: id, client, what it asked, its interval and what came back.
fn describe(op: &Op) -> String {
    let what = match op.kind {
        Kind::Withdraw { account, amount } => format!("withdraw {amount} from {account}"),
        Kind::Deposit { account, amount } => format!("deposit {amount} to {account}"),
        Kind::Transfer { from, to, amount } => format!("transfer {amount} from {from} to {to}"),
        Kind::Read => "full read".to_owned(),
    };
    let answer = match &op.outcome {
        Outcome::Ok { balances: b } => format!("200 {}", balances(b)),
        Outcome::Refused { account, balance } => format!("409 account {account} at {balance}"),
        Outcome::Failed { status } => status.to_string(),
        Outcome::Indeterminate { error } => format!("indeterminate: {error}"),
    };
    format!(
        "op {} (client {}, {what}, {}..{} µs → {answer})",
        op.id, op.client, op.invoke_us, op.complete_us
    )
}

/// The operations other than `asking` each of which alone would bring `seen` within `bounds`
/// (what a quantity could be during `invoke..=complete`, with `delta` its change per
/// operation): an accepted one definitely in whose effect is missing, or a refused or failed
/// one that took effect after all. Returns the words and the ids.
fn explain(
    h: &History,
    asking: Option<u64>,
    delta: impl Fn(&Op) -> i64,
    (bounds, seen): (Bounds, i64),
    (invoke, complete): (u64, u64),
) -> (String, Vec<u64>) {
    let mut named = Vec::new();
    let mut words = Vec::new();
    for op in h.ops.iter().filter(|o| Some(o.id) != asking) {
        let d = delta(op);
        let fits = match op.outcome {
            _ if d == 0 => None,
            Outcome::Ok { .. } if op.complete_us < invoke => bounds
                .shifted(-d)
                .holds(seen)
                .then_some("had not taken effect"),
            // Had it taken effect, it would have done so before its answer: certainly in if
            // that came before `invoke`, possibly if it was invoked by `complete`.
            Outcome::Refused { .. } | Outcome::Failed { .. } if op.complete_us < invoke => {
                bounds.shifted(d).holds(seen).then_some("had taken effect")
            }
            Outcome::Refused { .. } | Outcome::Failed { .. } if op.invoke_us <= complete => {
                bounds.widened(d).holds(seen).then_some("had taken effect")
            }
            _ => None,
        };
        if let Some(how) = fits {
            named.push(op.id);
            words.push(format!("{} {how}", describe(op)));
            if named.len() == MAX_NAMED {
                break;
            }
        }
    }
    let words = if words.is_empty() {
        "no single operation accounts for it".to_owned()
    } else {
        format!("it fits if {}", words.join(", or if "))
    };
    (words, named)
}

fn negative_balances(h: &History, r: &mut Report) {
    for op in &h.ops {
        let negative = match &op.outcome {
            Outcome::Ok { balances } => balances.iter().copied().find(|(_, v)| *v < 0),
            Outcome::Refused { account, balance } if *balance < 0 => Some((*account, *balance)),
            _ => None,
        };
        if let Some((account, balance)) = negative {
            r.note(AnomalyKind::NegativeBalance, || {
                let words = format!(
                    "{} answered account {account} at {balance} cents",
                    describe(op)
                );
                (words, vec![op.id])
            });
        }
    }
    if let Some(fin) = &h.final_read
        && let Some(&(account, balance)) = fin.iter().find(|(_, v)| *v < 0)
    {
        r.note(AnomalyKind::NegativeBalance, || {
            let words = format!("the final read has account {account} at {balance} cents");
            (words, Vec::new())
        });
    }
}

/// Check (d): a 409 says "account A holds B, less than the amount": A must be the account the
/// operation takes from and B below the amount. Whether B is a balance A could have had is
/// check (e)'s question.
fn refusals(h: &History, r: &mut Report) {
    for op in &h.ops {
        let Outcome::Refused { account, balance } = op.outcome else {
            continue;
        };
        let wrong = match op.kind.debit() {
            None => Some("although it takes money from no account".to_owned()),
            Some((from, _)) if from != account => Some(format!(
                "naming account {account}, although it takes from account {from}"
            )),
            Some((_, amount)) if balance >= amount => Some(format!(
                "although account {account} reported {balance} ≥ the amount {amount}"
            )),
            Some(_) => None,
        };
        if let Some(wrong) = wrong {
            r.note(AnomalyKind::BadRefusal, || {
                (format!("{} was refused {wrong}", describe(op)), vec![op.id])
            });
        }
    }
}

/// Check (e): each balance an answer reports against what that account could have been while
/// the request was open. A 200 reports the balance after its own operation, which is then
/// certainly in; a full read or a 409 reports one before anything of its own.
fn answers(h: &History, accounts: &BTreeMap<u64, Timeline>, r: &mut Report) {
    for op in &h.ops {
        let refused;
        let (reported, own): (&[(u64, i64)], bool) = match &op.outcome {
            Outcome::Ok { balances } => (balances, true),
            Outcome::Refused { account, balance } => {
                refused = [(*account, *balance)];
                (&refused, false)
            }
            _ => continue,
        };
        let wrong = reported.iter().find_map(|&(account, seen)| {
            let mut bounds = accounts.get(&account)?.during(op.invoke_us, op.complete_us);
            if own {
                bounds.settle(op.kind.delta_on(account));
            }
            (!bounds.holds(seen)).then_some((account, seen, bounds))
        });
        if let Some((account, seen, bounds)) = wrong {
            r.note(AnomalyKind::WrongBalance, || {
                let (why, mut ids) = explain(
                    h,
                    Some(op.id),
                    |o| o.kind.delta_on(account),
                    (bounds, seen),
                    (op.invoke_us, op.complete_us),
                );
                ids.insert(0, op.id);
                let words = format!(
                    "{} reported account {account} at {seen} cents; the operations around it allow {bounds}; {why}",
                    describe(op)
                );
                (words, ids)
            });
        }
    }
}

/// Check (a): each full read's total against the operations around it.
fn totals(h: &History, total: &Timeline, r: &mut Report) {
    let initial = sum(&h.initial);
    for read in h.ops.iter().filter(|o| o.kind == Kind::Read) {
        let Outcome::Ok { balances } = &read.outcome else {
            continue;
        };
        let bounds = total.during(read.invoke_us, read.complete_us);
        let seen = sum(balances);
        if !bounds.holds(seen) {
            r.note(AnomalyKind::WrongTotal, || {
                let (why, mut ids) = explain(
                    h,
                    Some(read.id),
                    |o| o.kind.total_delta(),
                    (bounds, seen),
                    (read.invoke_us, read.complete_us),
                );
                ids.insert(0, read.id);
                let words = format!(
                    "{} totals {seen} cents; initial {initial} and the operations around it allow {bounds}; {why}",
                    describe(read)
                );
                (words, ids)
            });
        }
    }
}

/// Check (c): the final read, account by account; an account missing from it (or one it has
/// that the initial read had not) is a final state that is not the initial one plus the
/// operations either.
fn final_state(h: &History, accounts: &BTreeMap<u64, Timeline>, r: &mut Report) {
    let Some(fin) = &h.final_read else {
        return;
    };
    for (&account, timeline) in accounts {
        let bounds = timeline.after_all();
        let Some(&(_, seen)) = fin.iter().find(|(id, _)| *id == account) else {
            r.note(AnomalyKind::FinalState, || {
                let words =
                    format!("account {account} (expected {bounds}) is missing from the final read");
                (words, Vec::new())
            });
            continue;
        };
        if bounds.holds(seen) {
            continue;
        }
        r.note(AnomalyKind::FinalState, || {
            let delta = |o: &Op| o.kind.delta_on(account);
            let touching = |pick: fn(&Op) -> bool| {
                h.ops.iter().filter(|o| pick(o) && delta(o) != 0).count()
            };
            let initial = h.initial.iter().find(|(id, _)| *id == account).map_or(0, |p| p.1);
            let how = if seen > bounds.hi {
                "more than they allow: money created"
            } else {
                "less than they allow: money destroyed"
            };
            let (why, ids) = explain(h, None, delta, (bounds, seen), (u64::MAX, u64::MAX));
            let words = format!(
                "account {account} ends at {seen} cents; initial {initial} and its {} accepted and {} indeterminate operations allow {bounds} ({how}); {why}",
                touching(Op::applied),
                touching(Op::indeterminate),
            );
            (words, ids)
        });
    }
    for &(account, seen) in fin.iter().filter(|(id, _)| !accounts.contains_key(id)) {
        r.note(AnomalyKind::FinalState, || {
            let words = format!("the final read has account {account} at {seen} cents, which the initial read had not");
            (words, Vec::new())
        });
    }
}
