//! [`LoopRt`]: the async clients on the lab's own event loop (`clab-event-loop`).

use std::future::Future;
use std::io;
use std::time::Duration;

use super::{AsyncRuntime, resolve};

/// The event loop: its non-blocking sockets, its executor, its timers; no helper thread. The
/// query bytes go out on a loop socket, the task yields, and epoll reports the reply (the
/// chapter's Fig 5). A host *name* is resolved by the system resolver on the loop thread
/// (blocking it for the lookup); IP literals need none. Use on the loop's thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopRt;

impl AsyncRuntime for LoopRt {
    type Stream = clab_event_loop::TcpStream;

    fn connect(host: &str, port: u16) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        let addrs = resolve(host, port);
        async move {
            let mut last = None;
            for addr in addrs? {
                match clab_event_loop::TcpStream::connect(addr).await {
                    Ok(stream) => {
                        stream.set_nodelay(true)?;
                        return Ok(stream);
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| io::ErrorKind::NotFound.into()))
        }
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        clab_event_loop::spawn(task);
    }

    async fn timeout<F: Future + Send>(d: Duration, future: F) -> Option<F::Output> {
        clab_event_loop::timeout(d, future).await.ok()
    }
}
