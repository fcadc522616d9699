//! Groups of idle units: threads or coroutines that start, optionally touch some stack, then
//! park until released. The memory probe measures what they cost; the limit probe creates them
//! until the system refuses. Dropping a group always releases and joins its units, so a probe
//! that stops early never leaves threads behind.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of one page, as far as the stack toucher is concerned.
pub const PAGE: usize = 4096;

/// Write `pages` pages of the calling thread's stack (one page-sized frame per recursion level),
/// so a test can check that the memory probe sees them as RSS.
#[inline(never)]
pub fn touch_stack(pages: usize) -> u8 {
    if pages == 0 {
        return 0;
    }
    // Initialised in place and handed to black_box by reference: the frame holds one page,
    // really written, and no copy of it.
    let mut page = [pages as u8; PAGE];
    std::hint::black_box(&mut page);
    touch_stack(pages - 1).wrapping_add(page[PAGE / 2])
}

/// Name of the threads a [`ParkedThreads`] group starts (visible in `/proc/self/task/*/comm`).
pub const THREAD_NAME: &str = "clab-parked";

/// Threads of this process named [`THREAD_NAME`] right now.
pub fn parked_threads_alive() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .filter(|comm| comm.trim() == THREAD_NAME)
                .count()
        })
        .unwrap_or(0)
}

/// Shared flags of one group.
#[derive(Debug, Default)]
struct Flags {
    release: AtomicBool,
    started: AtomicUsize,
}

/// Wait (sleeping briefly) until `started` reaches `n`.
fn wait_started(flags: &Flags, n: usize) {
    while flags.started.load(Ordering::Acquire) < n {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// What a group needs of a unit's handle: wake the unit from its park, and wait for it to end.
pub trait ParkedHandle {
    fn unpark(&self);
    fn join(self);
}

impl ParkedHandle for JoinHandle<()> {
    fn unpark(&self) {
        self.thread().unpark();
    }

    fn join(self) {
        // A parked thread cannot panic; if it somehow did, there is nothing left to undo.
        let _ = JoinHandle::join(self);
    }
}

#[cfg(feature = "coroutines")]
impl ParkedHandle for may::coroutine::JoinHandle<()> {
    fn unpark(&self) {
        self.coroutine().unpark();
    }

    fn join(self) {
        let _ = may::coroutine::JoinHandle::join(self);
    }
}

/// A group of units that park until released: the bookkeeping is the same for threads and
/// coroutines; only how a unit is started differs ([`ParkedThreads::spawn`],
/// [`ParkedCoroutines::spawn`]).
#[derive(Debug)]
pub struct Parked<H: ParkedHandle> {
    handles: Vec<H>,
    flags: Arc<Flags>,
}

/// OS threads parked with `std::thread::park`.
pub type ParkedThreads = Parked<JoinHandle<()>>;

/// may coroutines parked with `may::coroutine::park`.
#[cfg(feature = "coroutines")]
pub type ParkedCoroutines = Parked<may::coroutine::JoinHandle<()>>;

impl<H: ParkedHandle> Parked<H> {
    /// An empty group; reserving the handle vector up front keeps it out of RSS deltas.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            handles: Vec::with_capacity(n),
            flags: Arc::default(),
        }
    }

    /// Units in the group.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// True when no unit was started.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Block until every unit of the group has started and is about to park.
    pub fn wait_parked(&self) {
        wait_started(&self.flags, self.handles.len());
    }

    /// Release and join every unit.
    pub fn release(&mut self) {
        self.flags.release.store(true, Ordering::Release);
        for handle in &self.handles {
            handle.unpark();
        }
        for handle in self.handles.drain(..) {
            handle.join();
        }
    }
}

impl<H: ParkedHandle> Drop for Parked<H> {
    fn drop(&mut self) {
        self.release();
    }
}

impl ParkedThreads {
    /// Start one thread (`stack`: bytes, `None` = std's default) that touches `touch_pages`
    /// pages of its stack, then parks.
    pub fn spawn(&mut self, stack: Option<usize>, touch_pages: usize) -> io::Result<()> {
        let flags = self.flags.clone();
        let mut builder = std::thread::Builder::new().name(THREAD_NAME.to_owned());
        if let Some(bytes) = stack {
            builder = builder.stack_size(bytes);
        }
        let handle = builder.spawn(move || {
            std::hint::black_box(touch_stack(touch_pages));
            flags.started.fetch_add(1, Ordering::AcqRel);
            while !flags.release.load(Ordering::Acquire) {
                std::thread::park();
            }
        })?;
        self.handles.push(handle);
        Ok(())
    }
}

#[cfg(feature = "coroutines")]
impl ParkedCoroutines {
    /// Start one coroutine that parks until released. The error is may's message (it reports
    /// a failed stack `mmap` as a panic, which [`super::coroutine::spawn`] catches).
    pub fn spawn(&mut self) -> Result<(), String> {
        let flags = self.flags.clone();
        let handle = super::coroutine::spawn(move || {
            flags.started.fetch_add(1, Ordering::AcqRel);
            while !flags.release.load(Ordering::Acquire) {
                may::coroutine::park();
            }
        })?;
        self.handles.push(handle);
        Ok(())
    }
}
