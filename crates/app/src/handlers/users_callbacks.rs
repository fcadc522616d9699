//! `GET /users/{id}` once more, written with **callbacks**: the chapter's §07 first stage, the
//! one deliberate second copy of a handler (`--handler-style callbacks`, `event-loop` only).
//! Read it beside `users.rs`:
//!
//! ```text
//! async/await (users.rs)                    callbacks (this file)
//! let user = backend.user(id).await?        queries.user_then(id, Box::new(move |user| {
//!     .ok_or_else(not_found)?;                  match user { Err(e) => done(Err(e.into())),
//!                                                 Ok(None) => done(Err(not_found)),
//!                                                 Ok(Some(user)) =>
//! let orders = backend.orders(id, N).await?;    q.orders_then(id, N, Box::new(move |orders| {
//!                                                   match orders { Err(e) => done(Err(..)),
//! json(user, orders)                                  Ok(orders) => done(json(user, orders)) }
//!                                               })) }}));
//! ```
//!
//! Every wait is one more closure nested in the last, every error path must remember to call
//! `done`, and the state (`id`, `user`) is moved by hand into each closure: what the compiler
//! does for you when it turns an `async fn` into a state machine (`clab costs`). The response
//! bytes are the async handler's (a test compares them).

use std::future::poll_fn;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

use clab_backend::CallbackQueries;

use crate::error::AppResult;
use crate::handlers::parse_id;
use crate::handlers::users::{USER_ORDERS_LIMIT, UserWithOrders, user_not_found};
use crate::json;

/// The handler: find the user, then their orders, then call `done` with the response.
pub(crate) fn user_with_orders(
    queries: Arc<dyn CallbackQueries>,
    raw_id: &str,
    done: Box<dyn FnOnce(AppResult)>,
) {
    let id = match parse_id(raw_id) {
        Ok(id) => id,
        Err(e) => return done(Err(e)),
    };
    let q = Arc::clone(&queries);
    queries.user_then(
        id,
        Box::new(move |user| match user {
            Err(e) => done(Err(e.into())),
            Ok(None) => done(Err(user_not_found(id))),
            Ok(Some(user)) => q.orders_then(
                id,
                USER_ORDERS_LIMIT,
                Box::new(move |orders| match orders {
                    Err(e) => done(Err(e.into())),
                    Ok(orders) => done(json::to_response(
                        200,
                        &UserWithOrders {
                            user: &user,
                            orders: &orders,
                        },
                    )),
                }),
            ),
        }),
    );
}

/// Where the server meets the callbacks: a future that starts the handler and resolves when
/// its `done` runs (the server's connection code is written with futures).
pub(crate) async fn bridged(queries: &Arc<dyn CallbackQueries>, raw_id: &str) -> AppResult {
    #[derive(Default)]
    struct Slot {
        result: Option<AppResult>,
        waker: Option<Waker>,
    }
    let slot = Arc::new(Mutex::new(Slot::default()));
    let filled = Arc::clone(&slot);
    user_with_orders(
        Arc::clone(queries),
        raw_id,
        Box::new(move |result| {
            let mut s = filled.lock().unwrap_or_else(PoisonError::into_inner);
            s.result = Some(result);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }),
    );
    poll_fn(|cx| {
        let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
        match s.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
    .await
}
