//! [`Admission`]: the bounded amount of work a running server takes on, the same in every
//! model. Beyond `--max-connections` open connections a new one is answered 503 with
//! `Retry-After` and closed; beyond `--max-inflight` requests being handled a new request is
//! answered 503 with `Retry-After` at once. Nothing past these bounds waits in an unbounded
//! queue (thread-pool's own queue is bounded in size and in time, `--queue` and
//! `--queue-timeout`).
//!
//! A count is taken with one `fetch_add` and given back by dropping the pass, so a connection
//! that ends by any path (a panic included) frees its place.
//!
//! A server at `--max-connections` (or out of descriptors, `accept_errors.rs`) also sheds
//! idle keep-alive connections ([`IdleConns`]), so the next new connection finds room.

use crate::ServeOptions;
use crate::idle::{IdleConns, SHED_BATCH};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Share of the file-descriptor limit left free by the default `--max-connections`: the
/// listeners, eventfds, epoll instances and database connections need descriptors too, and so
/// does a refused connection while its 503 lingers. A fixed few would not cover a server with
/// a large pool on many cores; an eighth does at every limit seen in practice (1,024: 128).
const FD_HEADROOM_SHARE: usize = 8;
/// The least headroom, for small fd limits.
const FD_HEADROOM_MIN: usize = 64;

/// The default `--max-connections`: the process's soft `RLIMIT_NOFILE` less headroom, so the
/// server answers 503 before `accept` starts failing with EMFILE.
pub fn default_max_connections() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the live struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) } == 0 {
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024 // the usual default soft limit
    };
    let headroom = (soft / FD_HEADROOM_SHARE).max(FD_HEADROOM_MIN);
    soft.saturating_sub(headroom).max(1)
}

/// A bounded count: how many are in, at most how many may be, how many were turned away.
#[derive(Debug)]
struct Gate {
    inside: AtomicUsize,
    max: usize,
    refused: AtomicU64,
}

impl Gate {
    fn new(max: usize) -> Self {
        Self {
            inside: AtomicUsize::new(0),
            max,
            refused: AtomicU64::new(0),
        }
    }

    /// Take a place if one is free. Two racing for the last place may both count for a moment;
    /// the one that went over gives its place back, so the bound holds for whoever got in.
    fn enter(&self) -> bool {
        if self.inside.fetch_add(1, Ordering::AcqRel) < self.max {
            return true;
        }
        self.inside.fetch_sub(1, Ordering::AcqRel);
        self.refused.fetch_add(1, Ordering::Relaxed);
        false
    }

    fn leave(&self) {
        self.inside.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The two bounds of one server (shared by every shard of `thread-per-core`), and the open
/// connections idle ones are shed from.
#[derive(Debug)]
pub struct Admission {
    connections: Gate,
    requests: Gate,
    pub idle: Arc<IdleConns>,
}

impl Admission {
    pub fn new(opts: &ServeOptions) -> Arc<Self> {
        Arc::new(Self {
            connections: Gate::new(opts.max_connections.unwrap_or_else(default_max_connections)),
            requests: Gate::new(opts.max_inflight),
            idle: Arc::new(IdleConns::default()),
        })
    }

    /// A place for one more open connection, or `None`: answer 503 and close. A refusal
    /// sheds idle keep-alive connections, so that the client's retry (`Retry-After`) or the
    /// next client gets in.
    pub fn connection(self: &Arc<Self>) -> Option<ConnectionPass> {
        if self.connections.enter() {
            return Some(ConnectionPass(Arc::clone(self)));
        }
        self.idle.shed(SHED_BATCH);
        None
    }

    /// A place for one more request in flight, or `None`: answer 503.
    pub fn request(&self) -> Option<RequestPass<'_>> {
        // `then`, not `then_some`: a pass built and dropped on refusal would give back a place
        // it never took.
        self.requests.enter().then(|| RequestPass(self))
    }

    /// `--max-connections` in force (the default resolved).
    pub fn max_connections(&self) -> usize {
        self.connections.max
    }

    /// Connections and requests turned away so far.
    pub fn refused(&self) -> (u64, u64) {
        (
            self.connections.refused.load(Ordering::Relaxed),
            self.requests.refused.load(Ordering::Relaxed),
        )
    }
}

/// One open connection's place; dropped when the connection's socket is closed (for the
/// thread models that is after its lingering close, which still holds the descriptor).
#[derive(Debug)]
pub struct ConnectionPass(Arc<Admission>);

impl Drop for ConnectionPass {
    fn drop(&mut self) {
        self.0.connections.leave();
    }
}

/// One request's place while its handler runs.
#[derive(Debug)]
pub struct RequestPass<'a>(&'a Admission);

impl Drop for RequestPass<'_> {
    fn drop(&mut self) {
        self.0.requests.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_gate_refuses_until_a_place_is_given_back() {
        let admission = Admission::new(&ServeOptions {
            max_connections: Some(2),
            max_inflight: 1,
            ..ServeOptions::default()
        });
        let (a, b) = (admission.connection(), admission.connection());
        assert!(a.is_some() && b.is_some());
        assert!(admission.connection().is_none());
        drop(a);
        assert!(admission.connection().is_some());
        let r = admission.request();
        assert!(r.is_some());
        assert!(admission.request().is_none());
        drop(r);
        assert!(admission.request().is_some());
        assert_eq!(admission.refused(), (1, 1));
    }

    #[test]
    fn the_default_leaves_headroom_below_the_fd_limit() {
        let max = default_max_connections();
        assert!(max >= 1);
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) },
            0
        );
        let soft = usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX);
        assert!(max + FD_HEADROOM_MIN <= soft, "{max} of {soft}");
    }
}
