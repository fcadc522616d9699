//! The bank (`clab race bank` drives it; chapter §11–12): balances in the `accounts` table,
//! keyed by user id, moved by withdrawals, deposits and transfers whose check ("enough
//! balance?") and act (deduct) the backend's `--race-strategy` protects, or not.
//!
//! | route | body | answers |
//! |---|---|---|
//! | `GET /accounts/{id}` | | 200 `{"id","balance_cents"}`, 404 |
//! | `GET /accounts?from=A&to=B` | | 200 `{"accounts":[…],"total_cents"}`: one statement, one snapshot |
//! | `POST /accounts/{id}/withdraw` | `{"amount": n}` | 200 the new balance, 409 insufficient funds, 404 |
//! | `POST /accounts/{id}/deposit` | `{"amount": n}` | 200 the new balance, 404 |
//! | `POST /transfers` | `{"from","to","amount"}` | 200 `{"from":{…},"to":{…}}`, 409, 404 |
//!
//! Amounts are integer cents in `1..=MAX_AMOUNT_CENTS`; anything else, a malformed body, or a
//! transfer to the same account is a 400. A 409 says `{"error":"insufficient funds","id",
//! "balance_cents"}` with the balance the operation saw; nothing changed. A 503 (database
//! unavailable, or transaction retries exhausted) also means nothing changed; a 500 after a
//! write was sent means its outcome is unknown.

use crate::error::{AppError, AppResult};
use crate::handlers::{parse_id, query_param};
use crate::json;
use clab_backend::{Account, Backend, BankOp, BankOutcome, MAX_AMOUNT_CENTS};
use serde::{Deserialize, Serialize};

/// Most accounts one range read returns: a full read of a contention experiment is a few
/// dozen; the whole seed (10,000) still fits.
pub const MAX_RANGE: i64 = 10_000;

#[derive(Serialize)]
struct Balance {
    id: i64,
    balance_cents: i64,
}

impl From<&Account> for Balance {
    fn from(a: &Account) -> Self {
        Self {
            id: a.user_id,
            balance_cents: a.balance_cents,
        }
    }
}

#[derive(Serialize)]
struct Insufficient {
    error: &'static str,
    id: i64,
    balance_cents: i64,
}

#[derive(Serialize)]
struct Range {
    accounts: Vec<Balance>,
    total_cents: i64,
}

#[derive(Serialize)]
struct Transferred {
    from: Balance,
    to: Balance,
}

#[derive(Deserialize)]
struct AmountBody {
    amount: i64,
}

#[derive(Deserialize)]
struct TransferBody {
    from: i64,
    to: i64,
    amount: i64,
}

/// Which one-account operation a `POST /accounts/{id}/…` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    Withdraw,
    Deposit,
}

pub(crate) async fn balance<B: Backend>(backend: &B, raw_id: &str) -> AppResult {
    let id = parse_id(raw_id)?;
    let account = backend.account(id).await?.ok_or_else(|| missing(id))?;
    json::to_response(200, &Balance::from(&account))
}

pub(crate) async fn range<B: Backend>(backend: &B, query: Option<&str>) -> AppResult {
    let bound = |name: &str| {
        let raw = query_param(query, name).ok_or_else(|| {
            AppError::BadRequest(format!(
                "missing query parameter {name} (e.g. /accounts?from=1&to=8)"
            ))
        })?;
        parse_id(raw)
    };
    let (from, to) = (bound("from")?, bound("to")?);
    if from > to || to - from >= MAX_RANGE {
        return Err(AppError::BadRequest(format!(
            "need from <= to and at most {MAX_RANGE} accounts, got {from}..={to}"
        )));
    }
    let rows = backend.accounts(from, to).await?;
    json::to_response(
        200,
        &Range {
            total_cents: rows.iter().map(|a| a.balance_cents).sum(),
            accounts: rows.iter().map(Balance::from).collect(),
        },
    )
}

pub(crate) async fn move_money<B: Backend>(
    backend: &B,
    raw_id: &str,
    how: Move,
    body: &[u8],
) -> AppResult {
    let id = parse_id(raw_id)?;
    let amount = checked_amount(json::parse_body::<AmountBody>(body)?.amount)?;
    let op = match how {
        Move::Withdraw => BankOp::Withdraw { id, amount },
        Move::Deposit => BankOp::Deposit { id, amount },
    };
    match backend.bank(op).await? {
        BankOutcome::Applied(after) => json::to_response(200, &Balance::from(&after[0])),
        refused => refusal(refused),
    }
}

pub(crate) async fn transfer<B: Backend>(backend: &B, body: &[u8]) -> AppResult {
    let req: TransferBody = json::parse_body(body)?;
    let amount = checked_amount(req.amount)?;
    if req.from == req.to {
        return Err(AppError::BadRequest(format!(
            "a transfer needs two accounts, got {} twice",
            req.from
        )));
    }
    let (from, to) = (req.from, req.to);
    match backend.bank(BankOp::Transfer { from, to, amount }).await? {
        BankOutcome::Applied(after) => {
            let find = |id| after.iter().find(|a| a.user_id == id).map(Balance::from);
            match (find(from), find(to)) {
                (Some(from), Some(to)) => json::to_response(200, &Transferred { from, to }),
                _ => Err(AppError::Internal(
                    "a transfer answered without its accounts".into(),
                )),
            }
        }
        refused => refusal(refused),
    }
}

fn checked_amount(amount: i64) -> Result<i64, AppError> {
    if (1..=MAX_AMOUNT_CENTS).contains(&amount) {
        Ok(amount)
    } else {
        Err(AppError::BadRequest(format!(
            "amount must be integer cents in 1..={MAX_AMOUNT_CENTS}, got {amount}"
        )))
    }
}

fn refusal(outcome: BankOutcome) -> AppResult {
    match outcome {
        BankOutcome::Insufficient(a) => json::to_response(
            409,
            &Insufficient {
                error: "insufficient funds",
                id: a.user_id,
                balance_cents: a.balance_cents,
            },
        ),
        BankOutcome::Missing(id) => Err(missing(id)),
        BankOutcome::Applied(_) => Err(AppError::Internal("an applied operation refused".into())),
    }
}

fn missing(id: i64) -> AppError {
    AppError::NotFound(format!("account {id} not found"))
}
