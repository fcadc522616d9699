//! Waiting for a time on the loop: [`sleep`], [`Sleep`] (re-armable), [`timeout`].
//!
//! A `Sleep` holds only its deadline and, once polled, the key of its entry in the loop's
//! [`crate::timers`]; it is `Send` and small (24 bytes plus the deadline), and dropping it
//! cancels the timer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::context;
use crate::timers::{Action, TimerKey};

/// Wait `d` on this thread's loop.
pub fn sleep(d: Duration) -> Sleep {
    sleep_until(Instant::now() + d)
}

/// Wait until `deadline` on this thread's loop.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

/// See [`sleep`]. Must be polled on the loop's thread.
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    key: Option<TimerKey>,
}

impl Sleep {
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Move the deadline (earlier or later); the next poll arms the timer anew.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            context::try_with(|core| core.timers.borrow_mut().cancel(key));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let Some(key) = this.key {
            // Armed: still in the map means not yet due (refresh the waker; no clock read),
            // gone means it fired.
            if context::with(|core| core.timers.borrow_mut().set_waker(key, cx.waker())) {
                return Poll::Pending;
            }
            this.key = None;
            return Poll::Ready(());
        }
        if Instant::now() >= this.deadline {
            return Poll::Ready(());
        }
        let key = context::with(|core| {
            core.timers
                .borrow_mut()
                .insert(this.deadline, Action::Wake(cx.waker().clone()))
        });
        this.key = Some(key);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// [`timeout`] ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// `future`'s output, or [`Elapsed`] if `d` passes first (the future is then dropped).
pub async fn timeout<F: Future>(d: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = std::pin::pin!(future);
    let mut timer = sleep(d);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match Pin::new(&mut timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Runtime, spawn};
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn sleeps_overlap_and_wake_in_deadline_order() {
        let rt = Runtime::new().unwrap();
        let order = Rc::new(RefCell::new(Vec::new()));
        let started = Instant::now();
        rt.block_on(async {
            for (name, ms) in [("slow", 120), ("fast", 40), ("mid", 80)] {
                let order = Rc::clone(&order);
                spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    order.borrow_mut().push(name);
                });
            }
            sleep(Duration::from_millis(150)).await;
        })
        .unwrap();
        let took = started.elapsed();
        assert_eq!(*order.borrow(), ["fast", "mid", "slow"]);
        // Three sleeps of 40–120 ms at once on one thread: about the longest, not the sum.
        assert!(took < Duration::from_millis(240), "{took:?}");
    }

    #[test]
    fn timeout_returns_the_output_or_elapsed_and_cancels_its_timer() {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            assert_eq!(timeout(Duration::from_secs(5), async { 7 }).await, Ok(7));
            let slow = sleep(Duration::from_secs(5));
            assert_eq!(timeout(Duration::from_millis(20), slow).await, Err(Elapsed));
            crate::context::with(|core| assert_eq!(core.timers.borrow().len(), 0));
        })
        .unwrap();
    }

    #[test]
    fn a_reset_sleep_fires_at_its_new_deadline() {
        let rt = Runtime::new().unwrap();
        let started = Instant::now();
        rt.block_on(async {
            let mut s = sleep(Duration::from_secs(30));
            // Arm it, then move it earlier.
            assert!(futures_poll_once(&mut s).await.is_pending());
            s.reset(Instant::now() + Duration::from_millis(30));
            s.await;
        })
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    async fn futures_poll_once(s: &mut Sleep) -> Poll<()> {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *s).poll(cx))).await
    }
}
