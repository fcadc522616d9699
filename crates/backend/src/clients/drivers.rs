//! What each remote part's driver answers, so [`super::ClientSet`] dispatches once for every
//! model. A blocking driver does its work in the call and returns `ready(..)`; an async one
//! awaits. The PostgreSQL and Redis impls live next to their drivers (`postgres_sync`,
//! `postgres_async`, `redis_cache`); the upstream ones are here, over `crate::upstream`.

use std::fmt::{self, Debug};
use std::future::{Future, ready};
use std::marker::PhantomData;
use std::time::Duration;

use crate::bank::{DbStatement, Guard, Pause};
use crate::runtime::AsyncRuntime;
use crate::upstream::{self, BlockingStream};
use crate::{
    Account, Activity, BackendError, BankOp, BankOutcome, NotifyReceipt, Order, UpstreamTarget,
    User,
};

/// A PostgreSQL client: the four queries of `crate::queries`, and the bank's calls.
pub trait SqlClient: Send + Sync + 'static + Debug {
    fn bank_statement(
        &self,
        st: DbStatement,
    ) -> impl Future<Output = Result<Vec<Account>, BackendError>> + Send;
    fn bank_apply<Q: Pause>(
        &self,
        op: BankOp,
        guard: Guard,
        pause: &Q,
    ) -> impl Future<Output = Result<BankOutcome, BackendError>> + Send;
    fn user(&self, id: i64) -> impl Future<Output = Result<Option<User>, BackendError>> + Send;
    fn orders(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Order>, BackendError>> + Send;
    fn account(
        &self,
        user_id: i64,
    ) -> impl Future<Output = Result<Option<Account>, BackendError>> + Send;
    fn activity(
        &self,
        user_id: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Activity>, BackendError>> + Send;
}

/// A Redis client: `GET` and `SET .. PX ttl`.
pub trait CacheClient: Send + Sync + 'static + Debug {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send;
    fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;
}

/// The real upstream `POST`.
pub trait UpstreamClient: Send + Sync + 'static + Debug {
    fn post(
        &self,
        target: &UpstreamTarget,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send;
}

/// The upstream call over a blocking stream `S` (std's or may's socket): done in the call,
/// each read and write bounded by the IO timeout.
pub struct BlockingUpstream<S> {
    io_timeout: Duration,
    stream: PhantomData<fn() -> S>,
}

impl<S> BlockingUpstream<S> {
    pub(crate) fn new(io_timeout: Duration) -> Self {
        Self {
            io_timeout,
            stream: PhantomData,
        }
    }
}

impl<S> Debug for BlockingUpstream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockingUpstream<{}>", std::any::type_name::<S>())
    }
}

impl<S: BlockingStream + 'static> UpstreamClient for BlockingUpstream<S> {
    fn post(
        &self,
        target: &UpstreamTarget,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send {
        ready(upstream::post_blocking::<S>(
            target,
            user_id,
            message,
            self.io_timeout,
        ))
    }
}

/// The upstream call on an async runtime's socket (tokio's or the event loop's), the exchange
/// bounded by the IO timeout.
pub struct AsyncUpstream<R> {
    io_timeout: Duration,
    runtime: PhantomData<fn() -> R>,
}

impl<R> AsyncUpstream<R> {
    pub(crate) fn new(io_timeout: Duration) -> Self {
        Self {
            io_timeout,
            runtime: PhantomData,
        }
    }
}

impl<R> Debug for AsyncUpstream<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsyncUpstream<{}>", std::any::type_name::<R>())
    }
}

impl<R: AsyncRuntime> UpstreamClient for AsyncUpstream<R> {
    fn post(
        &self,
        target: &UpstreamTarget,
        user_id: i64,
        message: &str,
    ) -> impl Future<Output = Result<NotifyReceipt, BackendError>> + Send {
        upstream::post_async::<R>(target, user_id, message, self.io_timeout)
    }
}
