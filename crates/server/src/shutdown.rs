//! [`Shutdown`]: one cloneable trigger every part of a model watches.
//!
//! Graceful shutdown, the same protocol in every model:
//! 1. someone (SIGINT/SIGTERM in the CLI, or a test) calls [`Shutdown::trigger`];
//! 2. the `Listener` notices (tokio: [`Shutdown::wait`]; blocking acceptors poll the listening
//!    socket with a short timeout and check [`Shutdown::is_triggered`]) and stops accepting;
//! 3. each `Conn` finishes the request it is handling and answers it with `Connection: close`;
//!    idle keep-alive connections are closed at once;
//! 4. the model waits for its connections, at most the drain deadline, then returns.
//!
//! It terminates because step 2 stops new work, step 3 makes every connection close after at
//! most one more response, and step 4 bounds the wait for handlers that never finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// A cloneable "stop now, gracefully" signal. Cheap to check on hot paths (one atomic load).
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    triggered: AtomicBool,
    /// Wakes async waiters. `Notify` needs no runtime, so triggering works from any thread.
    notify: Notify,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start the graceful shutdown. Idempotent.
    pub fn trigger(&self) {
        if !self.inner.triggered.swap(true, Ordering::SeqCst) {
            self.inner.notify.notify_waiters();
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::Acquire)
    }

    /// Resolves once [`Shutdown::trigger`] has been called (immediately if it already was).
    /// Create it once per connection and keep it pinned: creating one takes a lock.
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.notify.notified();
            let mut notified = std::pin::pin!(notified);
            // Register before checking the flag so a trigger between the two is not missed.
            notified.as_mut().enable();
            if self.is_triggered() {
                return;
            }
            notified.await;
        }
    }
}
