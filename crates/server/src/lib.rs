//! The concurrency models of the chapter, each serving the same [`clab_app::App`].
//!
//! # Brief overview
//! - [`Model`]: every model, with `ALL`, `name()`, `summary()`; one file each under `models/`.
//! - [`ServeOptions`]: knobs shared by all models (workers, limits, timeouts, backend).
//! - [`Shutdown`]: a cloneable trigger; SIGINT/SIGTERM or a test pulls it, the model stops
//!   accepting, drains in-flight requests (bounded by the drain deadline) and returns.
//! - [`serve`]: run a model on a bound listener until shutdown.
//! - [`conn::Conn`]: the per-connection protocol (parse, keep-alive, pipelining, encode), written
//!   once, sans-IO. Models only move bytes ([`blocking_conn`], [`async_conn`]) and decide how
//!   to wait.

pub mod async_conn;
pub mod block_on;
pub mod blocking_conn;
pub mod conn;
mod error;
mod listener;
pub mod models;
mod options;
mod shutdown;

pub use error::{ServerError, UnknownModel};
pub use models::Model;
pub use options::{ServeOptions, cores};
pub use shutdown::Shutdown;

use std::net::{SocketAddr, TcpListener};

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

/// Serve `model` on `listener` until `shutdown` is triggered and in-flight requests drained.
/// The caller runs [`clab_backend::prepare`] first (schema and seed, once).
pub fn serve(
    model: Model,
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: Shutdown,
) -> Result<(), ServerError> {
    serve_with(model, listener, opts, shutdown, |_| {})
}

/// [`serve`], calling `on_ready` once the backend is connected (the CLI prints its startup
/// line there, since only the model knows which backend flavour it built).
pub fn serve_with(
    model: Model,
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: Shutdown,
    mut on_ready: impl FnMut(&Ready),
) -> Result<(), ServerError> {
    model.serve(listener, opts, shutdown, &mut on_ready)
}
