//! Where spans live: one bounded ring per recording thread, a global registry of the rings
//! for the reader, and one shared "retired" ring for the spans of threads that have exited.
//!
//! Why per-thread rings: a span is recorded on every poll, so a global lock would be taken
//! by every worker for every request and become the contended cache line the experiment
//! measures. Each ring's `Mutex` is taken by its own thread (uncontended: a lock and an
//! unlock, no syscall) and, rarely, by the reader.
//!
//! Lock order, everywhere: `REGISTRY`, then a ring, then `RETIRED`. A recording thread
//! takes only its own ring, except on its first span (registry) and at exit (all three).

use crate::span::{Snapshot, Span};
use crate::{RingConfig, now_us};
use std::cell::{Cell, OnceCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub(crate) static ENABLED: AtomicBool = AtomicBool::new(false);

/// Capacity of each live thread's ring, recomputed whenever the thread count or the config
/// changes, so the hot path reads one atomic instead of dividing.
static PER_THREAD_CAP: AtomicUsize = AtomicUsize::new(RingConfig::DEFAULT.min_per_thread);
static RETIRED_CAP: AtomicUsize = AtomicUsize::new(RingConfig::DEFAULT.retired);
/// The config in force, for recomputing `PER_THREAD_CAP`; written under `REGISTRY`.
static LIVE_SPANS: AtomicUsize = AtomicUsize::new(RingConfig::DEFAULT.live_spans);
static MIN_PER_THREAD: AtomicUsize = AtomicUsize::new(RingConfig::DEFAULT.min_per_thread);

static REGISTRY: Mutex<Vec<Arc<Ring>>> = Mutex::new(Vec::new());
static RETIRED: Mutex<Spans> = Mutex::new(Spans::new());

/// A poisoned lock only means a thread panicked while holding it; a half-pushed `VecDeque`
/// is still a valid `VecDeque`, and tracing must never turn one panic into many.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Spans {
    spans: VecDeque<Span>,
    /// Spans this ring overwrote.
    dropped: u64,
}

