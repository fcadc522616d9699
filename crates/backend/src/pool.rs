//! A tiny blocking connection pool: at most `size` connections, opened lazily, handed out one
//! caller at a time, with a checkout timeout.
//!
//! Why not r2d2/deadpool: the whole protocol is ~100 lines and says exactly what the service
//! does under overload. A caller that finds every connection busy waits on a condition
//! variable up to the timeout, then fails with [`BackendError::Unavailable`] so the service
//! answers 503 instead of hanging.
//!
//! The checkout protocol (take an idle connection, else open one if fewer than `size` exist,
//! else wait up to the timeout; a returned connection wakes one waiter; [`Pooled::discard`]
//! frees a broken connection's slot) is `clab_sync::checkout`, where loom checks that no
//! checkout sleeps through a return. This file adds the connections, the opener and the
//! errors.

use std::fmt;
use std::time::Duration;

use clab_sync::checkout::{Checkout, TakeError};

use crate::BackendError;

type Opener<C> = Box<dyn Fn() -> Result<C, BackendError> + Send + Sync>;

pub(crate) struct Pool<C> {
    checkout: Checkout<C>,
    open: Opener<C>,
    timeout: Duration,
    /// Which part of the backend this pool serves, for error messages: `"database"`, `"cache"`.
    part: &'static str,
}

impl<C> fmt::Debug for Pool<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("part", &self.part)
            .field("size", &self.checkout.size())
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
            checkout: Checkout::new(size),
            open: Box::new(open),
            timeout,
            part,
        }
    }

    /// Take a connection (see the module doc for the protocol).
    pub(crate) fn get(&self) -> Result<Pooled<'_, C>, BackendError> {
        match self.checkout.take(Some(self.timeout), &self.open) {
            Ok(conn) => Ok(Pooled {
                pool: self,
                conn: Some(conn),
            }),
            Err(TakeError::Open(e)) => Err(e),
            Err(TakeError::TimedOut) => Err(BackendError::Unavailable(
                self.part,
                format!(
                    "pool exhausted after {} ms: all {} connections busy",
                    self.timeout.as_millis(),
                    self.checkout.size()
                ),
            )),
        }
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
        self.pool.checkout.forget_one();
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
            self.pool.checkout.put_back(conn);
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
