//! The two queries of `GET /users/{id}` in **callback** style, for the `event-loop` model's
//! `--handler-style callbacks` (the chapter's §07 first stage, before `async`/`await`).
//!
//! Each call takes a continuation `then` instead of returning a future: it arms a loop timer
//! for the simulated round trip (`clab_event_loop::callbacks::after`), and when it fires runs
//! the query and calls `then` with the result. The round-trip table is the same as
//! [`crate::Services`]'s (one sampled round trip per database call, none with
//! `--latency none`). Only SQLite: it answers inline on the loop thread, so a callback can call
//! it; PostgreSQL's client is futures all the way down (which is the point of futures). Calls
//! made this way are not traced (`--trace` follows futures).

use std::sync::Arc;

use crate::{BackendConfig, BackendError, DatabaseUrl, LoopBackend, Order, User};

/// A continuation: what to do with a call's result. Runs on the loop thread.
pub type Then<T> = Box<dyn FnOnce(Result<T, BackendError>)>;

/// Callback-style queries (see the module docs).
pub trait CallbackQueries: Send + Sync {
    /// `SELECT` one user, then call `then`.
    fn user_then(&self, id: i64, then: Then<Option<User>>);
    /// The user's most recent orders, then call `then`.
    fn orders_then(&self, user_id: i64, limit: u32, then: Then<Vec<Order>>);
}

fn sqlite_only() -> BackendError {
    BackendError::Config(
        "--handler-style callbacks runs on SQLite only: its queries answer inline, so a \
         callback can make them; PostgreSQL's client is futures-only"
            .into(),
    )
}

impl LoopBackend {
    /// Whether `cfg` can serve callbacks (SQLite), checked before anything connects.
    pub fn check_callbacks(cfg: &BackendConfig) -> Result<(), BackendError> {
        match cfg.database {
            DatabaseUrl::Postgres(_) => Err(sqlite_only()),
            _ => Ok(()),
        }
    }

    /// This backend as [`CallbackQueries`]; refused unless the database is SQLite.
    pub fn callback_queries(&self) -> Result<Arc<dyn CallbackQueries>, BackendError> {
        if self.inner.clients.sqlite().is_none() {
            return Err(sqlite_only());
        }
        Ok(Arc::new(self.clone()))
    }

    /// One remote call, callback style: the sampled round trip on a loop timer, then `call`
    /// on SQLite, then `then`.
    fn sqlite_then<T: 'static>(
        &self,
        call: impl FnOnce(&crate::sqlite::SqliteDb) -> Result<T, BackendError> + 'static,
        then: Then<T>,
    ) {
        let this = self.clone();
        let run = move || {
            let db = this
                .inner
                .clients
                .sqlite()
                .expect("callback_queries checked for SQLite");
            then(call(db));
        };
        let d = self.inner.parts.latency.sample();
        if d.is_zero() {
            clab_event_loop::callbacks::soon(run);
        } else {
            clab_event_loop::callbacks::after(d, run);
        }
    }
}

impl CallbackQueries for LoopBackend {
    fn user_then(&self, id: i64, then: Then<Option<User>>) {
        self.sqlite_then(move |db| db.user(id), then);
    }

    fn orders_then(&self, user_id: i64, limit: u32, then: Then<Vec<Order>>) {
        self.sqlite_then(move |db| db.orders(user_id, limit), then);
    }
}
