//! The **executor**: the loop itself. Tasks live in a slab; a turn of the loop
//!
//! 1. polls every task that was woken (the ready queue, as it stood when the turn began:
//!    a task woken during the turn waits for the next one, so a task that keeps waking
//!    itself cannot starve epoll);
//! 2. fires the timers that are due and runs callbacks that became runnable;
//! 3. calls `epoll_wait`, with a zero timeout if something is already runnable, else until the
//!    earliest timer (forever with none), and wakes whoever waits on the sockets it reports;
//! 4. takes the wakes other threads queued meanwhile.
//!
//! That is the chapter's §07 loop ("run what is ready, ask the OS what became ready, repeat")
//! with futures in place of callbacks: "yield" is a poll returning `Pending` after it left a
//! waker with the reactor or a timer. A task is polled only after a wake ([`crate::waker`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::context;
use crate::reactor::Reactor;
use crate::stats::LoopStats;
use crate::timers::{Action, Timers};
use crate::waker::{Header, Remote};

/// The id the `block_on` future's waker carries: it is not in the slab.
const ROOT: usize = usize::MAX;

type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

struct Task {
    /// Taken out while the task is being polled (so the slab is not borrowed meanwhile).
    future: Option<BoxFuture>,
    /// Also the task's waker (`Waker::from` it per poll: one reference count, as a clone of a
    /// stored `Waker` would be, and 16 bytes less per task).
    header: Arc<Header>,
}

/// Everything one loop owns. Reached through [`crate::context`] on the loop's thread only.
pub(crate) struct Core {
    tasks: RefCell<Slab<Task>>,
    ready: RefCell<VecDeque<usize>>,
    root_woken: Cell<bool>,
    pub(crate) reactor: RefCell<Reactor>,
    pub(crate) timers: RefCell<Timers>,
    /// Callbacks runnable now (registered on a socket that was already ready).
    pub(crate) calls: RefCell<Vec<Box<dyn FnOnce()>>>,
    remote: Arc<Remote>,
    pub(crate) stats: Arc<LoopStats>,
}

impl Core {
    pub(crate) fn remote(&self) -> &Arc<Remote> {
        &self.remote
    }

    pub(crate) fn push_ready(&self, id: usize) {
        if id == ROOT {
            self.root_woken.set(true);
        } else {
            self.ready.borrow_mut().push_back(id);
        }
    }

    pub(crate) fn spawn(&self, future: BoxFuture) {
        let mut tasks = self.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let id = entry.key();
        let header = Arc::new(Header::new(id, Arc::clone(&self.remote)));
        entry.insert(Task {
            future: Some(future),
            header,
        });
        // `Header::new` starts queued: this is its wake.
        self.ready.borrow_mut().push_back(id);
    }

    /// Poll task `id` if it is (still) woken.
    fn run_task(&self, id: usize) {
        let (mut future, waker) = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(task) = tasks.get_mut(id) else {
                return;
            };
            // A stale entry (queued again after it already ran) finds the flag clear.
            if !task.header.queued.swap(false, Ordering::AcqRel) {
                return;
            }
            let Some(future) = task.future.take() else {
                return;
            };
            (future, Waker::from(Arc::clone(&task.header)))
        };
        self.stats.polls.fetch_add(1, Ordering::Relaxed);
        let done = future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        let mut tasks = self.tasks.borrow_mut();
        if done {
            let task = tasks.remove(id);
            task.header.done.store(true, Ordering::Release);
            drop(tasks);
            // Dropped outside the borrow: its sockets deregister through the context.
            drop(future);
        } else {
            tasks[id].future = Some(future);
        }
    }

    /// Queue the wakes other threads made, skipping tasks that ended since.
    fn take_remote(&self) {
        for header in self.remote.take() {
            if header.id == ROOT {
                self.root_woken.set(true);
                continue;
            }
            let live = !header.done.load(Ordering::Acquire)
                && self
                    .tasks
                    .borrow()
                    .get(header.id)
                    .is_some_and(|t| Arc::ptr_eq(&t.header, &header));
            if live {
                self.ready.borrow_mut().push_back(header.id);
            }
        }
    }

    fn runnable(&self) -> bool {
        self.root_woken.get() || !self.ready.borrow().is_empty() || !self.calls.borrow().is_empty()
    }

    /// One turn, steps 1–4 of the module docs.
    fn turn(&self, woken: &mut Vec<Action>) -> io::Result<()> {
        let batch = self.ready.borrow().len();
        for _ in 0..batch {
            let Some(id) = self.ready.borrow_mut().pop_front() else {
                break;
            };
            self.run_task(id);
        }

        let now = Instant::now();
        let due = self.timers.borrow_mut().take_due(now);
        due.into_iter().for_each(Action::run);
        let calls = std::mem::take(&mut *self.calls.borrow_mut());
        calls.into_iter().for_each(|call| call());

        // One clock read serves the timeout and the stats' "entered epoll_wait" mark.
        let before = Instant::now();
        let timeout = if self.runnable() {
            Some(Duration::ZERO)
        } else {
            self.timers.borrow().next_timeout(before)
        };
        let remote = self.reactor.borrow_mut().poll(timeout, woken)?;
        self.stats.turn(before, Instant::now());
        // Outside the reactor's borrow: a callback may register another socket.
        woken.drain(..).for_each(Action::run);
        if remote {
            self.take_remote();
        }
        Ok(())
    }
}

