//! `poll(2)` for the blocking drivers: wait until one of a few fds is ready or a deadline
//! passes. The one place a blocking thread sleeps on sockets.
//!
//! Why poll and not a blocking `read` with `SO_RCVTIMEO`: a thread blocked in `read` cannot be
//! told that the server is draining, so it has to wake on a tick to look (which a server at
//! rest pays as context switches). In `poll` it also waits on [`crate::Shutdown::wake_fd`] and
//! sleeps until something really happens.

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

/// Readable (or hung up / in error, which a following read reports).
pub(crate) const IN: libc::c_short = libc::POLLIN;
/// Writable.
pub(crate) const OUT: libc::c_short = libc::POLLOUT;

/// Wait until one of `fds` (fd, events) is ready or `until` passes (`None`: no deadline).
/// Returns, per fd, whether it is ready; all `false` means the deadline passed.
pub(crate) fn wait<const N: usize>(
    fds: [(RawFd, libc::c_short); N],
    until: Option<Instant>,
) -> io::Result<[bool; N]> {
    let mut set = fds.map(|(fd, events)| libc::pollfd {
        fd,
        events,
        revents: 0,
    });
    wait_set(&mut set, until)?;
    Ok(set.map(|p| p.revents != 0))
}

/// [`wait`] over a set of any length (the lingering thread watches thousands): on return each
/// entry's `revents` says whether it is ready (non-zero) or not.
pub(crate) fn wait_set(set: &mut [libc::pollfd], until: Option<Instant>) -> io::Result<()> {
    loop {
        let timeout = match until {
            None => -1,
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                // Round up: a deadline 0.4 ms away must not become a busy 0 ms poll.
                let ms = left.as_micros().div_ceil(1000);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        };
        let nfds = libc::nfds_t::try_from(set.len()).unwrap_or(libc::nfds_t::MAX);
        // SAFETY: `set` is an initialised slice of pollfds that outlives the call.
        let rc = unsafe { libc::poll(set.as_mut_ptr(), nfds, timeout) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        // A negative fd is ignored by poll(2); its revents stay 0.
        if rc == 0 && until.is_some_and(|u| Instant::now() < u) {
            continue; // woke a hair early (ms rounding): wait the rest
        }
        return Ok(());
    }
}

/// "No fd" for a slot of [`wait`]'s set that is not in use this time.
pub(crate) const NONE: RawFd = -1;
