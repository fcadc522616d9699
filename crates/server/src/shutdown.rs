//! [`Shutdown`]: one cloneable trigger every part of a model watches.
//!
//! Graceful shutdown, the same protocol in every model:
//! 1. someone (SIGINT/SIGTERM in the CLI, or a test) calls [`Shutdown::trigger`];
//! 2. the `Listener` notices (tokio: a [`Watch`]; blocking acceptors poll the listening socket
//!    with a short timeout and check [`Shutdown::is_triggered`]) and stops accepting;
//! 3. each `Conn` finishes the request it is handling and answers it with `Connection: close`;
//!    idle keep-alive connections are closed at once;
//! 4. the model waits for its connections, at most the drain deadline, then returns.
//!
//! It terminates because step 2 stops new work, step 3 makes every connection close after at
//! most one more response, and step 4 bounds the wait for handlers that never finish.
//!
//! Blocking threads cannot poll a future. They wait in `poll(2)` on their socket *and* on
//! [`Shutdown::wake_fd`], an eventfd that `trigger` makes readable for good: a thread at rest
//! then sleeps in the kernel until its socket or the trigger wakes it, with no periodic tick
//! (the tour counts context switches of a server at rest).
//!
//! Why not `tokio::sync::Notify`: a connection task polls its shutdown future on every read,
//! and polling a waiting `Notified` takes the `Notify`'s one mutex, shared by every
//! connection: a global lock per request. A [`Watch`] keeps its waker in its own slot, so a
//! poll touches only memory of its own connection; the shared registry is locked once when a
//! watch is created, once when it is dropped, and once by `trigger`. That registry and its
//! wake-up protocol live in `clab_sync::trigger`, where loom checks them for lost wake-ups.

use crate::eventfd::EventFd;
use clab_sync::trigger::{Trigger, Watcher};
use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

/// A cloneable "stop now, gracefully" signal. Cheap to check on hot paths (one atomic load).
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// The flag and every [`Watch`]'s waker slot (`clab_sync::trigger`, loom-checked).
    trigger: Trigger,
    /// Created on first use by a blocking model; readable once triggered.
    eventfd: Arc<OnceLock<EventFd>>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start the graceful shutdown. Idempotent; callable from any thread, no runtime needed.
    pub fn trigger(&self) {
        // `pull` sets the flag before this looks for the fd (see `wake_fd`).
        if self.trigger.pull()
            && let Some(fd) = self.eventfd.get()
        {
            fd.signal();
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.trigger.is_pulled()
    }

    /// A file descriptor that becomes readable (and stays readable) once the trigger is
    /// pulled, for blocking threads to include in their `poll(2)` set. Never read it.
    pub fn wake_fd(&self) -> std::io::Result<RawFd> {
        if let Some(fd) = self.eventfd.get() {
            return Ok(fd.raw());
        }
        let fd = EventFd::new()?;
        // Losing the race to another thread drops our fd; theirs is used.
        let fd = self.eventfd.get_or_init(|| fd);
        // `trigger` sets the flag before it looks for the fd: either it saw the fd and
        // signalled it, or this load sees the flag.
        if self.is_triggered() {
            fd.signal();
        }
        Ok(fd.raw())
    }

    /// A future that resolves once [`Shutdown::trigger`] has been called. Create one per
    /// long-lived task and poll it as often as needed (`&mut watch` in `select!`).
    pub fn watch(&self) -> Watch {
        Watch {
            watcher: self.trigger.watch(),
        }
    }

    /// Resolves once [`Shutdown::trigger`] has been called (immediately if it already was).
    pub async fn wait(&self) {
        self.watch().await;
    }
}

/// See [`Shutdown::watch`]. Resolves (and keeps resolving) once shutdown is triggered; its
/// wake-up protocol is `clab_sync::trigger`'s.
#[derive(Debug)]
pub struct Watch {
    watcher: Watcher,
}

impl Future for Watch {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.watcher).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_wakes_watchers_and_later_watches_resolve_at_once() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let shutdown = Shutdown::new();
        let waiting = {
            let s = shutdown.clone();
            rt.spawn(async move { s.wait().await })
        };
        let trigger = {
            let s = shutdown.clone();
            std::thread::spawn(move || s.trigger())
        };
        trigger.join().unwrap();
        rt.block_on(waiting).unwrap();
        assert!(shutdown.is_triggered());
        rt.block_on(shutdown.wait());
        assert_eq!(shutdown.trigger.watchers(), 0, "dropped watches deregister");
    }
}
