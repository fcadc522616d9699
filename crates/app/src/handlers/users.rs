//! `GET /users/{id}`: the user and their orders, two queries in sequence: the chapter's §07
//! handler and §08 `fetch_user_data` (`user = await get_user; orders = await get_orders`).

use crate::error::{AppError, AppResult};
use crate::handlers::parse_id;
use crate::json;
use clab_backend::{Backend, Order, User};
use serde::Serialize;

/// Most orders returned with a user (the seed gives each user about 10).
pub(crate) const USER_ORDERS_LIMIT: u32 = 20;

#[derive(Serialize)]
pub(crate) struct UserWithOrders<'a> {
    pub(crate) user: &'a User,
    pub(crate) orders: &'a [Order],
}

pub(crate) async fn user_with_orders<B: Backend>(backend: &B, raw_id: &str) -> AppResult {
    let id = parse_id(raw_id)?;
    // State 0 → 1: the first await; the thread (or event loop) is free meanwhile.
    let user = backend.user(id).await?.ok_or_else(|| user_not_found(id))?;
    // State 1 → 2: the second await.
    let orders = backend.orders(id, USER_ORDERS_LIMIT).await?;
    json::to_response(
        200,
        &UserWithOrders {
            user: &user,
            orders: &orders,
        },
    )
}

pub(crate) fn user_not_found(id: i64) -> AppError {
    AppError::NotFound(format!("user {id} not found"))
}
