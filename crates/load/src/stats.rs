//! What a worker records: HDR histograms of latency (corrected and uncorrected), status codes,
//! errors by kind, bytes, and a per-second timeline. Fixed-size state per worker, merged once at
//! the end, so memory does not grow with the number of requests.

use crate::coarse::CoarseHistogram;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Latencies are recorded in microseconds, up to one hour, to 3 significant digits.
const MAX_MICROS: u64 = 3_600_000_000;

/// Errors by kind. Every failed request lands in exactly one counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// A connection could not be established (refused, unreachable, no ports, no fds).
    pub connect: u64,
    /// No complete response within `--timeout` of the send.
    pub timeout: u64,
    /// The connection was reset (ECONNRESET, EPIPE) with the request in flight.
    pub reset: u64,
    /// The response could not be parsed.
    pub bad_response: u64,
    /// The server closed the connection (EOF) with the request in flight.
    pub closed: u64,
    /// Open loop: intended before the end of the run but never sent, because its connection
    /// was still busy with earlier requests (or reconnecting). Each one's wait, from its
    /// intended time to the end of the run, is in the corrected latency.
    pub not_sent: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.reset + self.bad_response + self.closed + self.not_sent
    }

    fn add(&mut self, o: &Self) {
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.reset += o.reset;
        self.bad_response += o.bad_response;
        self.closed += o.closed;
        self.not_sent += o.not_sent;
    }
}

/// The kinds of [`ErrorCounts`], for recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Connect,
    Timeout,
    Reset,
    BadResponse,
    Closed,
    NotSent,
}

/// One second of the timeline (seconds counted from the end of the warmup).
#[derive(Debug, Clone, Default)]
pub struct Second {
    pub responses: u64,
    pub errors: u64,
    /// Corrected latency in open loop, the send-to-response latency in closed loop.
    pub latency: CoarseHistogram,
    /// Open loop only: the send-to-response latency (what a closed-loop tool would report).
    pub uncorrected: CoarseHistogram,
}

/// One worker's recordings; [`Recorder::merge`] folds them together.
#[derive(Debug, Clone)]
pub struct Recorder {
    measure_start: Instant,
    /// From the send (what the server took once it had the request).
    pub uncorrected: Histogram<u64>,
    /// From the intended send time (open loop only: includes waiting to be sent).
    pub corrected: Histogram<u64>,
    /// Counts by status code (index = status, 100..=599; others land in 0).
    statuses: Vec<u64>,
    pub errors: ErrorCounts,
    pub responses: u64,
    pub body_bytes: u64,
    /// Connections (re-)established and connection attempts that failed.
    pub connects: u64,
    pub timeline: Vec<Second>,
    /// When the last recorded request finished.
    pub last_completion: Option<Instant>,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 1 h at 3 significant digits: a few hundred KiB, fixed.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant histogram bounds are valid")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_MICROS)
}

impl Recorder {
    pub fn new(measure_start: Instant) -> Self {
        Self {
            measure_start,
            uncorrected: new_histogram(),
            corrected: new_histogram(),
            statuses: vec![0; 600],
            errors: ErrorCounts::default(),
            responses: 0,
            body_bytes: 0,
            connects: 0,
            timeline: Vec::new(),
            last_completion: None,
        }
    }

    fn second(&mut self, at: Instant) -> &mut Second {
        let index = at.saturating_duration_since(self.measure_start).as_secs() as usize;
        if self.timeline.len() <= index {
            self.timeline.resize_with(index + 1, Second::default);
        }
        &mut self.timeline[index]
    }

    /// Records a response. `intended` is the open-loop intended send time (`None` in closed
    /// loop, where corrected and uncorrected are the same thing).
    pub fn response(
        &mut self,
        status: u16,
        body_len: u64,
        intended: Option<Instant>,
        sent: Instant,
        done: Instant,
    ) {
        let uncorrected = micros(done.saturating_duration_since(sent));
        let _ = self.uncorrected.record(uncorrected);
        let corrected = intended.map(|t| {
            let c = micros(done.saturating_duration_since(t));
            let _ = self.corrected.record(c);
            c
        });
        let slot = if (100..600).contains(&status) {
            status as usize
        } else {
            0
        };
        self.statuses[slot] += 1;
        self.responses += 1;
        self.body_bytes += body_len;
        self.last_completion = Some(done);
        let second = self.second(done);
        second.responses += 1;
        second.latency.record(corrected.unwrap_or(uncorrected));
        if corrected.is_some() {
            second.uncorrected.record(uncorrected);
        }
    }

