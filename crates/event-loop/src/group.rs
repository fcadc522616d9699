//! [`Group`]: a set of tasks one can wait on as a whole, so the accept loop can drain its
//! connections at shutdown ("wait until every connection task has ended, at most the drain
//! deadline"). A counter and one waiter: tasks that end are forgotten at once, so a group that
//! served a million connections holds only the live ones.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::spawn;

#[derive(Debug, Default, Clone)]
pub struct Group {
    inner: Rc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    live: Cell<usize>,
    waiter: RefCell<Option<Waker>>,
}

/// Held by each member task; its drop (the task ended or was dropped) counts it out.
struct Member(Rc<Inner>);

impl Drop for Member {
    fn drop(&mut self) {
        let left = self.0.live.get() - 1;
        self.0.live.set(left);
        if left == 0
            && let Some(w) = self.0.waiter.borrow_mut().take()
        {
            w.wake();
        }
    }
}

pin_project_lite::pin_project! {
    /// A member task: its future, and the guard that counts it out when dropped.
    struct Counted<F> {
        #[pin]
        future: F,
        _member: Member,
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

impl Group {
    pub fn new() -> Self {
        Self::default()
    }

    /// Spawn `future` on this thread's loop as a member of the group.
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        self.inner.live.set(self.inner.live.get() + 1);
        // A struct, not `async move { let _m = member; future.await }`: an async block
        // would hold `future` twice (captured, and awaited), doubling every task's size.
        spawn(Counted {
            future,
            _member: Member(Rc::clone(&self.inner)),
        });
    }

    /// Tasks of the group still running.
    pub fn len(&self) -> usize {
        self.inner.live.get()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves once no member is left.
    pub async fn idle(&self) {
        poll_fn(|cx| {
            if self.is_empty() {
                Poll::Ready(())
            } else {
                *self.inner.waiter.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Runtime, sleep};
    use std::time::{Duration, Instant};

    #[test]
    fn idle_waits_for_every_member() {
        let rt = Runtime::new().unwrap();
        let started = Instant::now();
        rt.block_on(async {
            let group = Group::new();
            for ms in [10, 60, 30] {
                group.spawn(sleep(Duration::from_millis(ms)));
            }
            assert_eq!(group.len(), 3);
            group.idle().await;
            assert!(group.is_empty());
        })
        .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(60));
    }
}
