//! A trivial `block_on` for the blocking models (and the bank's owner thread in their worlds).
//!
//! With a [`crate::BlockingBackend`] every backend call blocks the OS thread in its body
//! and returns a ready future, so a handler completes on its first poll: the thread really
//! sat in the kernel while it waited, as in the chapter's thread models. Should a future
//! return `Pending` anyway, the thread parks until the waker unparks it, which is correct for
//! any future, just not fast.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    // One waker per thread, built once: block_on runs once per request on hot paths.
    static WAKER: Waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
}

/// Run `fut` to completion on the current thread.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            // A spurious unpark only costs one more poll.
            thread::park();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ready_future_completes() {
        assert_eq!(block_on(async { 7 }), 7);
    }

    /// A future that is Pending until another thread completes it.
    #[test]
    fn pending_future_is_woken() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let shared = Arc::new(std::sync::Mutex::new((false, None::<Waker>)));
        let s2 = Arc::clone(&shared);
        let setter = thread::spawn(move || {
            rx.recv().ok();
            thread::sleep(Duration::from_millis(20));
            let mut g = s2.lock().unwrap();
            g.0 = true;
            if let Some(w) = g.1.take() {
                w.wake();
            }
        });
        let out = block_on(std::future::poll_fn(|cx| {
            let mut g = shared.lock().unwrap();
            if g.0 {
                Poll::Ready(42)
            } else {
                g.1 = Some(cx.waker().clone());
                tx.send(()).ok();
                Poll::Pending
            }
        }));
        assert_eq!(out, 42);
        setter.join().unwrap();
    }
}
