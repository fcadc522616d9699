//! The bank checker on hand-made histories: clean ones (sequential, concurrent, with
//! indeterminate operations either way) report nothing; each anomaly is counted exactly and its
//! first example names the operations that show it.

#![cfg(not(loom))]

use clab_race::bank::history::Kind;
use clab_race::bank::{AnomalyKind, History, Op, Outcome, Report, check};

fn withdraw(account: u64, amount: i64) -> Kind {
    Kind::Withdraw { account, amount }
}

fn deposit(account: u64, amount: i64) -> Kind {
    Kind::Deposit { account, amount }
}

fn transfer(from: u64, to: u64, amount: i64) -> Kind {
    Kind::Transfer { from, to, amount }
}

fn ok(balances: &[(u64, i64)]) -> Outcome {
    Outcome::Ok {
        balances: balances.to_vec(),
    }
}

fn refused(account: u64, balance: i64) -> Outcome {
    Outcome::Refused { account, balance }
}

fn timeout() -> Outcome {
    Outcome::Indeterminate {
        error: "receive: timed out".into(),
    }
}

/// A history whose ops get ids 1, 2, … in the order given, each `(kind, invoke, complete,
/// outcome)`.
fn history(
    initial: &[(u64, i64)],
    ops: Vec<(Kind, u64, u64, Outcome)>,
    final_read: &[(u64, i64)],
) -> History {
    History {
        initial: initial.to_vec(),
        ops: ops
            .into_iter()
            .enumerate()
            .map(|(i, (kind, invoke_us, complete_us, outcome))| Op {
                id: i as u64 + 1,
                client: i as u64,
                kind,
                invoke_us,
                complete_us,
                outcome,
            })
            .collect(),
        final_read: Some(final_read.to_vec()),
    }
}

/// Every kind's count, in [`AnomalyKind::ALL`] order, for one exact comparison.
fn counts(r: &Report) -> Vec<(AnomalyKind, u64)> {
    AnomalyKind::ALL.iter().map(|&k| (k, r.count(k))).collect()
}

fn only(kinds: &[(AnomalyKind, u64)]) -> Vec<(AnomalyKind, u64)> {
    AnomalyKind::ALL
        .iter()
        .map(|&k| (k, kinds.iter().find(|p| p.0 == k).map_or(0, |p| p.1)))
        .collect()
}

fn first(r: &Report, kind: AnomalyKind) -> (&str, &[u64]) {
    let a = r
        .anomaly(kind)
        .unwrap_or_else(|| panic!("no {kind} in {r}"));
    (&a.first, &a.first_ops)
}

fn assert_clean(h: &History) {
    let r = check(h);
    assert!(r.anomalies.is_empty(), "{r}");
}

#[test]
fn a_clean_sequential_history_has_no_anomaly() {
    let h = history(
        &[(1, 1000), (2, 500)],
        vec![
            (withdraw(1, 100), 0, 10, ok(&[(1, 900)])),
            (deposit(2, 50), 20, 30, ok(&[(2, 550)])),
            (transfer(1, 2, 200), 40, 50, ok(&[(1, 700), (2, 750)])),
            (withdraw(2, 1000), 60, 70, refused(2, 750)),
            (withdraw(1, 5), 80, 90, Outcome::Failed { status: 503 }),
            (Kind::Read, 100, 110, ok(&[(1, 700), (2, 750)])),
        ],
        &[(1, 700), (2, 750)],
    );
    let r = check(&h);
    assert!(r.anomalies.is_empty(), "{r}");
    assert_eq!(
        (
            r.ops,
            r.accepted,
            r.refused,
            r.failed,
            r.indeterminate,
            r.reads
        ),
        (6, 3, 1, 1, 0, 1)
    );
    assert!(r.to_string().contains("no anomaly found"), "{r}");
}

/// The operations overlap, and they took effect in another order than they were invoked: the
/// deposit (invoked second) at 20, the read at 40 (seeing the deposit, not the withdrawal),
/// the withdrawal at 50, the transfer at 75 (after the read, though invoked before it ended).
#[test]
fn a_clean_concurrent_history_with_a_read_mid_flight_has_no_anomaly() {
    let h = history(
        &[(1, 1000), (2, 500)],
        vec![
            (withdraw(1, 100), 0, 100, ok(&[(1, 1200)])),
            (deposit(1, 300), 10, 60, ok(&[(1, 1300)])),
            (Kind::Read, 30, 70, ok(&[(1, 1300), (2, 500)])),
            (transfer(2, 1, 400), 35, 80, ok(&[(2, 100), (1, 1600)])),
            (withdraw(2, 200), 65, 90, refused(2, 100)),
        ],
        &[(1, 1600), (2, 100)],
    );
    assert_clean(&h);
}

