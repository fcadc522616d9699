//! The request context: [`Traced`] (a request future), and [`Section`], the "this thread is
//! running request X from now until I close" guard behind a poll and an offloaded closure.

use crate::span::{RequestId, Span, SpanKind};
use crate::store::{self, LOCAL};
use crate::{MAX_LABEL, record, span_us};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// Swap the calling thread's current request, returning the previous one.
pub(crate) fn swap_current(id: Option<RequestId>) -> Option<RequestId> {
    LOCAL.try_with(|l| l.current.replace(id)).unwrap_or(None)
}

/// Puts the previous current request back when dropped, so a panic inside a poll (or inside
/// an offloaded closure) cannot leave this thread claiming to run a request it no longer is.
struct Restore(Option<RequestId>);

impl Drop for Restore {
    fn drop(&mut self) {
        swap_current(self.0);
    }
}

/// A section where the calling thread runs request `id`: sets it current, and on close (or
/// on unwind) records a `Run`/`Cpu` span with this thread's tid and restores the previous
/// current request.
pub(crate) struct Section {
    id: RequestId,
    cpu: bool,
    tid: i32,
    start: Instant,
    restore: Option<Restore>,
}

impl Section {
    pub(crate) fn enter(id: RequestId, cpu: bool) -> Self {
        let prev = swap_current(Some(id));
        Self {
            id,
            cpu,
            tid: store::current_tid(),
            start: Instant::now(),
            restore: Some(Restore(prev)),
        }
    }

    /// Record the span and restore the previous current request; returns the end time.
    pub(crate) fn close(&mut self) -> u64 {
        let end = Instant::now();
        let Some(restore) = self.restore.take() else {
            return span_us(end);
        };
        drop(restore);
        let end_us = span_us(end);
        record(Span {
            request: self.id,
            kind: if self.cpu {
                SpanKind::Cpu
            } else {
                SpanKind::Run
            },
            tid: self.tid,
            start_us: span_us(self.start),
            end_us,
        });
        end_us
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        self.close();
    }
}

/// A request id and label captured before the request's future exists (see
/// [`crate::begin`]); `None` from `begin` means tracing is off.
#[derive(Debug)]
pub struct TraceStart {
    id: RequestId,
    label: Option<Box<str>>,
}

impl TraceStart {
    /// A new request id, with `label` cut to [`MAX_LABEL`] bytes (on a char boundary).
    pub fn new(label: &str) -> Self {
        let label =
            (!label.is_empty()).then(|| label[..label.floor_char_boundary(MAX_LABEL)].into());
        Self {
            id: RequestId::next(),
            label,
        }
    }

    pub fn id(&self) -> RequestId {
        self.id
    }
}

#[derive(Debug)]
struct State {
    start: TraceStart,
    /// Start of the first poll, and its thread; `None` until polled.
    first_poll: Option<(u64, i32)>,
    done: bool,
}

impl State {
    fn record_request(&mut self, end_us: u64) {
        let Some((start_us, tid)) = self.first_poll else {
            return;
        };
        self.done = true;
        record(Span {
            request: self.start.id,
            kind: SpanKind::Request {
                label: self.start.label.take(),
            },
            tid,
            start_us,
            end_us,
        });
    }
}

/// A request future that records its `Request` span and one `Run` span per poll, and makes
/// its id [`crate::current`] on the polling thread for the duration of each poll.
///
/// Built with tracing off it holds no state and a poll is a branch and the inner poll.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Traced<F> {
    // ManuallyDrop so `Drop` can drop the inner future while our id is current (a wait
    // guard dropped by a cancelled request then still knows whose wait it was).
    fut: ManuallyDrop<F>,
    state: Option<State>,
}

impl<F: Future> Traced<F> {
    /// Wrap `fut` as the request `start` (from [`crate::begin`]); `None` wraps at no cost.
    pub fn new(start: Option<TraceStart>, fut: F) -> Self {
        Self {
            fut: ManuallyDrop::new(fut),
            state: start.map(|start| State {
                start,
                first_poll: None,
                done: false,
            }),
        }
    }

    /// The request's id, `None` when built with tracing off.
    pub fn id(&self) -> Option<RequestId> {
        self.state.as_ref().map(|s| s.start.id)
    }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut`: it is never moved out of `self` (only dropped
        // in place, in `Drop`), and `Traced` is `Unpin` only when `F` is (auto trait through
        // `ManuallyDrop<F>`). `state` is not pinned and only used by reference.
        let this = unsafe { self.get_unchecked_mut() };
        let fut = unsafe { Pin::new_unchecked(&mut *this.fut) };
        let Some(state) = &mut this.state else {
            return fut.poll(cx);
        };
        let mut section = Section::enter(state.start.id, false);
        if state.first_poll.is_none() {
            state.first_poll = Some((span_us(section.start), section.tid));
        }
        let poll = fut.poll(cx);
        let end_us = section.close();
        if poll.is_ready() {
            state.record_request(end_us);
        }
        poll
    }
}

impl<F> Drop for Traced<F> {
    fn drop(&mut self) {
        let Some(state) = &mut self.state else {
            // SAFETY: `fut` is dropped exactly once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.fut) };
            return;
        };
        {
            let _restore = Restore(swap_current(Some(state.start.id)));
            // SAFETY: as above; dropping in place is allowed for a pinned value.
            unsafe { ManuallyDrop::drop(&mut self.fut) };
        }
        if !state.done {
            // Dropped unfinished (cancelled, client gone): the request still ran until now.
            state.record_request(span_us(Instant::now()));
        }
    }
}