/// A single-threaded event loop: build one, then [`Runtime::block_on`] the server's root
/// future on this thread. Sockets, timers and tasks created inside belong to it.
pub struct Runtime {
    core: Rc<Core>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.core.tasks.borrow().len())
            .field("sockets", &self.core.reactor.borrow().len())
            .field("timers", &self.core.timers.borrow().len())
            .finish()
    }
}

impl Runtime {
    /// An epoll instance and an eventfd for cross-thread wakes; no thread is started.
    pub fn new() -> io::Result<Self> {
        let (reactor, waker) = Reactor::new(capacity_hint())?;
        Ok(Self {
            core: Rc::new(Core {
                tasks: RefCell::new(Slab::with_capacity(capacity_hint())),
                ready: RefCell::new(VecDeque::new()),
                root_woken: Cell::new(true),
                reactor: RefCell::new(reactor),
                timers: RefCell::new(Timers::default()),
                calls: RefCell::new(Vec::new()),
                remote: Arc::new(Remote::new(waker)),
                stats: Arc::new(LoopStats::new()),
            }),
        })
    }

    /// The loop's counters (turns, time in `epoll_wait`), readable from any thread.
    pub fn stats(&self) -> Arc<LoopStats> {
        Arc::clone(&self.core.stats)
    }

    /// Run the loop on this thread until `future` completes; spawned tasks run meanwhile and
    /// stay in the loop (dropped with the `Runtime`). An epoll failure, which leaves the loop
    /// unable to wait at all, is returned.
    pub fn block_on<F: Future>(&self, future: F) -> io::Result<F::Output> {
        let _entered = context::enter(Rc::clone(&self.core));
        let core = &*self.core;
        let root_header = Arc::new(Header::new(ROOT, Arc::clone(&core.remote)));
        let root_waker = Waker::from(Arc::clone(&root_header));
        let mut future = pin!(future);
        let mut woken = Vec::new();
        core.root_woken.set(true);
        loop {
            if core.root_woken.replace(false)
                && root_header.queued.swap(false, Ordering::AcqRel)
                && let Poll::Ready(out) =
                    future.as_mut().poll(&mut Context::from_waker(&root_waker))
            {
                return Ok(out);
            }
            core.turn(&mut woken)?;
        }
    }
}

impl Drop for Runtime {
    /// Drop every task still in the loop (their sockets close), inside the loop's context so
    /// their `Drop`s find the reactor.
    fn drop(&mut self) {
        let _entered = context::enter(Rc::clone(&self.core));
        let tasks: Vec<Task> = self.core.tasks.borrow_mut().drain().collect();
        for task in &tasks {
            task.header.done.store(true, Ordering::Release);
        }
        drop(tasks);
        self.core.timers.borrow_mut().clear();
        self.core.calls.borrow_mut().clear();
    }
}

/// Room reserved up front for tasks and sockets: one per file descriptor the process may
/// open (each connection is a task and a socket), capped. Reserved, not touched: the pages
/// become resident only as slots are used, and the slabs never reallocate (a doubling copy
/// would leave its old half behind in the heap, as resident memory).
fn capacity_hint() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    let fds = if ok { lim.rlim_cur } else { 1024 };
    usize::try_from(fds)
        .unwrap_or(usize::MAX)
        .clamp(1024, 1 << 20)
}

