//! [`TokioRt`]: the async clients on the tokio runtime they are called from.

use std::future::Future;
use std::io;
use std::time::Duration;

use super::AsyncRuntime;

/// Tokio: `tokio::net::TcpStream` (names resolved on tokio's blocking pool), `tokio::spawn`,
/// `tokio::time::timeout`. Use inside a tokio runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRt;

impl AsyncRuntime for TokioRt {
    type Stream = tokio::net::TcpStream;

    fn connect(host: &str, port: u16) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let host = host.to_owned();
        async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            Ok(stream)
        }
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }

    async fn timeout<F: Future + Send>(d: Duration, future: F) -> Option<F::Output> {
        tokio::time::timeout(d, future).await.ok()
    }
}
