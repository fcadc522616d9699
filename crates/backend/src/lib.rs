//! The service's view of the outside world: database, cache, upstream API, simulated latency.
//!
//! # Brief overview
//! - [`Backend`]: the trait handlers are written against. Every method returns
//!   `impl Future + Send` (not a bare `async fn`) so handler futures stay `Send` for tokio's
//!   multi-thread runtime.
//! - [`BlockingBackend`]: every call blocks the calling OS thread (blocking SQL client,
//!   `std::thread::sleep` for a simulated round trip) and returns `std::future::ready(..)`, so a
//!   handler completes on its first poll under a trivial `block_on`: the thread really sits in
//!   the kernel, as in the chapter's thread models.
//! - [`AsyncBackend`]: waits are real awaits on tokio (async SQL client, tokio timers).
//! - [`BackendConfig`], [`LatencyProfile`]: what to connect to and how far away it pretends to be.
//! - [`prepare`]: create the schema and seed data once, idempotently.

mod config;
mod error;
mod latency;
mod model;

pub use config::{BackendConfig, CpuPolicy, DatabaseUrl};
pub use error::BackendError;
pub use latency::LatencyProfile;
pub use model::{Account, Activity, NotifyReceipt, Order, User};

use std::future::Future;
use std::time::Duration;

/// Everything a handler may ask of the outside world. Implemented once per way of waiting.
pub trait Backend: Send + Sync + 'static {
    /// `SELECT` one user by id.
    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send;
    /// The user's most recent orders, newest first, at most `limit`.
    fn orders(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send;
    /// The user's account (balance).
    fn account(
        &self,
        user_id: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send;
    /// The user's recent activity, newest first, at most `limit`.
    fn recent_activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send;
    /// Cache lookup (in-process map or Redis `GET`).
    fn cache_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send;
    /// Cache fill (in-process map or Redis `SET .. PX ttl`).
    fn cache_set(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
    /// The external API call (a notification/email service): simulated unless an upstream URL
    /// is configured.
    fn notify(
        &self,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send;
    /// Run CPU-heavy work where the model's offload policy says (inline, or a blocking pool).
    fn run_cpu<R, F>(&self, work: F) -> impl Future<Output = R> + Send
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;
    /// One line for the startup banner and reports: database, cache, upstream, latency
    /// (simulations named as such). Never contains credentials.
    fn describe(&self) -> String;
}

/// Blocking implementation. See the crate docs.
#[derive(Debug)]
pub struct BlockingBackend {
    // backend helper fills this in
}

impl BlockingBackend {
    /// Connect (pool of blocking connections). Does not create the schema: call [`prepare`].
    pub fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        let _ = cfg;
        todo!()
    }
}

/// Tokio implementation. See the crate docs. Must be created inside a tokio runtime.
#[derive(Debug)]
pub struct AsyncBackend {
    // backend helper fills this in
}

impl AsyncBackend {
    pub async fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        let _ = cfg;
        todo!()
    }
}

/// Create the schema if missing and seed it (10,000 users, ~10 orders each, accounts) if it is
/// empty. Idempotent; never wipes existing data. Blocking; call before serving.
pub fn prepare(cfg: &BackendConfig) -> Result<(), BackendError> {
    let _ = cfg;
    todo!()
}
