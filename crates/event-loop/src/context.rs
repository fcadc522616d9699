//! Which loop the current thread is running: a thread-local pointer to its [`Core`], set by
//! [`crate::Runtime::block_on`] for as long as it runs.
//!
//! This is how a socket, a timer or `spawn` finds "the loop" without being handed it, as
//! tokio's runtime context does: every piece of the loop is touched only from its own thread,
//! so the futures built on them can stay `Send` (they hold ids, not references) while the
//! state behind the ids lives here, in `RefCell`s no other thread can reach.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::executor::Core;
use crate::waker::Remote;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's loop. Panics off the loop: every socket, timer and spawn of
/// this crate belongs to one loop and must be used on its thread.
pub(crate) fn with<R>(f: impl FnOnce(&Core) -> R) -> R {
    try_with(f).expect("used outside clab_event_loop::Runtime::block_on (or on another thread)")
}

/// [`with`], or `None` off the loop (for `Drop` impls, which may run after the loop is gone).
pub(crate) fn try_with<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CURRENT.with_borrow(|current| current.as_deref().map(f))
}

/// Queue `id` on this thread's loop if this thread runs the loop `remote` belongs to.
pub(crate) fn push_local(remote: &Arc<Remote>, id: usize) -> bool {
    CURRENT
        .try_with(|current| {
            current.borrow().as_deref().is_some_and(|core| {
                let ours = Arc::ptr_eq(core.remote(), remote);
                if ours {
                    core.push_ready(id);
                }
                ours
            })
        })
        .unwrap_or(false)
}

/// Install `core` as this thread's loop until the guard drops.
pub(crate) fn enter(core: Rc<Core>) -> Entered {
    CURRENT.with_borrow_mut(|current| {
        assert!(
            current.is_none(),
            "an event loop is already running on this thread"
        );
        *current = Some(core);
    });
    Entered(())
}

#[derive(Debug)]
pub(crate) struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        // Take it out first, drop it after: dropping the core drops sockets whose `Drop`
        // looks for the loop, which must then find none instead of a borrowed cell.
        let core = CURRENT.with_borrow_mut(Option::take);
        drop(core);
    }
}
