//! What is recorded: [`Span`]s, their kinds, request ids, and the [`Snapshot`] a reader gets.

use serde::{Deserialize, Serialize};
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies one request across all its spans. Non-zero so `Option<RequestId>` is 8 bytes
/// (it sits in a thread-local `Cell` read on every recorded wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(NonZeroU64);

/// Process-wide source of ids. Relaxed: ids only need to be unique, not ordered with anything.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl RequestId {
    /// A fresh id, unique in this process.
    pub fn next() -> Self {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        // Starts at 1 and would need 2^64 requests to wrap to 0.
        Self(NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN))
    }

    pub fn get(self) -> u64 {
        self.0.get()
    }
}

/// What a request was waiting for. `#[non_exhaustive]`: models and backends will add more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WaitKind {
    /// A database query (including waiting for a pooled connection).
    Db,
    /// A cache (Redis) call.
    Cache,
    /// A call to an upstream service.
    Upstream,
    /// A simulated network round trip.
    RoundTrip,
    /// Anything else a request blocks or awaits on.
    Other,
}

/// The kind of a span; serialised flat into the span as `"kind"` (+ `"what"` / `"label"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpanKind {
    /// The whole request: first poll to completion (or to being dropped unfinished).
    /// `tid` is the thread of the first poll.
    Request {
        /// The route or path the server passed, at most [`crate::MAX_LABEL`] bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<Box<str>>,
    },
    /// One poll of the request's future: a section where it ran on thread `tid`.
    Run,
    /// A wait; `tid` is the thread that was running the request when the wait ended.
    Wait { what: WaitKind },
    /// CPU work offloaded to another thread (a blocking pool); `tid` is that thread.
    Cpu,
}

/// One interval of one request on one OS thread. Times are microseconds since the epoch
/// captured by the first [`crate::enable`]; see [`Snapshot::epoch_unix_us`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub request: RequestId,
    #[serde(flatten)]
    pub kind: SpanKind,
    /// OS thread id (`gettid`), as in `/proc/<pid>/task/<tid>`.
    pub tid: i32,
    pub start_us: u64,
    pub end_us: u64,
}

/// What [`crate::snapshot`] returns and `GET /debug/trace` serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Whether recording is on now (spans recorded before a [`crate::disable`] still show).
    pub enabled: bool,
    /// The epoch (`start_us == 0`) as microseconds since the Unix epoch, read once at the
    /// first `enable`, so a client can place the spans on its own wall clock. 0 if tracing
    /// was never enabled.
    pub epoch_unix_us: u64,
    /// Now, on the span clock: the right edge of the picture.
    pub now_us: u64,
    /// Spans overwritten (oldest first) since the process started because a ring was full.
    /// Non-zero means the oldest part of `spans` may miss some threads' spans.
    pub dropped: u64,
    /// Spans ending after the `since` asked for, sorted by start.
    pub spans: Vec<Span>,
}
