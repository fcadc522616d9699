//! The bank checker against histories of a correct bank: random operations with random
//! overlapping intervals, each taking effect at one random instant inside its interval (an
//! indeterminate one at any instant after its invocation, or never) against one true state,
//! answered from that state. Such a history is linearizable by construction, so the checker
//! must find nothing in it; and with one accepted withdrawal's write lost, it must find that.

#![cfg(not(loom))]

use clab_race::bank::history::{Balances, Kind};
use clab_race::bank::{AnomalyKind, History, Op, Outcome, check};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// What becomes of one planned operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Answered (200 or 409) at an instant inside its interval.
    Answered,
    /// Timed out, but took effect at an instant after its invocation, maybe after it gave up.
    LandedLate,
    /// Timed out and never took effect.
    Vanished,
    /// 503: never took effect.
    Failed,
}

#[derive(Debug, Clone)]
struct Plan {
    kind: Kind,
    invoke: u64,
    duration: u64,
    /// Where in its window the operation takes effect, in thousandths.
    at: u64,
    fate: Fate,
}

impl Plan {
    /// The instant it takes effect, if it does.
    fn instant(&self) -> Option<u64> {
        match self.fate {
            Fate::Answered => Some(self.invoke + self.at * self.duration / 1000),
            // Up to `LATE` µs after the client gave up.
            Fate::LandedLate => Some(self.invoke + self.at * (self.duration + LATE) / 1000),
            Fate::Vanished | Fate::Failed => None,
        }
    }
}

const LATE: u64 = 200;

fn kind(accounts: u64) -> impl Strategy<Value = Kind> {
    let account = 1..=accounts;
    let amount = 1..=600i64;
    prop_oneof![
        (account.clone(), amount.clone())
            .prop_map(|(account, amount)| Kind::Withdraw { account, amount }),
        (account.clone(), amount.clone())
            .prop_map(|(account, amount)| Kind::Deposit { account, amount }),
        (account.clone(), account, amount).prop_map(move |(from, to, amount)| {
            // Two distinct accounts when there are two; else a deposit.
            if from == to {
                Kind::Deposit {
                    account: from,
                    amount,
                }
            } else {
                Kind::Transfer { from, to, amount }
            }
        }),
        Just(Kind::Read),
    ]
}

fn plan(accounts: u64, indeterminate: bool) -> impl Strategy<Value = Plan> {
    let fate = if indeterminate {
        prop_oneof![
            6 => Just(Fate::Answered),
            1 => Just(Fate::LandedLate),
            1 => Just(Fate::Vanished),
            1 => Just(Fate::Failed),
        ]
        .boxed()
    } else {
        prop_oneof![6 => Just(Fate::Answered), 1 => Just(Fate::Failed)].boxed()
    };
    // Short runs with long operations, so that most overlap several others; equal stamps
    // happen too.
    (kind(accounts), 0..1_000u64, 0..150u64, 0..=1000u64, fate).prop_map(
        |(kind, invoke, duration, at, fate)| Plan {
            kind,
            invoke,
            duration,
            at,
            fate,
        },
    )
}

/// Initial balances and planned operations on 1 to 3 accounts.
fn plans(indeterminate: bool) -> impl Strategy<Value = (Balances, Vec<Plan>)> {
    (1..=3u64).prop_flat_map(move |accounts| {
        (
            proptest::collection::vec(0..=1_000i64, accounts as usize)
                .prop_map(|b| (1..).zip(b).collect::<Balances>()),
            proptest::collection::vec(plan(accounts, indeterminate), 1..40),
        )
    })
}

