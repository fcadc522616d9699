//! Per-request spans with the OS thread that ran them: the data behind the chapter's Fig 3
//! ("concurrency interleaves tasks on one core, parallelism runs them on separate cores").
//!
//! # Brief overview
//! - Off by default. [`enable`] (the server's `--trace`) turns recording on; while off, every
//!   recording call is one relaxed atomic load and a branch.
//! - [`Traced`] / [`traced`] / [`begin`]: wrap a request's future. It gets a [`RequestId`],
//!   a `Request` span (first poll to completion) and one `Run` span per poll, with the
//!   polling thread's tid: the polls are exactly the sections where the request ran on a
//!   thread. During each poll its id is [`current`] on that thread.
//! - Code deeper in the call (the backend) records waits for the current request:
//!   [`wait`] (a guard; the span ends when it drops) or [`record_wait`] (explicit times).
//! - [`offload`] records CPU work run on another thread (a blocking pool) under an id
//!   captured on the calling side, with the pool thread's tid.
//! - [`snapshot`] / [`snapshot_json`]: what `GET /debug/trace?since=T` serves.
//! - [`gettid`]: the OS thread id, for other crates too.
//!
//! # Time base
//! Microseconds since an epoch `Instant` taken at the first [`enable`];
//! [`Snapshot::epoch_unix_us`] is that epoch on the Unix clock, so a client can align spans
//! with its own timestamps.
//!
//! # Memory
//! Each recording thread has its own bounded ring (see `store.rs` for why); a thread that
//! exits moves its spans into one shared bounded "retired" ring and leaves the registry. The
//! target is "the last 10,000 requests": a request through the backend records about six
//! spans (`Request`, two to three `Run`s, two waits for `/users/{id}`; `/plaintext` two, the
//! dashboard about fifteen), so about 60,000 spans. [`RingConfig::DEFAULT`] therefore
//! shares a budget of 65,536 spans among the live threads (each ring holds
//! `live_spans / threads`, but at least 1,024, so a thread-per-connection server with many
//! threads still keeps each connection's recent requests), and keeps 65,536 spans of exited
//! threads. Memory is bounded by about
//! `(max(live_spans, threads × min_per_thread) + retired) × (size_of::<Span>() ≈ 56 B)`
//! plus one label (≤ 64 bytes) per `Request` span: about 8 MiB with the defaults and up to
//! 64 threads. When a ring is full the oldest span goes and [`Snapshot::dropped`] counts
//! it; since rings fill at different rates, the oldest part of a snapshot may lack the
//! spans of the busiest thread.
//!
//! # Stackful coroutines (`may`): the current-request hazard
//! [`current`] is an OS-thread-local. In a stackful-coroutine model a backend wait blocks
//! *inside* one poll: the coroutine yields to its scheduler, the carrier thread runs other
//! coroutines (whose polls set *their* ids current on that thread), and the coroutine may
//! resume on a different carrier, whose thread-local holds some other coroutine's id or
//! none. After such a wait, [`current`] is therefore wrong. Two ways out:
//! - [`wait`]'s guard captures the id when created and sets it current again when dropped
//!   (on whichever thread that is), so guard-style waits are safe as they are;
//! - otherwise capture `let id = current()` before the blocking call and
//!   [`set_current`]`(id)` after it.
//!
//! [`record_wait`] reads [`current`] when called, i.e. after the wait: in a coroutine model
//! only call it after restoring the id. A `Run` span of such a poll covers the blocking
//! waits in it and carries the tid of the thread that began the poll; its wait spans carry
//! the tid that was running the request when each ended, which shows where it resumed.
//! When a poll ends, the id that was current before it is restored on the thread it ended
//! on.

mod future;
mod span;
mod store;

#[cfg(test)]
mod tests;

pub use future::{TraceStart, Traced};
pub use span::{RequestId, Snapshot, Span, SpanKind, WaitKind};

use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Longest `Request` label kept, in bytes (cut on a char boundary).
pub const MAX_LABEL: usize = 64;

/// How many spans are kept; see the crate docs' "Memory" section for the defaults' reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Spans shared among the live threads' rings: each holds `live_spans / threads`.
    pub live_spans: usize,
    /// The least a live thread's ring holds, however many threads there are.
    pub min_per_thread: usize,
    /// Spans kept from threads that have exited.
    pub retired: usize,
}

impl RingConfig {
    /// About the last 10,000 requests (≈ 6 spans each) live, and as many from exited threads.
    pub const DEFAULT: Self = Self {
        live_spans: 65_536,
        min_per_thread: 1_024,
        retired: 65_536,
    };
}

impl Default for RingConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Debug)]
struct Epoch {
    instant: Instant,
    unix_us: u64,
}

/// Set once, at the first `enable`: spans from before and after a disable/enable cycle stay
/// on one time base.
static EPOCH: OnceLock<Epoch> = OnceLock::new();

/// Turn recording on with `config` (a later call only changes the config; the epoch stays).
pub fn enable(config: RingConfig) {
    EPOCH.get_or_init(|| Epoch {
        instant: Instant::now(),
        unix_us: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| saturating_us(d.as_micros())),
    });
    store::configure(config);
    store::ENABLED.store(true, Ordering::Release);
}

