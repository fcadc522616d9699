//! [`EventFd`]: a Linux eventfd, the one way a blocking thread asleep in `poll(2)` is woken by
//! another thread (the shutdown trigger, a connection joining the thread-pool queue, a socket
//! handed to the lingering thread).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Non-blocking and close-on-exec. Readable while its counter is above zero.
#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: eventfd takes no pointers; a non-negative return is a new fd we own.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(raw) }))
    }

    /// Make it readable (add 1 to the counter); it stays readable until [`EventFd::drain`].
    pub(crate) fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd we own; failure (counter
        // overflow, impossible here) only means it is already readable.
        unsafe { libc::write(self.raw(), (&raw const one).cast(), 8) };
    }

    /// Reset the counter to zero: not readable until the next [`EventFd::signal`].
    pub(crate) fn drain(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64; EAGAIN (already zero) is fine.
        unsafe { libc::read(self.raw(), (&raw mut count).cast(), 8) };
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}