    pub fn error(&mut self, kind: ErrorKind, at: Instant) {
        let c = &mut self.errors;
        match kind {
            ErrorKind::Connect => c.connect += 1,
            ErrorKind::Timeout => c.timeout += 1,
            ErrorKind::Reset => c.reset += 1,
            ErrorKind::BadResponse => c.bad_response += 1,
            ErrorKind::Closed => c.closed += 1,
            ErrorKind::NotSent => c.not_sent += 1,
        }
        self.last_completion = Some(at);
        self.second(at).errors += 1;
    }

    /// An open-loop request intended at `intended` that was never sent before `end`: counted
    /// as an error, and its wait until `end` recorded as its corrected latency (a lower bound
    /// of what it would have been), so a server that fell behind cannot look healthy.
    pub fn not_sent(&mut self, intended: Instant, end: Instant) {
        let waited = micros(end.saturating_duration_since(intended));
        let _ = self.corrected.record(waited);
        self.errors.not_sent += 1;
        let second = self.second(intended);
        second.errors += 1;
        second.latency.record(waited);
    }

    /// Status codes with their counts, ascending (code 0 = outside 100..=599).
    pub fn status_counts(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(s, c)| (s as u16, *c))
    }

    /// Folds `other` into `self`.
    pub fn merge(&mut self, other: &Self) {
        // Both histograms have identical bounds, so `add` cannot fail.
        let _ = self.uncorrected.add(&other.uncorrected);
        let _ = self.corrected.add(&other.corrected);
        for (a, b) in self.statuses.iter_mut().zip(&other.statuses) {
            *a += b;
        }
        self.errors.add(&other.errors);
        self.responses += other.responses;
        self.body_bytes += other.body_bytes;
        self.connects += other.connects;
        if self.timeline.len() < other.timeline.len() {
            self.timeline
                .resize_with(other.timeline.len(), Second::default);
        }
        for (a, b) in self.timeline.iter_mut().zip(&other.timeline) {
            a.responses += b.responses;
            a.errors += b.errors;
            a.latency.add(&b.latency);
            a.uncorrected.add(&b.uncorrected);
        }
        self.last_completion = self.last_completion.max(other.last_completion);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_gives_exact_percentiles() {
        let t0 = Instant::now();
        let mut a = Recorder::new(t0);
        let mut b = Recorder::new(t0);
        // Worker a: 1..=500 ms; worker b: 501..=1000 ms (sent at t0, finished k ms later).
        for k in 1..=1000u64 {
            let r = if k <= 500 { &mut a } else { &mut b };
            r.response(200, 10, None, t0, t0 + Duration::from_millis(k));
        }
        b.response(503, 0, None, t0, t0 + Duration::from_millis(1));
        b.error(ErrorKind::Timeout, t0 + Duration::from_secs(2));
        a.merge(&b);
        let h = &a.uncorrected;
        assert_eq!(h.len(), 1001);
        // Values are µs; 3 significant digits means these are exact to the unit of 1 ms here.
        assert_eq!(h.value_at_quantile(0.5) / 1000, 500);
        assert_eq!(h.value_at_quantile(0.9) / 1000, 900);
        assert_eq!(h.value_at_quantile(0.99) / 1000, 990);
        assert_eq!(h.max() / 1000, 1000);
        assert_eq!(
            a.status_counts().collect::<Vec<_>>(),
            vec![(200, 1000), (503, 1)]
        );
        assert_eq!(a.errors.timeout, 1);
        assert_eq!(a.body_bytes, 10_000);
        assert_eq!(a.responses, 1001);
        // Timeline: second 0 has k < 1000 plus the 503, second 1 has k = 1000 (exactly 1 s),
        // second 2 the timeout.
        let per_second: Vec<(u64, u64)> =
            a.timeline.iter().map(|s| (s.responses, s.errors)).collect();
        assert_eq!(per_second, vec![(1000, 0), (1, 0), (0, 1)]);
    }

    #[test]
    fn corrected_latency_counts_from_the_intended_time() {
        let t0 = Instant::now();
        let mut r = Recorder::new(t0);
        let intended = t0;
        let sent = t0 + Duration::from_millis(300);
        let done = sent + Duration::from_millis(2);
        r.response(200, 0, Some(intended), sent, done);
        assert_eq!(r.uncorrected.max() / 100, 20); // ~2 ms
        assert_eq!(r.corrected.max() / 1000, 302); // ~302 ms
    }
}
