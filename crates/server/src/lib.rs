//! The concurrency models of the chapter, each serving the same [`clab_app::App`].
//!
//! # Brief overview
//! - [`Model`]: every model, from the one table in `models/mod.rs` ([`models::Spec`]: name,
//!   summary, default workers, entry point, [`models::Caps`]); one file each under `models/`.
//! - [`ServeOptions`]: knobs shared by all models (workers, limits, timeouts, backend).
//! - [`Listen`]: the bound listener (backlog = `somaxconn` by default) and how to bind
//!   siblings on the same address (`SO_REUSEPORT`, for `thread-per-core`).
//! - [`Shutdown`]: a cloneable trigger; SIGINT/SIGTERM or a test pulls it, the model stops
//!   accepting, drains in-flight requests (bounded by the drain deadline) and returns.
//! - [`serve`]: run a model until shutdown.
//! - [`conn::Conn`]: the per-connection protocol (parse, keep-alive, pipelining, deadlines,
//!   draining, lingering), written once, sans-IO. [`drivers`] only move bytes: one blocking
//!   (threads in `poll(2)`), one tokio.
//! - [`Shared`]: what a model's connections share (app, options, shutdown, [`debug::Stats`]);
//!   it answers the lab's `/debug/stats` before the app sees a request.

mod accept_errors;
pub mod admission;
mod buffers;
mod busy;
pub mod conn;
pub mod debug;
pub mod drivers;
mod error;
mod eventfd;
pub mod idle;
mod listen;
pub mod models;
mod options;
mod shared;
mod shutdown;
mod tokio_accept;

pub use error::{ServerError, UnknownModel};
pub use listen::{Listen, somaxconn};
pub use models::Model;
pub use options::{HandlerStyle, ServeOptions, cores};
pub use shared::Shared;
pub use shutdown::Shutdown;

use std::net::SocketAddr;

/// What a model reports once its backend is connected and it is about to accept.
#[derive(Debug, Clone)]
pub struct Ready {
    pub model: Model,
    pub workers: usize,
    pub addr: SocketAddr,
    /// `Backend::describe()`: database, cache, upstream, latency (simulations named).
    pub backend: String,
}

impl Ready {
    pub(crate) fn new(
        model: Model,
        workers: usize,
        addr: SocketAddr,
        backend: &impl clab_backend::Backend,
    ) -> Self {
        Self {
            model,
            workers,
            addr,
            backend: backend.describe(),
        }
    }
}

/// Serve `model` on `listen` until `shutdown` is triggered and in-flight requests drained.
/// The caller runs [`clab_backend::prepare`] first (schema and seed, once).
pub fn serve(
    model: Model,
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
) -> Result<(), ServerError> {
    serve_with(model, listen, opts, shutdown, |_| {})
}

/// [`serve`], calling `on_ready` once the backend is connected (the CLI prints its startup
/// line there, since only the model knows which backend flavour it built).
pub fn serve_with(
    model: Model,
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    mut on_ready: impl FnMut(&Ready),
) -> Result<(), ServerError> {
    model.serve(listen, opts, shutdown, &mut on_ready)
}