/// Run `future` as a task of this thread's loop. Panics off the loop.
pub fn spawn(future: impl Future<Output = ()> + 'static) {
    context::with(|core| core.spawn(Box::pin(future)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A future that counts its polls and stays pending until told, handing its waker out.
    struct Probe {
        polls: Rc<Cell<usize>>,
        waker: Rc<RefCell<Option<Waker>>>,
        finish: Rc<Cell<bool>>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.set(self.polls.get() + 1);
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            if self.finish.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    type Handles = (Rc<Cell<usize>>, Rc<RefCell<Option<Waker>>>, Rc<Cell<bool>>);

    fn probe() -> (Probe, Handles) {
        let polls = Rc::new(Cell::new(0));
        let waker = Rc::new(RefCell::new(None));
        let finish = Rc::new(Cell::new(false));
        (
            Probe {
                polls: Rc::clone(&polls),
                waker: Rc::clone(&waker),
                finish: Rc::clone(&finish),
            },
            (polls, waker, finish),
        )
    }

    /// Yield to the loop for `turns` turns.
    async fn turns(n: usize) {
        for _ in 0..n {
            let mut yielded = false;
            std::future::poll_fn(|cx| {
                if yielded {
                    Poll::Ready(())
                } else {
                    yielded = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            })
            .await;
        }
    }

    #[test]
    fn a_task_is_polled_once_on_spawn_and_then_only_when_woken() {
        let rt = Runtime::new().unwrap();
        let (task, (polls, waker, _)) = probe();
        rt.block_on(async {
            spawn(task);
            turns(5).await;
            assert_eq!(polls.get(), 1, "no wake, no poll");
            waker.borrow().as_ref().unwrap().wake_by_ref();
            turns(2).await;
            assert_eq!(polls.get(), 2);
        })
        .unwrap();
    }

    #[test]
    fn a_task_woken_twice_runs_once() {
        let rt = Runtime::new().unwrap();
        let (task, (polls, waker, _)) = probe();
        rt.block_on(async {
            spawn(task);
            turns(1).await;
            let w = waker.borrow().clone().unwrap();
            w.wake_by_ref();
            w.wake_by_ref();
            w.wake();
            turns(3).await;
            assert_eq!(polls.get(), 2, "three wakes before it ran: one poll");
        })
        .unwrap();
    }

    #[test]
    fn a_finished_tasks_waker_is_harmless() {
        let rt = Runtime::new().unwrap();
        let (task, (polls, waker, finish)) = probe();
        let (other, (other_polls, _, _)) = probe();
        rt.block_on(async {
            finish.set(true);
            spawn(task);
            turns(2).await;
            assert_eq!(polls.get(), 1);
            // Its slot is reused by the next task; the stale waker must not poll that one.
            spawn(other);
            turns(2).await;
            let stale = waker.borrow().clone().unwrap();
            stale.wake_by_ref();
            std::thread::spawn(move || stale.wake()).join().unwrap();
            turns(3).await;
            assert_eq!(polls.get(), 1);
            assert_eq!(other_polls.get(), 1, "the reused slot's task was not woken");
        })
        .unwrap();
        // And after the loop is gone.
        waker.borrow().as_ref().unwrap().wake_by_ref();
    }

    #[test]
    fn a_wake_from_another_thread_reaches_a_loop_asleep_in_epoll() {
        let rt = Runtime::new().unwrap();
        let woke_at = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let waited = rt
            .block_on(async {
                let mut sent = false;
                std::future::poll_fn(|cx| {
                    if sent {
                        return Poll::Ready(started.elapsed());
                    }
                    sent = true;
                    let waker = cx.waker().clone();
                    let woke_at = Arc::clone(&woke_at);
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(50));
                        woke_at.store(1, Ordering::SeqCst);
                        waker.wake();
                    });
                    Poll::Pending
                })
                .await
            })
            .unwrap();
        assert_eq!(woke_at.load(Ordering::SeqCst), 1);
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(
            waited < Duration::from_secs(2),
            "the loop slept through the wake: {waited:?}"
        );
        assert!(
            rt.stats().snapshot().turns < 20,
            "it slept in epoll_wait instead of spinning: {:?}",
            rt.stats().snapshot()
        );
    }

    #[test]
    fn dropping_the_runtime_drops_its_pending_tasks() {
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Rc::new(Cell::new(false));
        let rt = Runtime::new().unwrap();
        let flag = Flag(Rc::clone(&dropped));
        rt.block_on(async move {
            spawn(async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            });
            turns(1).await;
        })
        .unwrap();
        assert!(!dropped.get());
        drop(rt);
        assert!(dropped.get());
    }
}
