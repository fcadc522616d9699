//! [`Slots`]: `n` interchangeable slots a caller waits for in its model's own world (a
//! counting semaphore). With `--hold-connection`, every simulated database round trip holds
//! one of `--pool-size` slots for its whole duration, as a real query holds its pooled
//! connection while its round trip is in flight: the pool then caps the service at P/R
//! (Little's law, claim B03). Without it the round trip is waited out before the pool is
//! touched, and the pool never fills.
//!
//! Each world waits its own way: a thread blocks in the kernel, a task returns `Pending`, a
//! coroutine parks. A thread model taking an async semaphore, or a task a blocking one, would
//! wait wrongly, which is why the slots come from [`super::Wait::slots`].

use std::convert::Infallible;
use std::fmt::Debug;
use std::future::{Future, ready};
use std::sync::Arc;

use clab_sync::checkout::{Checkout, TakeError};

/// See the module docs.
pub trait Slots: Send + Sync + Debug + 'static {
    /// A taken slot; dropping it gives the slot back.
    type Held: Send + 'static;
    /// Wait for a free slot.
    fn take(&self) -> impl Future<Output = Self::Held> + Send;
}

/// Tasks (tokio, the event loop): tokio's semaphore. It needs no runtime, only wakers, so the
/// event loop's executor can wait on it too.
#[derive(Debug)]
pub struct TaskSlots(Arc<tokio::sync::Semaphore>);

impl TaskSlots {
    pub fn new(n: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(n)))
    }
}

impl Slots for TaskSlots {
    type Held = tokio::sync::OwnedSemaphorePermit;

    fn take(&self) -> impl Future<Output = Self::Held> + Send {
        let slots = Arc::clone(&self.0);
        async move {
            // Nothing closes the semaphore: `acquire_owned` can only fail on a closed one.
            slots
                .acquire_owned()
                .await
                .expect("the slots' semaphore is never closed")
        }
    }
}

/// Threads: the blocking pool's own checkout (`clab_sync::checkout`, loom-modelled) over `n`
/// unit resources; taking one blocks the thread on its condvar until a drop gives one back.
#[derive(Debug)]
pub struct ThreadSlots(Arc<Checkout<()>>);

/// A thread's slot: given back on drop.
#[derive(Debug)]
pub struct Token(Arc<Checkout<()>>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.put_back(());
    }
}

impl ThreadSlots {
    pub fn new(n: usize) -> Self {
        Self(Arc::new(Checkout::new(n)))
    }
}

impl Slots for ThreadSlots {
    type Held = Token;

    fn take(&self) -> impl Future<Output = Token> + Send {
        // No deadline, and "opening" a unit slot cannot fail: the only outcome is a slot.
        match self.0.take(None, || Ok::<(), Infallible>(())) {
            Ok(()) => {}
            Err(TakeError::TimedOut) => unreachable!("a take without a deadline cannot time out"),
            Err(TakeError::Open(never)) => match never {},
        }
        ready(Token(Arc::clone(&self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The thread flavour's futures are ready at once; a trivial executor suffices.
    fn now<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn a_thread_waits_until_a_slot_comes_back() {
        let slots = Arc::new(ThreadSlots::new(1));
        let held = now(slots.take());
        let other = {
            let slots = Arc::clone(&slots);
            std::thread::spawn(move || {
                let t = std::time::Instant::now();
                drop(now(slots.take()));
                t.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        let waited = other.join().unwrap();
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
    }

    #[tokio::test]
    async fn tasks_share_n_slots() {
        let slots = TaskSlots::new(2);
        let (a, _b) = (slots.take().await, slots.take().await);
        let third = tokio::time::timeout(Duration::from_millis(20), slots.take()).await;
        assert!(third.is_err(), "a third task got one of two slots");
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(200), slots.take()).await;
        assert!(third.is_ok());
    }
}
