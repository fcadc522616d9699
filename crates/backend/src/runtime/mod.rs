//! What the async clients (`tokio-postgres`, the multiplexed Redis connection, the upstream
//! HTTP call) need of the runtime they run on, so each client is written once and runs on
//! tokio ([`TokioRt`]) or on the lab's own event loop ([`LoopRt`], crate `clab-event-loop`).
//!
//! Three things: open a TCP stream that speaks tokio's `AsyncRead`/`AsyncWrite` traits, spawn
//! a background future (a PostgreSQL connection's or a Redis pipeline's IO task), and bound a
//! wait. Both protocol crates take a ready-made stream (`Config::connect_raw`,
//! `MultiplexedConnection::new_with_config`), which is what makes the second runtime possible.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

mod loop_rt;
mod tokio_rt;

pub use loop_rt::LoopRt;
pub use tokio_rt::TokioRt;

/// See the module docs. Implementations are zero-sized markers.
pub trait AsyncRuntime: Send + Sync + Debug + Default + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Connect to `host:port` (a name is resolved first; see each runtime for how).
    fn connect(host: &str, port: u16) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Run `task` in the background on this runtime.
    fn spawn(task: impl Future<Output = ()> + Send + 'static);

    /// `future`'s output, or `None` once `d` has passed.
    fn timeout<F: Future + Send>(
        d: Duration,
        future: F,
    ) -> impl Future<Output = Option<F::Output>> + Send;
}

/// Resolve with the system resolver, which blocks the calling thread for a name (an IP
/// literal, what the experiments use, resolves without a lookup).
pub(crate) fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no address"),
        ));
    }
    Ok(addrs)
}
