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
//! watch is created, once when it is dropped, and once by `trigger`.

use std::collections::HashMap;
use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A cloneable "stop now, gracefully" signal. Cheap to check on hot paths (one atomic load).
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    triggered: AtomicBool,
    next_id: AtomicU64,
    /// The waker slot of every live [`Watch`], woken by `trigger`.
    watchers: Mutex<HashMap<u64, Arc<Slot>>>,
    /// Created on first use by a blocking model; readable once triggered.
    eventfd: OnceLock<OwnedFd>,
}

/// One watcher's waker. Locked by its own task on poll and by `trigger`: uncontended.
#[derive(Debug, Default)]
struct Slot {
    waker: Mutex<Option<Waker>>,
}

/// Poisoning cannot leave these maps inconsistent (every critical section is one
/// insert/remove/take), so a panic elsewhere must not stop shutdown.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start the graceful shutdown. Idempotent; callable from any thread, no runtime needed.
    pub fn trigger(&self) {
        if self.inner.triggered.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(fd) = self.inner.eventfd.get() {
            signal_eventfd(fd.as_raw_fd());
        }
        let slots: Vec<Arc<Slot>> = lock(&self.inner.watchers).values().cloned().collect();
        for slot in slots {
            if let Some(waker) = lock(&slot.waker).take() {
                waker.wake();
            }
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// A file descriptor that becomes readable (and stays readable) once the trigger is
    /// pulled, for blocking threads to include in their `poll(2)` set. Never read it.
    pub fn wake_fd(&self) -> std::io::Result<RawFd> {
        if let Some(fd) = self.inner.eventfd.get() {
            return Ok(fd.as_raw_fd());
        }
        // SAFETY: eventfd takes no pointers; a non-negative return is a new fd we own.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Losing the race to another thread drops our fd; theirs is used.
        let fd = self.inner.eventfd.get_or_init(|| fd).as_raw_fd();
        // `trigger` sets the flag before it looks for the fd: either it saw the fd and
        // signalled it, or this load sees the flag.
        if self.is_triggered() {
            signal_eventfd(fd);
        }
        Ok(fd)
    }

    /// A future that resolves once [`Shutdown::trigger`] has been called. Create one per
    /// long-lived task and poll it as often as needed (`&mut watch` in `select!`).
    pub fn watch(&self) -> Watch {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot::default());
        lock(&self.inner.watchers).insert(id, Arc::clone(&slot));
        Watch {
            inner: Arc::clone(&self.inner),
            id,
            slot,
        }
    }

    /// Resolves once [`Shutdown::trigger`] has been called (immediately if it already was).
    pub async fn wait(&self) {
        self.watch().await;
    }
}

/// Make an eventfd readable (add 1 to its counter). Idempotent in effect: it stays readable.
fn signal_eventfd(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to an eventfd we own; failure (counter overflow,
    // impossible here) only means it is already readable.
    unsafe { libc::write(fd, (&raw const one).cast(), 8) };
}

/// See [`Shutdown::watch`]. Resolves (and keeps resolving) once shutdown is triggered.
#[derive(Debug)]
pub struct Watch {
    inner: Arc<Inner>,
    id: u64,
    slot: Arc<Slot>,
}

impl Future for Watch {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.inner.triggered.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        {
            let mut waker = lock(&self.slot.waker);
            match &*waker {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        // `trigger` sets the flag before it takes wakers: either it found ours, or this load
        // sees the flag (the slot's mutex orders the two).
        if self.inner.triggered.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        lock(&self.inner.watchers).remove(&self.id);
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
        assert!(
            lock(&shutdown.inner.watchers).is_empty(),
            "dropped watches deregister"
        );
    }
}