/// Two withdrawals overlap and both answer 200, but the second's write overwrote the first's:
/// the later read and the final state show only one of them.
#[test]
fn a_lost_update_shows_in_the_final_state_and_a_later_read() {
    let h = history(
        &[(1, 1000), (2, 500)],
        vec![
            (withdraw(1, 100), 0, 100, ok(&[(1, 900)])),
            (withdraw(1, 200), 10, 90, ok(&[(1, 800)])),
            (Kind::Read, 200, 210, ok(&[(1, 900), (2, 500)])),
        ],
        &[(1, 900), (2, 500)],
    );
    let r = check(&h);
    assert_eq!(
        counts(&r),
        only(&[
            (AnomalyKind::WrongTotal, 1),
            (AnomalyKind::FinalState, 1),
            (AnomalyKind::WrongBalance, 1),
        ]),
        "{r}"
    );
    // Only the 200-cent withdrawal missing makes 900: it is the lost one.
    let (words, ops) = first(&r, AnomalyKind::FinalState);
    assert_eq!(ops, [2], "{words}");
    assert!(words.contains("account 1 ends at 900 cents"), "{words}");
    assert!(words.contains("allow 700"), "{words}");
    assert!(words.contains("money created"), "{words}");
    assert!(
        words.contains("op 2 (client 1, withdraw 200 from 1, 10..90 µs → 200 {1: 800})"),
        "{words}"
    );
    let (words, ops) = first(&r, AnomalyKind::WrongTotal);
    assert_eq!(ops, [3, 2], "{words}");
    assert!(words.contains("totals 1400 cents"), "{words}");
    assert!(words.contains("allow 1200"), "{words}");
    assert_eq!(first(&r, AnomalyKind::WrongBalance).1, [3, 2]);
}

/// Equal amounts: either withdrawal may be the lost one, so both are named.
#[test]
fn a_lost_update_of_equal_amounts_names_both_withdrawals() {
    let h = history(
        &[(1, 1000)],
        vec![
            (withdraw(1, 100), 0, 100, ok(&[(1, 900)])),
            (withdraw(1, 100), 10, 90, ok(&[(1, 900)])),
        ],
        &[(1, 900)],
    );
    let r = check(&h);
    assert_eq!(counts(&r), only(&[(AnomalyKind::FinalState, 1)]), "{r}");
    assert_eq!(first(&r, AnomalyKind::FinalState).1, [1, 2]);
}

/// The check-then-act race: both withdrawals saw 100 and both went through.
#[test]
fn a_negative_balance_in_an_answer_names_the_operation() {
    let h = history(
        &[(1, 100)],
        vec![
            (withdraw(1, 100), 0, 50, ok(&[(1, 0)])),
            (withdraw(1, 100), 10, 60, ok(&[(1, -100)])),
        ],
        &[(1, -100)],
    );
    let r = check(&h);
    // The answer of op 2 and the final read.
    assert_eq!(
        counts(&r),
        only(&[(AnomalyKind::NegativeBalance, 2)]),
        "{r}"
    );
    let (words, ops) = first(&r, AnomalyKind::NegativeBalance);
    assert_eq!(ops, [2], "{words}");
    assert!(words.contains("account 1 at -100 cents"), "{words}");
}

#[test]
fn a_refusal_the_request_cannot_deserve_is_a_bad_refusal() {
    let h = history(
        &[(1, 500), (2, 100)],
        vec![
            // The reported balance covers the amount.
            (withdraw(1, 300), 0, 10, refused(1, 500)),
            // A deposit needs no funds.
            (deposit(2, 50), 20, 30, refused(2, 100)),
            // A transfer's refusal is about the account it takes from.
            (transfer(1, 2, 900), 40, 50, refused(2, 100)),
            // Deserved: 500 < 900.
            (transfer(1, 2, 900), 60, 70, refused(1, 500)),
        ],
        &[(1, 500), (2, 100)],
    );
    let r = check(&h);
    assert_eq!(counts(&r), only(&[(AnomalyKind::BadRefusal, 3)]), "{r}");
    let (words, ops) = first(&r, AnomalyKind::BadRefusal);
    assert_eq!(ops, [1], "{words}");
    assert!(words.contains("reported 500 ≥ the amount 300"), "{words}");
}

/// A 409 whose balance is below the amount but is one the account never had (a stale copy):
/// the refusal is not bad in itself, its balance is wrong.
#[test]
fn a_refusal_reporting_a_stale_balance_is_a_wrong_balance() {
    let h = history(
        &[(1, 1000)],
        vec![
            (withdraw(1, 900), 0, 10, ok(&[(1, 100)])),
            (deposit(1, 500), 20, 30, ok(&[(1, 600)])),
            (withdraw(1, 300), 40, 50, refused(1, 100)),
        ],
        &[(1, 600)],
    );
    let r = check(&h);
    assert_eq!(counts(&r), only(&[(AnomalyKind::WrongBalance, 1)]), "{r}");
    let (words, ops) = first(&r, AnomalyKind::WrongBalance);
    // Without the deposit the 100 would fit: it is the write the refusal did not see.
    assert_eq!(ops, [3, 2], "{words}");
    assert!(words.contains("allow 600"), "{words}");
}

