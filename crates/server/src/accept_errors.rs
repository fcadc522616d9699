//! An `accept` that fails (EMFILE: the process is out of file descriptors; ENFILE, ENOBUFS)
//! fails again at every retry until descriptors free up: every model backs off
//! (`ACCEPT_BACKOFF`) and retries, which would log a warning a hundred times a second. This
//! is the one place every model reports it: the first failure at once, then at most one line
//! per [`EVERY`] saying how many were folded into it, so an operator sees that the server is
//! out of descriptors without the log drowning everything else.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one warning per this long.
pub(crate) const EVERY: Duration = Duration::from_secs(1);

/// When the last warning went out, and the failures since.
static STATE: Mutex<Option<(Instant, u64)>> = Mutex::new(None);

/// Record a failed `accept`; warn now if the last warning is older than [`EVERY`].
pub(crate) fn accept_failed(err: &io::Error) {
    let now = Instant::now();
    let folded = {
        let mut state = STATE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &mut *state {
            Some((last, folded)) if now.duration_since(*last) < EVERY => {
                *folded += 1;
                return;
            }
            Some((last, folded)) => {
                let n = *folded;
                (*last, *folded) = (now, 0);
                n
            }
            None => {
                *state = Some((now, 0));
                0
            }
        }
    };
    let hint = if err.raw_os_error() == Some(libc::EMFILE) {
        " (out of file descriptors: raise `ulimit -n`)"
    } else {
        ""
    };
    tracing::warn!(%err, repeated = folded, "accept failed, backing off{hint}");
}
