//! The backend service of Concurrency Lab: users, orders, accounts; routes and handlers.
//!
//! # Brief overview
//! - [`App`]: routes a [`clab_http::Request`] to its handler and returns a
//!   [`clab_http::Response`]. Handlers are `async fn`s generic over [`clab_backend::Backend`],
//!   written once and run by every concurrency model (blocking models drive them with a
//!   trivial `block_on` over a blocking backend; async models poll them on their runtime).
//! - The router (`router.rs`) is a hand-written `match` on method and path segments; HEAD is
//!   routed like GET (the encoder drops the body), an unknown path is a 404 and a known path
//!   with the wrong method a 405 with `Allow`.
//! - [`AppError`]: the one error type; each variant maps to one status code (400, 404, 405,
//!   500, and 503 with `Retry-After: 1` when the backend is unavailable). Error bodies are
//!   JSON `{"error": "..."}`. [`App::handle`] never panics on bad input.
//! - [`timing`]: [`timing::CpuTimed`] sums thread CPU time (`CLOCK_THREAD_CPUTIME_ID`) over
//!   every poll of a future, correct even when a task migrates between threads;
//!   [`timing::wall_timed`] times one remote call. The dashboard's `timing` object
//!   ([`Timing`]) is built from them: the chapter's Fig 2 breakdown, measured.
//! - Tracing: when [`clab_trace`] is enabled, [`App::handle`] wraps every request in a
//!   [`clab_trace::Traced`] labelled with its path, so each request records its span and one
//!   `Run` span per poll with the thread that polled it (the chapter's Fig 3). Off, that
//!   costs one atomic load.
//!
//! Routes (see the crate README for the full table): `/plaintext`, `/json`, `/health`,
//! `/users/{id}`, `/users/{id}/dashboard`, `POST /hash`, `/cpu?ms=N`, and the conformance
//! probes `GET|HEAD|OPTIONS|POST /`, `OPTIONS *`, `POST /echo`.

mod error;
mod handlers;
mod json;
mod router;
pub mod timing;

#[cfg(test)]
mod tests;

pub use error::{AppError, AppResult};
pub use handlers::cpu::{CPU_MS_RANGE, burn_thread_cpu};
pub use handlers::dashboard::{SUMMARY_TTL, Timing, summary_cache_key};
pub use handlers::hash::{
    HASH_COST_RANGE, HASH_DEFAULT_COST, HASH_MAX_PASSWORD, HASH_MEMORY_KIB, argon2id,
};

use clab_backend::{Backend, CallbackQueries};
use clab_http::{Request, Response};
use std::future::Future;
use std::sync::Arc;

/// The service. Cheap to share behind an `Arc`.
pub struct App<B: Backend> {
    backend: B,
    /// `--handler-style callbacks`: serve `/users/{id}` with the callback handler.
    callbacks: Option<Arc<dyn CallbackQueries>>,
}

impl<B: Backend + std::fmt::Debug> std::fmt::Debug for App<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("backend", &self.backend)
            .field("callbacks", &self.callbacks.is_some())
            .finish()
    }
}

impl<B: Backend> App<B> {
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            callbacks: None,
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Serve `GET /users/{id}` with the callback-style handler (`handlers/users_callbacks.rs`)
    /// over `queries` instead of the async one. Every other route is unchanged.
    pub fn use_callbacks(&mut self, queries: Arc<dyn CallbackQueries>) {
        self.callbacks = Some(queries);
    }

    pub(crate) fn callbacks(&self) -> Option<&Arc<dyn CallbackQueries>> {
        self.callbacks.as_ref()
    }

    /// Handle one request. Never panics on bad input: every failure is a status code.
    ///
    /// For `HEAD` this returns the `GET` response; the server passes `head_only` to
    /// [`clab_http::encode_response`], which keeps the headers and drops the body.
    // Not an `async fn` on purpose: the explicit `+ Send` is the contract the models rely on
    // (tokio's multi-thread runtime spawns this future), checked here for every `B`.
    //
    // With `clab_trace` on, the future is a traced request labelled with the path (no query:
    // the label is what the timeline shows per request, and queries would only make it
    // longer). With it off, `begin` is one relaxed load and `Traced` polls straight through.
    #[allow(clippy::manual_async_fn)]
    pub fn handle(&self, req: Request) -> impl Future<Output = Response> + Send + '_ {
        let trace = clab_trace::begin(|| req.path());
        let handler = async move {
            router::dispatch(self, &req)
                .await
                .unwrap_or_else(AppError::into_response)
        };
        clab_trace::Traced::new(trace, handler)
    }
}
