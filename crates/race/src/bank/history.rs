//! A history: every operation with its invocation and completion time and its outcome, plus the
//! full reads taken before the load starts and after it stops.

use serde::Serialize;

/// Account id → balance in cents, as one full read answered it.
pub type Balances = Vec<(u64, i64)>;

/// What an operation asked for. Amounts are positive cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Kind {
    Withdraw {
        account: u64,
        amount: i64,
    },
    Deposit {
        account: u64,
        amount: i64,
    },
    Transfer {
        from: u64,
        to: u64,
        amount: i64,
    },
    /// `GET /accounts?from=1&to=K`.
    Read,
}

impl Kind {
    /// How the operation changes each account's balance if it applies.
    pub fn deltas(&self) -> Vec<(u64, i64)> {
        match *self {
            Self::Withdraw { account, amount } => vec![(account, -amount)],
            Self::Deposit { account, amount } => vec![(account, amount)],
            Self::Transfer { from, to, amount } => vec![(from, -amount), (to, amount)],
            Self::Read => Vec::new(),
        }
    }

    /// How the operation changes the bank's total if it applies (a transfer: not at all).
    pub fn total_delta(&self) -> i64 {
        self.deltas().iter().map(|(_, d)| d).sum()
    }

    /// How the operation changes `account`'s balance if it applies.
    pub fn delta_on(&self, account: u64) -> i64 {
        self.deltas()
            .iter()
            .filter(|(a, _)| *a == account)
            .map(|(_, d)| d)
            .sum()
    }

    /// The account the operation takes money from and how much: the only account and amount
    /// a 409 insufficient-funds answer can be about (a deposit or a read has none).
    pub fn debit(&self) -> Option<(u64, i64)> {
        match *self {
            Self::Withdraw { account, amount } => Some((account, amount)),
            Self::Transfer { from, amount, .. } => Some((from, amount)),
            Self::Deposit { .. } | Self::Read => None,
        }
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// 200: applied; the balances the answer reported (for a read: every account).
    Ok { balances: Balances },
    /// 409 insufficient funds: not applied; the balance the server reported for `account`.
    Refused { account: u64, balance: i64 },
    /// 503 (or another definite refusal such as 400/404): the server guarantees nothing was
    /// applied; counted apart from refusals.
    Failed { status: u16 },
    /// A timeout or a broken connection: it may or may not have applied (Jepsen's `:info`).
    Indeterminate { error: String },
}

/// One operation. Times are microseconds since the run began; an indeterminate operation's
/// `complete` is when the client gave up, but it may still apply any time after `invoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Op {
    pub id: u64,
    pub client: u64,
    #[serde(flatten)]
    pub kind: Kind,
    pub invoke_us: u64,
    pub complete_us: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Op {
    pub fn applied(&self) -> bool {
        matches!(self.outcome, Outcome::Ok { .. })
    }

    pub fn indeterminate(&self) -> bool {
        matches!(self.outcome, Outcome::Indeterminate { .. })
    }

    /// Might this operation have taken effect (at some instant after its invocation)?
    pub fn may_apply(&self) -> bool {
        self.applied() || self.indeterminate()
    }
}

/// A whole run: the initial full read, the operations, and the full read after every client
/// stopped (none when it could not be taken).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct History {
    pub initial: Balances,
    pub ops: Vec<Op>,
    pub final_read: Option<Balances>,
}
