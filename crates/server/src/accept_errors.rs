//! An `accept` that fails (EMFILE: the process is out of file descriptors; ENFILE, ENOBUFS)
//! fails again at every retry until descriptors free up: every model backs off
//! (`ACCEPT_BACKOFF`) and retries, which would log a warning a hundred times a second. This
//! is the one place every model reports it: the first failure at once, then at most one line
//! per [`EVERY`] saying how many were folded into it, so an operator sees that the server is
//! out of descriptors without the log drowning everything else.
//!
//! Out of descriptors, the server also sheds idle keep-alive connections first
//! ([`crate::idle`]): their descriptors are the cheapest to give back, and the connections
//! waiting in the accept queue get in. The warning counts them.

use crate::idle::{IdleConns, SHED_BATCH};
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one warning per this long.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// When the last warning went out, the failures since, and the idle connections shed since.
static STATE: Mutex<Option<(Instant, u64, usize)>> = Mutex::new(None);

/// Record a failed `accept`, shedding idle connections of `idle` if the process is out of
/// descriptors; warn now if the last warning is older than [`EVERY`].
pub(crate) fn accept_failed(err: &io::Error, idle: &IdleConns) {
    let out_of_fds = matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
    let shed_now = if out_of_fds { idle.shed(SHED_BATCH) } else { 0 };
    let now = Instant::now();
    let (folded, shed) = {
        let mut state = STATE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &mut *state {
            Some((last, folded, shed)) if now.duration_since(*last) < EVERY => {
                *folded += 1;
                *shed += shed_now;
                return;
            }
            Some((last, folded, shed)) => {
                let counts = (*folded, *shed + shed_now);
                (*last, *folded, *shed) = (now, 0, 0);
                counts
            }
            None => {
                *state = Some((now, 0, 0));
                (0, shed_now)
            }
        }
    };
    let hint = if err.raw_os_error() == Some(libc::EMFILE) {
        " (out of file descriptors: raise `ulimit -n`)"
    } else {
        ""
    };
    tracing::warn!(%err, repeated = folded, idle_shed = shed, "accept failed, backing off{hint}");
}
