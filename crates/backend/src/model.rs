//! Domain rows.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub item: String,
    pub quantity: i32,
    pub amount_cents: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub user_id: i64,
    pub balance_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub at: i64,
}

/// What the upstream (notification) call returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyReceipt {
    pub id: String,
    /// True when no real upstream was called (named in outputs as a simulation).
    pub simulated: bool,
}