/// Turn recording off. Spans already recorded stay readable.
pub fn disable() {
    store::ENABLED.store(false, Ordering::Release);
}

/// Whether recording is on: one relaxed load, the check every recording call starts with.
#[inline]
pub fn is_enabled() -> bool {
    store::ENABLED.load(Ordering::Relaxed)
}

/// The calling OS thread's id (`gettid(2)`), as in `/proc/<pid>/task/<tid>`.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// The request the calling thread is running now, if any (see the crate docs for why this
/// is wrong after a blocking wait in a stackful-coroutine model).
pub fn current() -> Option<RequestId> {
    store::LOCAL.try_with(|l| l.current.get()).unwrap_or(None)
}

/// Make `id` the calling thread's current request: restore one captured with [`current`]
/// before a wait that may resume on another thread.
pub fn set_current(id: Option<RequestId>) {
    future::swap_current(id);
}

/// Start tracing a request labelled `label()` (a route, or the path: cut to [`MAX_LABEL`]
/// bytes). `None`, without calling `label`, when tracing is off. Pass it to [`Traced::new`].
#[inline]
pub fn begin<L: AsRef<str>>(label: impl FnOnce() -> L) -> Option<TraceStart> {
    if !is_enabled() {
        return None;
    }
    Some(TraceStart::new(label().as_ref()))
}

/// Wrap a request future labelled `label`: [`begin`] and [`Traced::new`] in one.
pub fn traced<F: std::future::Future>(label: &str, fut: F) -> Traced<F> {
    Traced::new(begin(|| label), fut)
}

/// Record a wait of the current request from `start` to `end`, with the calling thread's
/// tid. Nothing when off or when no request is current.
#[inline]
pub fn record_wait(what: WaitKind, start: Instant, end: Instant) {
    if !is_enabled() {
        return;
    }
    if let Some(id) = current() {
        record_wait_span(id, what, start, end);
    }
}

fn record_wait_span(request: RequestId, what: WaitKind, start: Instant, end: Instant) {
    record(Span {
        request,
        kind: SpanKind::Wait { what },
        tid: store::current_tid(),
        start_us: span_us(start),
        end_us: span_us(end),
    });
}

/// Start a wait of the current request; the span is recorded when the guard drops. The
/// guard also makes the request current again on the thread that drops it, which makes it
/// safe across a coroutine migrating to another carrier thread. Drop it in the request
/// that created it (not in a task spawned off it).
#[inline]
pub fn wait(what: WaitKind) -> WaitGuard {
    if !is_enabled() {
        return WaitGuard { armed: None };
    }
    WaitGuard {
        armed: current().map(|id| (id, what, Instant::now())),
    }
}

/// Records a wait span when dropped; see [`wait`].
#[derive(Debug)]
#[must_use = "the wait ends when the guard is dropped; bind it with `let _w = ...`"]
pub struct WaitGuard {
    armed: Option<(RequestId, WaitKind, Instant)>,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        if let Some((id, what, start)) = self.armed.take() {
            set_current(Some(id));
            record_wait_span(id, what, start, Instant::now());
        }
    }
}

/// Run `work` on this thread as CPU work of request `id` (captured with [`current`] on the
/// thread that handed the work over): records a `Cpu` span with this thread's tid, and
/// makes `id` current meanwhile. Returns `work`'s result; just runs it when off or `None`.
///
/// ```
/// let id = clab_trace::current(); // on the request's thread
/// let out = std::thread::spawn(move || clab_trace::offload(id, || 6 * 7)).join();
/// assert_eq!(out.ok(), Some(42));
/// ```
#[inline]
pub fn offload<R>(id: Option<RequestId>, work: impl FnOnce() -> R) -> R {
    match id {
        Some(id) if is_enabled() => {
            let mut section = future::Section::enter(id, true);
            let out = work();
            section.close();
            out
        }
        _ => work(),
    }
}

/// Spans ending after `since_us` (from every live thread and the retired ring), sorted by
/// start. Takes each ring's lock briefly; meant for a debug endpoint, not a hot path.
pub fn snapshot(since_us: u64) -> Snapshot {
    store::snapshot(since_us)
}

/// [`snapshot`] as JSON: `{"enabled","epoch_unix_us","now_us","dropped","spans":[…]}`.
pub fn snapshot_json(since_us: u64) -> String {
    // Serialising plain structs of numbers and strings cannot fail.
    serde_json::to_string(&snapshot(since_us)).unwrap_or_else(|e| {
        let msg = serde_json::to_string(&e.to_string()).unwrap_or_default();
        format!("{{\"error\":{msg}}}")
    })
}

/// Store a span unless recording was turned off meanwhile.
fn record(span: Span) {
    if is_enabled() {
        store::push(span);
    }
}

fn saturating_us(us: u128) -> u64 {
    u64::try_from(us).unwrap_or(u64::MAX)
}

/// `t` on the span clock (0 before the epoch or when never enabled).
fn span_us(t: Instant) -> u64 {
    EPOCH.get().map_or(0, |e| {
        saturating_us(t.saturating_duration_since(e.instant).as_micros())
    })
}

fn now_us(epoch: &Epoch) -> u64 {
    saturating_us(epoch.instant.elapsed().as_micros())
}
