//! The bank's SQL, one text for SQLite and PostgreSQL (see `crate::queries` on placeholders).
//!
//! Every statement names its parameters in numeric order of first appearance: SQLite reads
//! `$1` as a *named* parameter and numbers names as they appear, so `$2 … $1` would swap them.
//! Operations touch one or two accounts; a one-account operation passes its id twice, so
//! each statement has one text (a duplicate `VALUES` row updates the same row to the same
//! value).

/// The balances of two accounts (or one, given twice), in account order.
pub(crate) const READ_TWO: &str = "SELECT user_id, balance_cents FROM accounts \
     WHERE user_id IN ($1, $2) ORDER BY user_id";

/// [`READ_TWO`] holding the rows until the transaction ends (PostgreSQL only).
pub(crate) const READ_TWO_FOR_UPDATE: &str = "SELECT user_id, balance_cents FROM accounts \
     WHERE user_id IN ($1, $2) ORDER BY user_id FOR UPDATE";

/// A full read of accounts `$1..=$2`: one statement, so one snapshot on both databases.
pub(crate) const READ_RANGE: &str = "SELECT user_id, balance_cents FROM accounts \
     WHERE user_id BETWEEN $1 AND $2 ORDER BY user_id";

/// Blind write of two balances `($1 → $2, $3 → $4)` in one statement, so a transfer's two
/// rows change together even without a transaction.
pub(crate) const SET_TWO: &str = "UPDATE accounts SET balance_cents = v.column2 \
     FROM (VALUES (CAST($1 AS BIGINT), CAST($2 AS BIGINT)), \
                  (CAST($3 AS BIGINT), CAST($4 AS BIGINT))) AS v \
     WHERE accounts.user_id = v.column1";

/// Add `$1` to account `$2` only if the result stays non-negative: the check inside the
/// write. On PostgreSQL a concurrent writer's row lock makes this wait, then re-evaluates the
/// `WHERE` on the row it committed, so two of them cannot both pass on the same money.
pub(crate) const ADD_IF_COVERED: &str = "UPDATE accounts SET balance_cents = balance_cents + $1 \
     WHERE user_id = $2 AND balance_cents + $1 >= 0 RETURNING user_id, balance_cents";
