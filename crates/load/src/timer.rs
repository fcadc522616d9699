//! A timerfd in the worker's epoll set, so open-loop sends wake at their intended time to the
//! microsecond: `epoll_wait` alone rounds its timeout up to whole milliseconds, which would add
//! up to 1 ms of the client's own lateness to every corrected latency.

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

#[derive(Debug)]
pub struct PreciseTimer {
    fd: OwnedFd,
    /// The time it is armed for, to skip re-arming for the same deadline.
    armed: Option<Instant>,
}

impl PreciseTimer {
    pub fn new(registry: &Registry, token: Token) -> io::Result<Self> {
        // SAFETY: plain syscall; the result is checked before use.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
        Ok(Self { fd, armed: None })
    }

    /// Arms the timer to fire at `at` (relative to `now`), unless it already is.
    pub fn arm(&mut self, at: Instant, now: Instant) {
        if self.armed == Some(at) {
            return;
        }
        // A zero it_value would disarm the timer: fire after at least 1 ns.
        let wait = at
            .saturating_duration_since(now)
            .max(std::time::Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: wait.as_secs() as libc::time_t,
                tv_nsec: libc::c_long::from(wait.subsec_nanos() as i32),
            },
        };
        // SAFETY: a valid timerfd and a valid itimerspec; the old value is not wanted.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        self.armed = (rc == 0).then_some(at);
    }

    /// Consumes an expiry after its event (edge-triggered: the count must be read to re-arm).
    pub fn fired(&mut self) {
        let mut count = [0u8; 8];
        // SAFETY: reading 8 bytes into an 8-byte buffer from our own non-blocking fd.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), count.as_mut_ptr().cast(), count.len()) };
        self.armed = None;
    }
}