#[test]
fn money_from_nowhere_is_a_final_state_and_a_wrong_total() {
    let h = history(
        &[(1, 1000), (2, 1000)],
        vec![
            (deposit(1, 100), 0, 10, ok(&[(1, 1100)])),
            (Kind::Read, 20, 30, ok(&[(1, 1100), (2, 1050)])),
        ],
        &[(1, 1100), (2, 1050)],
    );
    let r = check(&h);
    assert_eq!(
        counts(&r),
        only(&[
            (AnomalyKind::WrongTotal, 1),
            (AnomalyKind::FinalState, 1),
            (AnomalyKind::WrongBalance, 1),
        ]),
        "{r}"
    );
    let (words, ops) = first(&r, AnomalyKind::FinalState);
    assert_eq!(ops, [] as [u64; 0], "{words}");
    assert!(words.contains("account 2 ends at 1050 cents"), "{words}");
    assert!(
        words.contains("allow 1000 (more than they allow: money created)"),
        "{words}"
    );
    assert!(
        words.contains("no single operation accounts for it"),
        "{words}"
    );
    let (words, ops) = first(&r, AnomalyKind::WrongTotal);
    assert_eq!(ops, [2], "{words}");
    assert!(words.contains("totals 2150 cents; initial 2000"), "{words}");
}

/// A withdrawal that timed out may have applied before the read, after it, or never: each is
/// clean. A final state beyond what it could explain is still caught.
#[test]
fn an_indeterminate_withdrawal_widens_the_bounds_either_way() {
    let run = |read: i64, fin: i64| {
        check(&history(
            &[(1, 1000)],
            vec![
                (withdraw(1, 100), 0, 10, timeout()),
                (Kind::Read, 20, 30, ok(&[(1, read)])),
            ],
            &[(1, fin)],
        ))
    };
    for (read, fin) in [(900, 900), (1000, 1000), (1000, 900)] {
        let r = run(read, fin);
        assert!(r.anomalies.is_empty(), "read {read}, final {fin}: {r}");
        assert_eq!(r.indeterminate, 1);
    }
    let r = run(1000, 800);
    assert_eq!(counts(&r), only(&[(AnomalyKind::FinalState, 1)]), "{r}");
    assert!(r.to_string().contains("allow 900..=1000"), "{r}");
}

/// A 503 promises nothing was applied; the final state says otherwise.
#[test]
fn a_failed_operation_that_applied_is_a_final_state() {
    let h = history(
        &[(1, 1000)],
        vec![(withdraw(1, 100), 0, 10, Outcome::Failed { status: 503 })],
        &[(1, 900)],
    );
    let r = check(&h);
    assert_eq!(counts(&r), only(&[(AnomalyKind::FinalState, 1)]), "{r}");
    let (words, ops) = first(&r, AnomalyKind::FinalState);
    assert_eq!(ops, [1], "{words}");
    assert!(words.contains("money destroyed"), "{words}");
    assert!(words.contains("→ 503) had taken effect"), "{words}");
}

/// Stamps are truncated microseconds, so equal ones leave the order open: an operation
/// invoked in the microsecond a read completed may have landed before the read, and one that
/// completed in the microsecond a read was invoked may have landed after it.
#[test]
fn equal_stamps_leave_the_order_open() {
    assert_clean(&history(
        &[(1, 1000)],
        vec![
            (Kind::Read, 0, 50, ok(&[(1, 1100)])),
            (deposit(1, 100), 50, 60, ok(&[(1, 1100)])),
        ],
        &[(1, 1100)],
    ));
    assert_clean(&history(
        &[(1, 1000)],
        vec![
            (deposit(1, 100), 0, 60, ok(&[(1, 1100)])),
            (Kind::Read, 60, 70, ok(&[(1, 1000)])),
        ],
        &[(1, 1100)],
    ));
}

#[test]
fn an_account_missing_from_the_final_read_is_a_final_state() {
    let h = history(&[(1, 1000), (2, 5)], Vec::new(), &[(1, 1000)]);
    let r = check(&h);
    assert_eq!(counts(&r), only(&[(AnomalyKind::FinalState, 1)]), "{r}");
    assert!(first(&r, AnomalyKind::FinalState).0.contains("account 2"));
}

#[test]
fn the_report_prints_every_kind_with_its_first_example() {
    let h = history(
        &[(1, 500)],
        vec![(withdraw(1, 300), 0, 10, refused(1, 500))],
        &[(1, 500)],
    );
    let text = check(&h).to_string();
    for kind in AnomalyKind::ALL {
        assert!(text.contains(kind.name()), "{text}");
    }
    assert!(text.contains("bad-refusal       1"), "{text}");
    assert!(
        text.contains(
            "first: op 1 (client 0, withdraw 300 from 1, 0..10 µs → 409 account 1 at 500)"
        ),
        "{text}"
    );
    assert!(!text.contains("no anomaly found"), "{text}");
}