impl Spans {
    const fn new() -> Self {
        Self {
            spans: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Append, overwriting the oldest spans beyond `cap`.
    fn push(&mut self, span: Span, cap: usize) {
        let cap = cap.max(1);
        if self.spans.len() >= cap {
            // Usually exactly one: pop_front is cheaper than a `drain` for that.
            while self.spans.len() >= cap {
                self.spans.pop_front();
                self.dropped += 1;
            }
            // The cap shrinks when threads are added; give memory back once it is far off,
            // so the overall bound holds for allocations too, not only for lengths.
            if self.spans.capacity() > 2 * cap {
                self.spans.shrink_to(cap);
            }
        }
        self.spans.push_back(span);
    }
}

#[derive(Debug)]
struct Ring {
    spans: Mutex<Spans>,
}

/// The thread-local half: this thread's ring (registered on its first span), its cached tid,
/// and the request it is running now.
pub(crate) struct Local {
    ring: OnceCell<Arc<Ring>>,
    /// `gettid` is a real syscall (not in the vDSO); read it once per thread. 0 = not yet.
    tid: Cell<i32>,
    pub(crate) current: Cell<Option<crate::RequestId>>,
}

impl Drop for Local {
    /// The thread is exiting: keep its spans (a thread-per-connection model exits a thread
    /// per connection, and those are the requests we want to see) but drop the ring from the
    /// registry so the registry only ever holds live threads.
    fn drop(&mut self) {
        if let Some(ring) = self.ring.get() {
            retire(ring);
        }
    }
}

thread_local! {
    pub(crate) static LOCAL: Local = const {
        Local { ring: OnceCell::new(), tid: Cell::new(0), current: Cell::new(None) }
    };
}

impl Local {
    pub(crate) fn tid(&self) -> i32 {
        let tid = self.tid.get();
        if tid != 0 {
            return tid;
        }
        let tid = crate::gettid();
        self.tid.set(tid);
        tid
    }

    fn ring(&self) -> &Arc<Ring> {
        self.ring.get_or_init(register)
    }
}

/// The calling thread's tid, cached; falls back to the syscall while the thread exits.
pub(crate) fn current_tid() -> i32 {
    LOCAL
        .try_with(Local::tid)
        .unwrap_or_else(|_| crate::gettid())
}

/// Store a finished span in the calling thread's ring.
pub(crate) fn push(span: Span) {
    let cap = PER_THREAD_CAP.load(Ordering::Relaxed);
    let mut slot = Some(span);
    let _ = LOCAL.try_with(|l| {
        if let Some(span) = slot.take() {
            lock(&l.ring().spans).push(span, cap);
        }
    });
    if let Some(span) = slot {
        // Recorded from another thread-local's destructor after ours is gone: rare, so the
        // shared ring's lock is fine.
        lock(&RETIRED).push(span, RETIRED_CAP.load(Ordering::Relaxed));
    }
}

fn register() -> Arc<Ring> {
    let ring = Arc::new(Ring {
        spans: Mutex::new(Spans::new()),
    });
    let mut registry = lock(&REGISTRY);
    registry.push(Arc::clone(&ring));
    update_cap(registry.len());
    ring
}

fn retire(ring: &Arc<Ring>) {
    let mut registry = lock(&REGISTRY);
    registry.retain(|r| !Arc::ptr_eq(r, ring));
    update_cap(registry.len());
    let mut mine = lock(&ring.spans);
    let mut retired = lock(&RETIRED);
    let cap = RETIRED_CAP.load(Ordering::Relaxed);
    retired.dropped += mine.dropped;
    for span in mine.spans.drain(..) {
        retired.push(span, cap);
    }
}

/// Called with `REGISTRY` held (so thread count and config are read consistently).
fn update_cap(threads: usize) {
    let live = LIVE_SPANS.load(Ordering::Relaxed);
    let min = MIN_PER_THREAD.load(Ordering::Relaxed);
    let cap = (live / threads.max(1)).max(min);
    PER_THREAD_CAP.store(cap, Ordering::Relaxed);
}

pub(crate) fn configure(config: RingConfig) {
    let registry = lock(&REGISTRY);
    LIVE_SPANS.store(config.live_spans, Ordering::Relaxed);
    MIN_PER_THREAD.store(config.min_per_thread, Ordering::Relaxed);
    RETIRED_CAP.store(config.retired, Ordering::Relaxed);
    update_cap(registry.len());
}

/// Threads with a registered ring (live threads that have recorded a span).
#[cfg(test)]
pub(crate) fn registered_threads() -> usize {
    lock(&REGISTRY).len()
}

pub(crate) fn snapshot(since_us: u64) -> Snapshot {
    let mut spans = Vec::new();
    let mut dropped = 0;
    let keep = |s: &&Span| s.end_us > since_us;
    {
        // Holding the registry for the whole read means a thread cannot retire (move its
        // spans to RETIRED) halfway through it: no span is missed or counted twice. It only
        // delays thread exits and first spans by the length of one copy.
        let registry = lock(&REGISTRY);
        for ring in registry.iter() {
            let ring = lock(&ring.spans);
            dropped += ring.dropped;
            spans.extend(ring.spans.iter().filter(keep).cloned());
        }
        let retired = lock(&RETIRED);
        dropped += retired.dropped;
        spans.extend(retired.spans.iter().filter(keep).cloned());
    }
    spans.sort_by_key(|s| (s.start_us, s.end_us, s.request));
    let (epoch_unix_us, now) = match crate::EPOCH.get() {
        Some(epoch) => (epoch.unix_us, now_us(epoch)),
        None => (0, 0),
    };
    Snapshot {
        enabled: ENABLED.load(Ordering::Relaxed),
        epoch_unix_us,
        now_us: now,
        dropped,
        spans,
    }
}
