//! `GET /users/{id}/dashboard`: the chapter's "typical API call" (§02–03, Fig 2).
//!
//! Steps, each remote call awaited in sequence like the chapter's handlers:
//! 1. DB: the user (404 if unknown);
//! 2. cache: the user's order summary (cache-aside, key `dashboard:summary:{id}`);
//! 3. DB: the user's recent orders; 4. DB: the account balance; 5. DB: recent activity;
//! 6. on a cache miss: compute the summary from the order rows and fill the cache (TTL);
//! 7. upstream: the notification service ([`Backend::notify`]);
//! 8. CPU: validate the rows, aggregate, build and serialise the response.
//!
//! The response carries a `timing` object (see [`Timing`]) so the Fig 2 breakdown (CPU vs IO
//! wait vs wall) is measured per request. The whole handler runs inside a [`CpuTimed`] future,
//! so CPU time is summed poll by poll on whichever thread polled it.
//!
//! A cache failure degrades to a miss (logged), as cache-aside should: the cache is an
//! optimisation, not a source of truth. Database and upstream failures fail the request
//! (503 when unavailable, 500 otherwise).

use crate::error::{AppError, AppResult};
use crate::handlers::parse_id;
use crate::handlers::users::user_not_found;
use crate::timing::{CpuMeter, micros, wall_timed};
use clab_backend::{Activity, Backend, NotifyReceipt, Order, User};
use clab_http::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Order rows fetched for the summary and the "recent orders" list.
pub(crate) const DASHBOARD_ORDERS_LIMIT: u32 = 100;
/// Activity rows fetched.
pub(crate) const DASHBOARD_ACTIVITY_LIMIT: u32 = 20;
/// How many orders / activity entries the response lists.
const SHOWN: usize = 5;
/// How long a cached summary lives.
pub const SUMMARY_TTL: Duration = Duration::from_secs(30);

/// The cache key of a user's order summary.
pub fn summary_cache_key(user_id: i64) -> String {
    format!("dashboard:summary:{user_id}")
}

/// Where one dashboard request's time went. All durations in microseconds.
///
/// `io_wait_us` is the sum of the per-call waits (wall time from calling each remote method
/// until its result was ready), so `io_wait_us ≤ wall_us`. `cache_us` includes the fill
/// (`cache_set`) on a miss. `cpu_us` is thread CPU time of every poll of the handler, up to
/// the moment this object is built (after the payload was serialised); with a blocking
/// backend it includes the CPU the database driver spent on this thread. It is `null` where
/// it cannot be measured that way (stackful coroutines: a poll spans other coroutines' work,
/// see `Backend::cpu_time_measurable`): unknown, rather than wrong.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    pub wall_us: u64,
    pub cpu_us: Option<u64>,
    pub io_wait_us: u64,
    pub db_user_us: u64,
    pub db_orders_us: u64,
    pub db_account_us: u64,
    pub db_activity_us: u64,
    pub cache_us: u64,
    pub upstream_us: u64,
    pub cache_hit: bool,
    /// From the notification receipt: true when no real upstream was called.
    pub simulated_upstream: bool,
}

/// Aggregates over a user's recent orders: what the cache holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OrderSummary {
    order_count: u64,
    total_cents: i64,
    average_cents: i64,
    largest_cents: i64,
    total_quantity: i64,
    /// Item with the highest spend (ties: alphabetically first).
    top_item: Option<String>,
}

impl OrderSummary {
    fn from_orders(orders: &[Order]) -> Self {
        let mut by_item: BTreeMap<&str, i64> = BTreeMap::new();
        let (mut total, mut largest, mut quantity) = (0i64, 0i64, 0i64);
        for o in orders {
            total = total.saturating_add(o.amount_cents);
            largest = largest.max(o.amount_cents);
            quantity = quantity.saturating_add(i64::from(o.quantity));
            *by_item.entry(&o.item).or_default() += o.amount_cents;
        }
        let mut top: Option<(&str, i64)> = None;
        for (item, spend) in by_item {
            if top.is_none_or(|(_, best)| spend > best) {
                top = Some((item, spend));
            }
        }
        let count = orders.len() as u64;
        Self {
            order_count: count,
            total_cents: total,
            average_cents: if count == 0 { 0 } else { total / count as i64 },
            largest_cents: largest,
            total_quantity: quantity,
            top_item: top.map(|(item, _)| item.to_owned()),
        }
    }
}