/// Run the plans against one true state in the order of their instants. The operation at
/// index `lose`, if it is applied, answers as if it were but leaves the state untouched: its
/// write was overwritten (a lost update). Returns the history and whether `lose` was applied.
fn simulate(initial: &Balances, plans: &[Plan], lose: Option<usize>) -> (History, bool) {
    let mut state: BTreeMap<u64, i64> = initial.iter().copied().collect();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; plans.len()];
    let mut order: Vec<(u64, usize)> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.instant().map(|t| (t, i)))
        .collect();
    order.sort();
    let mut lost = false;
    for (_, i) in order {
        let p = &plans[i];
        let answer = match p.kind.debit() {
            Some((from, amount)) if state[&from] < amount => Outcome::Refused {
                account: from,
                balance: state[&from],
            },
            _ => {
                let mut after = state.clone();
                for (account, d) in p.kind.deltas() {
                    *after.entry(account).or_default() += d;
                }
                let balances = match p.kind {
                    Kind::Read => state.iter().map(|(&a, &v)| (a, v)).collect(),
                    _ => p
                        .kind
                        .deltas()
                        .iter()
                        .map(|&(a, _)| (a, after[&a]))
                        .collect(),
                };
                if lose == Some(i) {
                    lost = true;
                } else {
                    state = after;
                }
                Outcome::Ok { balances }
            }
        };
        outcomes[i] = Some(match p.fate {
            Fate::Answered => answer,
            _ => Outcome::Indeterminate {
                error: "timed out".into(),
            },
        });
    }
    let mut ops: Vec<Op> = plans
        .iter()
        .zip(outcomes)
        .enumerate()
        .map(|(i, (p, outcome))| Op {
            id: 0,
            client: i as u64,
            kind: p.kind,
            invoke_us: p.invoke,
            complete_us: p.invoke + p.duration,
            outcome: outcome.unwrap_or_else(|| match p.fate {
                Fate::Failed => Outcome::Failed { status: 503 },
                _ => Outcome::Indeterminate {
                    error: "timed out".into(),
                },
            }),
        })
        .collect();
    // Ids in invocation order, as the driver numbers them.
    ops.sort_by_key(|o| (o.invoke_us, o.client));
    for (i, op) in ops.iter_mut().enumerate() {
        op.id = i as u64 + 1;
    }
    let history = History {
        initial: initial.clone(),
        ops,
        final_read: Some(state.into_iter().collect()),
    };
    (history, lost)
}

proptest! {
    // A few seconds in debug; failures are reported shrunk, no regression files in the tree.
    #![proptest_config(ProptestConfig {
        cases: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_correct_bank_is_never_flagged((initial, plans) in plans(true)) {
        let (h, _) = simulate(&initial, &plans, None);
        let r = check(&h);
        prop_assert!(r.anomalies.is_empty(), "{r}\n{h:#?}");
    }

    /// Without indeterminate operations the final state's bounds are exact, so one lost
    /// withdrawal always shows; with them it may hide in their slack, and that is right.
    #[test]
    fn one_lost_withdrawal_is_found(
        (initial, plans) in plans(false),
        pick in any::<prop::sample::Index>(),
    ) {
        let withdrawals: Vec<usize> = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p.kind, Kind::Withdraw { .. }) && p.fate == Fate::Answered)
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!withdrawals.is_empty());
        let lose = *pick.get(&withdrawals);
        let (h, lost) = simulate(&initial, &plans, Some(lose));
        // A refused withdrawal has no write to lose.
        prop_assume!(lost);
        let Kind::Withdraw { account, amount } = plans[lose].kind else { unreachable!() };
        let id = h.ops.iter().find(|o| o.client == lose as u64).map(|o| o.id).unwrap();
        let r = check(&h);
        prop_assert_eq!(r.count(AnomalyKind::FinalState), 1, "{}", r);
        let named = &r.anomaly(AnomalyKind::FinalState).unwrap().first_ops;
        // Every operation it names would explain `amount` too much on `account`: an accepted
        // withdrawal of it (possibly the lost one's twin) or a failed deposit of it.
        prop_assert!(!named.is_empty(), "{}", r);
        for n in named {
            let op = h.ops.iter().find(|o| o.id == *n).unwrap();
            let d = op.kind.delta_on(account);
            prop_assert!(
                (op.applied() && d == -amount) || (!op.applied() && d == amount),
                "op {} named for a lost withdrawal of {} (op {}): {}", n, amount, id, r
            );
        }
        prop_assert!(named.contains(&id) || named.len() >= 4, "op {} not named: {}", id, r);
    }
}
