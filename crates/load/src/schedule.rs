//! The schedule is a value: a [`Mode`] (closed or open loop), a [`Stop`] (duration or count)
//! and a warmup. One driver runs every combination; the timing arithmetic lives here as pure
//! functions of `Instant`s, so tests inject their own clock.

use crate::LoadError;
use std::time::{Duration, Instant};

/// How requests are issued.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Each connection sends its next request when a response arrives (wrk, oha).
    Closed { connections: usize },
    /// `rate` requests per second in total, spread evenly over the connections at fixed intended
    /// send times (wrk2). Latency is measured from the intended time as well as from the send.
    Open { rate: f64, connections: usize },
}

/// When the run ends (after the warmup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Duration(Duration),
    /// This many requests are issued after the warmup; the run ends when all are answered
    /// or have failed.
    Count(u64),
}

/// Mode + stop + warmup: everything about *when* requests go out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub mode: Mode,
    pub stop: Stop,
    /// Requests sent before this much time has elapsed are not recorded.
    pub warmup: Duration,
    /// Requests in flight per connection (HTTP/1.1 pipelining), at least 1.
    pub pipeline: usize,
}

impl Schedule {
    pub fn connections(&self) -> usize {
        match self.mode {
            Mode::Closed { connections } | Mode::Open { connections, .. } => connections,
        }
    }

    /// Rejects schedules that cannot be run, with a message that says what to change.
    pub fn validate(&self) -> Result<(), LoadError> {
        let connections = self.connections();
        if connections == 0 {
            return Err(LoadError::BadSchedule(
                "connections (-c) must be at least 1".to_owned(),
            ));
        }
        if self.pipeline == 0 {
            return Err(LoadError::BadSchedule(
                "--pipeline must be at least 1".to_owned(),
            ));
        }
        match self.stop {
            Stop::Duration(d) if d.is_zero() => {
                return Err(LoadError::BadSchedule(
                    "duration (-d) must be more than zero".to_owned(),
                ));
            }
            Stop::Count(0) => {
                return Err(LoadError::BadSchedule(
                    "request count (-n) must be at least 1".to_owned(),
                ));
            }
            _ => {}
        }
        if let Mode::Open { rate, connections } = self.mode {
            if !rate.is_finite() || rate <= 0.0 {
                return Err(LoadError::BadSchedule(
                    "--rate must be a positive number of requests per second".to_owned(),
                ));
            }
            // Below one request per connection-second most connections would sit idle for
            // seconds between requests and wrk2-style results get confusing: refuse it.
            if rate < connections as f64 {
                return Err(LoadError::BadSchedule(format!(
                    "--rate {rate} is below one request per second per connection (-c {connections}); \
                     use --rate {connections} or more, or fewer connections"
                )));
            }
        }
        Ok(())
    }

    /// The time after which requests are recorded.
    pub fn measure_start(&self, start: Instant) -> Instant {
        start + self.warmup
    }

    /// The end of the run for a duration stop (`None` for a count stop).
    pub fn deadline(&self, start: Instant) -> Option<Instant> {
        match self.stop {
            Stop::Duration(d) => Some(start + self.warmup + d),
            Stop::Count(_) => None,
        }
    }
}

/// Splits a count budget over workers in proportion to their connections, exactly:
/// worker `w` with connections `[first, first+n)` of `total` gets
/// `floor(count*(first+n)/total) - floor(count*first/total)`.
pub fn budget_share(count: u64, total_connections: usize, first: usize, n: usize) -> u64 {
    let total = total_connections as u128;
    let upto = |k: usize| (u128::from(count) * k as u128 / total) as u64;
    upto(first + n) - upto(first)
}

/// Open-loop pacing of one connection: the k-th intended send time is
/// `start + offset + k * interval`, with `interval = connections / rate` and
/// `offset = index / rate`, so the connections' sends interleave evenly. Computed from `k`
/// rather than accumulated, so there is no drift over long runs.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    offset_ns: f64,
    interval_ns: f64,
    next_k: u64,
}

impl Pacer {
    /// The pacer of connection `index` of `connections` at `rate` requests/s in total.
    pub fn new(start: Instant, rate: f64, connections: usize, index: usize) -> Self {
        Self {
            start,
            offset_ns: index as f64 * 1e9 / rate,
            interval_ns: connections as f64 * 1e9 / rate,
            next_k: 0,
        }
    }