#[derive(Serialize)]
struct Dashboard<'a> {
    user: &'a User,
    email_valid: bool,
    /// `null` when the user has no account row.
    balance_cents: Option<i64>,
    summary: &'a OrderSummary,
    recent_orders: &'a [Order],
    activity_by_kind: BTreeMap<&'a str, u32>,
    recent_activity: &'a [Activity],
    notification: &'a NotifyReceipt,
    /// Order and activity rows dropped by validation.
    invalid_rows: usize,
}

pub(crate) async fn dashboard<B: Backend>(backend: &B, raw_id: &str) -> AppResult {
    let id = parse_id(raw_id)?;
    // The wall clock starts before the first poll the meter charges, and is read after the
    // meter at the end, so `cpu_us ≤ wall_us` holds by construction (CPU time is a subset of
    // the wall time of the polls).
    let started = Instant::now();
    let meter = CpuMeter::new();
    let (result, _cpu) = meter
        .wrap(dashboard_measured(backend, id, meter.clone(), started))
        .await;
    result
}

async fn dashboard_measured<B: Backend>(
    backend: &B,
    id: i64,
    meter: CpuMeter,
    started: Instant,
) -> AppResult {
    let mut timing = Timing::default();

    let (user, waited) = wall_timed(|| backend.user(id)).await;
    timing.db_user_us = micros(waited);
    let user = user?.ok_or_else(|| user_not_found(id))?;

    let key = summary_cache_key(id);
    let (cached, waited) = wall_timed(|| backend.cache_get(&key)).await;
    let mut cache_wait = waited;
    let cached = match cached {
        Ok(bytes) => bytes.and_then(|b| serde_json::from_slice::<OrderSummary>(&b).ok()),
        Err(e) => {
            tracing::warn!(error = %e, "cache lookup failed; treating as a miss");
            None
        }
    };

    let (orders, waited) = wall_timed(|| backend.orders(id, DASHBOARD_ORDERS_LIMIT)).await;
    timing.db_orders_us = micros(waited);
    let mut orders = orders?;
    let (account, waited) = wall_timed(|| backend.account(id)).await;
    timing.db_account_us = micros(waited);
    let account = account?;
    let (activity, waited) =
        wall_timed(|| backend.recent_activity(id, DASHBOARD_ACTIVITY_LIMIT)).await;
    timing.db_activity_us = micros(waited);
    let mut activity = activity?;

    // CPU: validation. Rows that contradict the query (another user's row, a non-positive
    // quantity, a negative amount) are dropped and counted rather than trusted.
    let fetched = orders.len() + activity.len();
    orders
        .retain(|o| o.user_id == id && o.quantity > 0 && o.amount_cents >= 0 && !o.item.is_empty());
    activity.retain(|a| a.user_id == id && !a.kind.is_empty());
    let invalid_rows = fetched - orders.len() - activity.len();
    let email_valid = is_plausible_email(&user.email);

    timing.cache_hit = cached.is_some();
    let summary = match cached {
        Some(summary) => summary,
        None => {
            let summary = OrderSummary::from_orders(&orders);
            match serde_json::to_vec(&summary) {
                Ok(bytes) => {
                    let (filled, waited) =
                        wall_timed(|| backend.cache_set(&key, bytes, SUMMARY_TTL)).await;
                    cache_wait += waited;
                    if let Err(e) = filled {
                        tracing::warn!(error = %e, "cache fill failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "serialising summary for the cache"),
            }
            summary
        }
    };
    timing.cache_us = micros(cache_wait);

    let (receipt, waited) = wall_timed(|| backend.notify(id, "dashboard viewed")).await;
    timing.upstream_us = micros(waited);
    let receipt = receipt?;
    timing.simulated_upstream = receipt.simulated;

    // CPU: aggregate and serialise the payload before reading the clocks, so the bulk of the
    // serialisation is inside `cpu_us`; only the small timing object is written after.
    let mut activity_by_kind: BTreeMap<&str, u32> = BTreeMap::new();
    for a in &activity {
        *activity_by_kind.entry(&a.kind).or_default() += 1;
    }
    let payload = Dashboard {
        user: &user,
        email_valid,
        balance_cents: account.map(|a| a.balance_cents),
        summary: &summary,
        recent_orders: &orders[..orders.len().min(SHOWN)],
        activity_by_kind,
        recent_activity: &activity[..activity.len().min(SHOWN)],
        notification: &receipt,
        invalid_rows,
    };
    let mut body = serde_json::to_vec(&payload)
        .map_err(|e| AppError::Internal(format!("serialising dashboard: {e}")))?;

    timing.io_wait_us = timing.db_user_us
        + timing.db_orders_us
        + timing.db_account_us
        + timing.db_activity_us
        + timing.cache_us
        + timing.upstream_us;
    timing.cpu_us = backend
        .cpu_time_measurable()
        .then(|| micros(meter.elapsed()));
    timing.wall_us = micros(started.elapsed());
    append_field(&mut body, "timing", &timing)?;
    Ok(Response::json(200, body))
}

/// Append `"name": value` to a serialised JSON object (`body` ends with `}`).
fn append_field<T: Serialize>(body: &mut Vec<u8>, name: &str, value: &T) -> Result<(), AppError> {
    let err = |e: serde_json::Error| AppError::Internal(format!("serialising {name}: {e}"));
    if body.pop() != Some(b'}') {
        return Err(AppError::Internal(
            "dashboard payload is not a JSON object".into(),
        ));
    }
    if body.last() != Some(&b'{') {
        body.push(b',');
    }
    serde_json::to_writer(&mut *body, name).map_err(err)?;
    body.push(b':');
    serde_json::to_writer(&mut *body, value).map_err(err)?;
    body.push(b'}');
    Ok(())
}

/// A cheap structural check (one `@`, non-empty local part, a dot in the domain): real CPU
/// work of the kind the chapter calls validation, not an RFC 5322 parser.
fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').filter(|p| !p.is_empty()).count() >= 2
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: i64, item: &str, quantity: i32, amount_cents: i64) -> Order {
        Order {
            id,
            user_id: 1,
            item: item.into(),
            quantity,
            amount_cents,
            created_at: id,
        }
    }

    #[test]
    fn summary_aggregates_orders() {
        let orders = [
            order(1, "tea", 2, 300),
            order(2, "cake", 1, 500),
            order(3, "tea", 1, 250),
        ];
        let s = OrderSummary::from_orders(&orders);
        assert_eq!(s.order_count, 3);
        assert_eq!(s.total_cents, 1050);
        assert_eq!(s.average_cents, 350);
        assert_eq!(s.largest_cents, 500);
        assert_eq!(s.total_quantity, 4);
        assert_eq!(s.top_item.as_deref(), Some("tea"));
        assert_eq!(OrderSummary::from_orders(&[]).top_item, None);
    }

    #[test]
    fn append_field_keeps_valid_json() {
        let mut body = br#"{"a":1}"#.to_vec();
        append_field(&mut body, "t", &2).expect("append");
        assert_eq!(body, br#"{"a":1,"t":2}"#);
        let mut empty = b"{}".to_vec();
        append_field(&mut empty, "t", &true).expect("append");
        assert_eq!(empty, br#"{"t":true}"#);
        assert!(append_field(&mut b"[1]".to_vec(), "t", &1).is_err());
    }

    #[test]
    fn email_check() {
        assert!(is_plausible_email("ada@example.com"));
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "a@b@c.com",
            "ada@.com.",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }
}
