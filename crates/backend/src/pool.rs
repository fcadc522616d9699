//! A tiny blocking connection pool: at most `size` connections, opened lazily, handed out one
//! caller at a time, with a checkout timeout.
//!
//! Why not r2d2/deadpool: the whole protocol is ~80 lines and says exactly what the service
//! does under overload. A caller that finds every connection busy waits on a condition
//! variable up to the timeout, then fails with [`BackendError::Unavailable`] so the service
//! answers 503 instead of hanging.
//!
//! Checkout protocol:
//! 1. lock; if an idle connection exists, take it;
//! 2. else if fewer than `size` exist, count one more, unlock and open it (a failed open
//!    un-counts it and returns the error);
//! 3. else wait on the condvar until a connection is returned or the deadline passes.
//!
//! A returned [`Pooled`] goes back to the idle list and wakes one waiter; [`Pooled::discard`]
//! drops a broken connection and frees its slot so the next caller opens a fresh one.

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::BackendError;

type Opener<C> = Box<dyn Fn() -> Result<C, BackendError> + Send + Sync>;

pub(crate) struct Pool<C> {
    state: Mutex<State<C>>,
    returned: Condvar,
    open: Opener<C>,
    size: usize,
    timeout: Duration,
    /// Which part of the backend this pool serves, for error messages: `"database"`, `"cache"`.
    part: &'static str,
}

struct State<C> {
    idle: Vec<C>,
    /// Connections that exist: idle plus checked out (plus being opened).
    open: usize,
}

impl<C> fmt::Debug for Pool<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("part", &self.part)
            .field("size", &self.size)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<C> Pool<C> {
    pub(crate) fn new(
        part: &'static str,
        size: usize,
        timeout: Duration,
        open: impl Fn() -> Result<C, BackendError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                idle: Vec::with_capacity(size),
                open: 0,
            }),
            returned: Condvar::new(),
            open: Box::new(open),
            size: size.max(1),
            timeout,
            part,
        }
    }

    /// A poisoned lock only means another thread panicked while holding it; the pool's state
    /// (a Vec and a counter) is still consistent, so keep going.
    fn lock(&self) -> MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take a connection (see the module doc for the protocol).
    pub(crate) fn get(&self) -> Result<Pooled<'_, C>, BackendError> {
        let deadline = Instant::now() + self.timeout;
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match (self.open)() {
                    Ok(conn) => Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(BackendError::Unavailable(
                    self.part,
                    format!(
                        "pool exhausted after {} ms: all {} connections busy",
                        self.timeout.as_millis(),
                        self.size
                    ),
                ));
            }
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn forget_one(&self) {
        self.lock().open -= 1;
        self.returned.notify_one();
    }
}

/// A checked-out connection; goes back to the pool on drop.
pub(crate) struct Pooled<'a, C> {
    pool: &'a Pool<C>,
    conn: Option<C>,
}

impl<C> Pooled<'_, C> {
    /// Drop this connection instead of returning it (it is broken); its slot is freed.
    pub(crate) fn discard(mut self) {
        self.conn = None;
        self.pool.forget_one();
    }
}

impl<C> std::ops::Deref for Pooled<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn
            .as_ref()
            .expect("a Pooled holds its connection until dropped")
    }
}

impl<C> std::ops::DerefMut for Pooled<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn
            .as_mut()
            .expect("a Pooled holds its connection until dropped")
    }
}

impl<C> Drop for Pooled<'_, C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.lock().idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting_pool(size: usize, timeout: Duration) -> (Pool<usize>, Arc<AtomicUsize>) {
        let opened = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&opened);
        let pool = Pool::new("database", size, timeout, move || {
            Ok(counter.fetch_add(1, Ordering::SeqCst))
        });
        (pool, opened)
    }

    #[test]
    fn opens_lazily_and_reuses() {
        let (pool, opened) = counting_pool(4, Duration::from_secs(1));
        assert_eq!(opened.load(Ordering::SeqCst), 0);
        for _ in 0..10 {
            let c = pool.get().unwrap();
            assert_eq!(*c, 0);
        }
        assert_eq!(opened.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn exhaustion_is_unavailable_not_a_hang() {
        let (pool, _) = counting_pool(2, Duration::from_millis(50));
        let _a = pool.get().unwrap();
        let _b = pool.get().unwrap();
        let err = pool.get().err().expect("third checkout must fail");
        assert!(err.is_unavailable(), "{err}");
        assert!(err.to_string().contains("pool exhausted"), "{err}");
    }

    #[test]
    fn a_returned_connection_wakes_a_waiter() {
        let (pool, _) = counting_pool(1, Duration::from_secs(30));
        let pool = Arc::new(pool);
        let held = pool.get().unwrap();
        let waiter = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.get().map(|c| *c).ok())
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(held);
        assert_eq!(waiter.join().unwrap(), Some(0));
    }

    #[test]
    fn discard_frees_the_slot_and_a_failed_open_does_not_leak_it() {
        let (pool, opened) = counting_pool(1, Duration::from_millis(10));
        pool.get().unwrap().discard();
        assert_eq!(*pool.get().unwrap(), 1);
        assert_eq!(opened.load(Ordering::SeqCst), 2);

        let failing: Pool<()> = Pool::new("cache", 1, Duration::from_millis(10), || {
            Err(BackendError::Unavailable("cache", "refused".into()))
        });
        for _ in 0..3 {
            let err = failing.get().err().unwrap();
            assert!(err.to_string().contains("refused"), "{err}");
        }
    }
}
