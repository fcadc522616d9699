//! What a bank request asks ([`BankOp`]) and what came of it ([`BankOutcome`]), and the one
//! place that decides whether balances cover an operation ([`decide`]).

use serde::Serialize;

use crate::Account;

/// Largest amount one operation may move: 1,000,000,000.00 in cents. Far above any seeded
/// balance, far below where sums of a few of them could overflow an `i64`.
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000_000;

/// A bank operation on accounts (the `accounts` table, keyed by user id). Amounts are
/// positive cents, at most [`MAX_AMOUNT_CENTS`] (the handlers check both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BankOp {
    Withdraw {
        id: i64,
        amount: i64,
    },
    Deposit {
        id: i64,
        amount: i64,
    },
    /// `from != to` (the handler refuses a transfer to the same account).
    Transfer {
        from: i64,
        to: i64,
        amount: i64,
    },
}

impl BankOp {
    /// The two ids the SQL takes, ascending (a one-account operation's id twice): locks and
    /// row writes in this order cannot deadlock.
    pub(crate) fn ids(self) -> [i64; 2] {
        match self {
            Self::Withdraw { id, .. } | Self::Deposit { id, .. } => [id, id],
            Self::Transfer { from, to, .. } => [from.min(to), from.max(to)],
        }
    }

    /// `(account, change)` pairs, ascending by account.
    pub(crate) fn changes(self) -> Vec<(i64, i64)> {
        match self {
            Self::Withdraw { id, amount } => vec![(id, -amount)],
            Self::Deposit { id, amount } => vec![(id, amount)],
            Self::Transfer { from, to, amount } => {
                let mut v = vec![(from, -amount), (to, amount)];
                v.sort_unstable();
                v
            }
        }
    }
}

/// What a bank operation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankOutcome {
    /// Applied; the balances after it, of the accounts it touched, ascending by id.
    Applied(Vec<Account>),
    /// Not applied: this account's balance (as the operation saw it) does not cover it.
    Insufficient(Account),
    /// Not applied: no such account.
    Missing(i64),
}

/// Given the balances an operation read (any order), the balances it would write, or the
/// outcome that refuses it. Written once for every strategy that reads, then writes.
pub(crate) fn decide(op: BankOp, read: &[Account]) -> Result<Vec<Account>, BankOutcome> {
    let mut after = Vec::with_capacity(2);
    for (id, change) in op.changes() {
        let Some(row) = read.iter().find(|a| a.user_id == id) else {
            return Err(BankOutcome::Missing(id));
        };
        // Every read balance and amount is far below i64::MAX / 2 (MAX_AMOUNT_CENTS);
        // saturate anyway so a corrupted row cannot wrap into a "covered" negative.
        let balance = row.balance_cents.saturating_add(change);
        if balance < 0 {
            return Err(BankOutcome::Insufficient(row.clone()));
        }
        after.push(Account {
            user_id: id,
            balance_cents: balance,
        });
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(user_id: i64, balance_cents: i64) -> Account {
        Account {
            user_id,
            balance_cents,
        }
    }

    #[test]
    fn decide_covers_refuses_and_reports_missing() {
        let read = [acct(2, 100), acct(1, 50)];
        let t = BankOp::Transfer {
            from: 2,
            to: 1,
            amount: 100,
        };
        assert_eq!(decide(t, &read), Ok(vec![acct(1, 150), acct(2, 0)]));
        let over = BankOp::Withdraw { id: 1, amount: 51 };
        assert_eq!(
            decide(over, &read),
            Err(BankOutcome::Insufficient(acct(1, 50)))
        );
        let gone = BankOp::Deposit { id: 9, amount: 1 };
        assert_eq!(decide(gone, &read), Err(BankOutcome::Missing(9)));
        assert_eq!(t.ids(), [1, 2]);
        assert_eq!(over.ids(), [1, 1]);
    }
}