    /// The intended send time of the next request.
    pub fn next_intended(&self) -> Instant {
        self.start
            + Duration::from_nanos((self.offset_ns + self.next_k as f64 * self.interval_ns) as u64)
    }

    /// Takes the next intended time if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Instant> {
        let t = self.next_intended();
        if t <= now {
            self.next_k += 1;
            Some(t)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(connections: usize) -> Schedule {
        Schedule {
            mode: Mode::Closed { connections },
            stop: Stop::Count(10),
            warmup: Duration::ZERO,
            pipeline: 1,
        }
    }

    #[test]
    fn validation_rejects_unrunnable_schedules() {
        assert!(closed(1).validate().is_ok());
        assert!(closed(0).validate().is_err());
        let mut s = closed(4);
        s.pipeline = 0;
        assert!(s.validate().is_err());
        s = closed(4);
        s.stop = Stop::Duration(Duration::ZERO);
        assert!(s.validate().is_err());
        s.stop = Stop::Count(0);
        assert!(s.validate().is_err());
        s = closed(4);
        s.mode = Mode::Open {
            rate: 3.9,
            connections: 4,
        };
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("below one request per second per connection"),
            "{err}"
        );
        s.mode = Mode::Open {
            rate: 4.0,
            connections: 4,
        };
        assert!(s.validate().is_ok());
        s.mode = Mode::Open {
            rate: f64::NAN,
            connections: 4,
        };
        assert!(s.validate().is_err());
    }

    #[test]
    fn pacer_times_are_evenly_interleaved() {
        // 4 connections at 1000 req/s: each sends every 4 ms, offset by 1 ms per connection.
        let t0 = Instant::now();
        let mut pacers: Vec<Pacer> = (0..4).map(|i| Pacer::new(t0, 1000.0, 4, i)).collect();
        let mut times = Vec::new();
        // A fake clock: advance 1 ms at a time for 12 ms and collect every due send.
        for ms in 0..12u64 {
            let now = t0 + Duration::from_millis(ms);
            for p in &mut pacers {
                while let Some(t) = p.take_due(now) {
                    times.push((t - t0).as_micros());
                }
            }
        }
        times.sort_unstable();
        let expected: Vec<u128> = (0..12).map(|k| k * 1000).collect();
        assert_eq!(times, expected);
    }

    #[test]
    fn pacer_catches_up_after_a_stall_without_drift() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 100.0, 1, 0); // every 10 ms
        assert_eq!(p.take_due(t0), Some(t0));
        assert_eq!(p.take_due(t0 + Duration::from_millis(9)), None);
        // 55 ms later: five sends are due (10..50 ms), each with its own intended time.
        let late = t0 + Duration::from_millis(55);
        let due: Vec<u128> = std::iter::from_fn(|| p.take_due(late))
            .map(|t| (t - t0).as_millis())
            .collect();
        assert_eq!(due, vec![10, 20, 30, 40, 50]);
        // The millionth send is still exactly on the grid.
        p.next_k = 1_000_000;
        assert_eq!(p.next_intended() - t0, Duration::from_secs(10_000));
    }

    #[test]
    fn budget_shares_add_up_exactly() {
        for (count, total, splits) in [
            (10u64, 3usize, vec![1usize, 1, 1]),
            (100_000, 64, vec![32, 32]),
            (7, 5, vec![2, 3]),
        ] {
            let mut first = 0;
            let mut sum = 0;
            for n in splits {
                sum += budget_share(count, total, first, n);
                first += n;
            }
            assert_eq!(sum, count);
        }
        assert_eq!(budget_share(10, 3, 0, 1), 3);
        assert_eq!(budget_share(10, 3, 1, 1), 3);
        assert_eq!(budget_share(10, 3, 2, 1), 4);
    }

    #[test]
    fn deadline_includes_warmup() {
        let t0 = Instant::now();
        let s = Schedule {
            mode: Mode::Closed { connections: 1 },
            stop: Stop::Duration(Duration::from_secs(10)),
            warmup: Duration::from_secs(2),
            pipeline: 1,
        };
        assert_eq!(s.deadline(t0), Some(t0 + Duration::from_secs(12)));
        assert_eq!(s.measure_start(t0), t0 + Duration::from_secs(2));
    }
}
