//! The one driver: checks limits, splits connections over workers, runs them, draws the
//! progress line, merges their recordings into a [`Report`].

use crate::LoadError;
use crate::config::Config;
use crate::limits::{ensure_fd_limit, plan_sources, somaxconn};
use crate::report::{Report, RunSettings};
use crate::sched::SchedPolicy;
use crate::schedule::{Mode, Stop, budget_share};
use crate::stats::Recorder;
use crate::worker::{Flags, Progress, Share, Worker, WorkerResult};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs the load described by `config` and returns what it measured.
pub fn run(config: &Config) -> Result<Report, LoadError> {
    run_until(config, &AtomicBool::new(false))
}

/// Like [`run`], but ends early when `stop` becomes true (Ctrl-C): the workers notice within
/// one housekeeping tick (≤ 100 ms), and the report covers the time that was measured, with a
/// note saying it was interrupted and how many requests were dropped in flight.
pub fn run_until(config: &Config, stop: &AtomicBool) -> Result<Report, LoadError> {
    let schedule = config.schedule;
    schedule.validate()?;
    let connections = schedule.connections();
    let mut notes = Vec::new();
    notes.extend(ensure_fd_limit(connections)?);
    let (spread, note) = plan_sources(config.addr, connections)?;
    notes.extend(note);
    preflight(config)?;

    let mut config = config.clone();
    config.spread_sources |= spread;
    let config = &config;
    let threads = config.threads.clamp(1, connections);
    let shares: Vec<Share> = (0..threads)
        .map(|w| {
            let first = w * connections / threads;
            let count = (w + 1) * connections / threads - first;
            let budget = match schedule.stop {
                Stop::Count(n) => Some(budget_share(n, connections, first, count)),
                Stop::Duration(_) => None,
            };
            Share {
                worker: w,
                first,
                count,
                budget,
            }
        })
        .collect();
    let progress: Vec<Progress> = (0..threads).map(|_| Progress::default()).collect();
    let start = Instant::now();
    let measure_start = schedule.measure_start(start);

    let sched = config
        .sched
        .resolve(matches!(schedule.mode, Mode::Open { .. }));
    let results: Vec<Result<WorkerResult, LoadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .zip(&progress)
            .map(|(&share, progress)| {
                std::thread::Builder::new()
                    .name(format!("clab-load-{}", share.worker))
                    .spawn_scoped(scope, move || {
                        // A failure (a seccomp filter, say) leaves the default policy; the
                        // report says so.
                        let applied = sched.apply_to_current_thread();
                        let mut result =
                            Worker::new(config, share, start, progress, stop)?.run()?;
                        result.sched_error = applied.err();
                        Ok(result)
                    })
            })
            .collect();
        let mut line = ProgressLine::new(config.progress, start, measure_start);
        while handles
            .iter()
            .any(|h| h.as_ref().is_ok_and(|h| !h.is_finished()))
        {
            std::thread::sleep(Duration::from_millis(100));
            line.tick(&progress);
        }
        line.clear();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h.join().unwrap_or_else(|_| {
                    Err(LoadError::Io {
                        context: "worker thread",
                        source: std::io::Error::other("panicked"),
                    })
                }),
                Err(e) => Err(LoadError::Io {
                    context: "spawning a worker thread",
                    source: e,
                }),
            })
            .collect()
    });

    let mut merged = Recorder::new(measure_start);
    let mut flags = Flags::default();
    let mut all_open_at = Some(start);
    let mut peak_open = 0;
    let mut interrupted_at: Option<Instant> = None;
    let mut dropped_in_flight = 0;
    let mut sched_error = None;
    for result in results {
        let result = result?;
        sched_error = sched_error.or(result.sched_error);
        if let Some(at) = result.interrupted_at {
            interrupted_at = Some(interrupted_at.map_or(at, |t| t.min(at)));
            dropped_in_flight += result.dropped_in_flight;
        }
        all_open_at = all_open_at.zip(result.all_open_at).map(|(a, b)| a.max(b));
        peak_open += result.peak_open;
        merged.merge(&result.recorder);
        flags.addr_not_available |= result.flags.addr_not_available;
        flags.too_many_files |= result.flags.too_many_files;
        flags.connect_timed_out |= result.flags.connect_timed_out;
        flags.switched_to_spread |= result.flags.switched_to_spread;
    }
    notes.extend(flag_notes(flags));
    let sched = match sched_error {
        Some(e) => {
            notes.push(format!(
                "could not set the worker threads' scheduling policy to {sched} ({e}); they ran \
                 with the default policy"
            ));
            SchedPolicy::Normal
        }
        None => sched,
    };
    if let Some(backlog) =
        somaxconn().filter(|&n| merged.errors.timeout > 0 && connections > n as usize)
    {
        // Past a full accept queue the kernel drops the handshake's last ACK: the client
        // believes it is connected and its first request waits for retransmissions.
        notes.push(format!(
            "{} requests timed out with {connections} connections, more than net.core.somaxconn \
             ({backlog}): the server's accept queue probably overflowed while connecting \
             (raise net.core.somaxconn and the server's listen backlog, or use --warmup)",
            merged.errors.timeout
        ));
    }
    // How long the connections took to open matters at 10,000 of them (SYN retries when the
    // accept queue overflows take a second or more), and "all connected" must be checkable.
    match all_open_at {
        Some(t) if connections >= 1000 || t - start > Duration::from_secs(1) => {
            notes.push(format!(
                "all {connections} connections were open {:.2}s after the start",
                (t - start).as_secs_f64()
            ))
        }
        Some(_) => {}
        // No connect failed: the run was simply over before the handshakes were (a tiny -d).
        None if merged.errors.connect == 0 => notes.push(format!(
            "the run ended before all {connections} connections were open (at most \
             {peak_open} were): give it a longer duration or a --warmup"
        )),
        None => notes.push(format!(
            "never were all {connections} connections open at once (at most about {peak_open}); \
             see the connect errors"
        )),
    }
    let mut elapsed = match schedule.stop {
        Stop::Duration(d) => d,
        Stop::Count(_) => merged
            .last_completion
            .unwrap_or_else(Instant::now)
            .saturating_duration_since(measure_start),
    };
    if let Some(at) = interrupted_at {
        let measured = at.saturating_duration_since(measure_start);
        elapsed = elapsed.min(measured);
        notes.push(if measured.is_zero() {
            "interrupted during the warmup: nothing was measured".to_owned()
        } else {
            format!(
                "interrupted after {:.2}s of measurement: the figures cover that time; \
                 {dropped_in_flight} requests in flight were dropped uncounted",
                measured.as_secs_f64()
            )
        });
    }
    Ok(Report::build(
        settings(config, threads, sched),
        &merged,
        elapsed,
        notes,
    ))
}

/// One blocking connect before the run, so an unreachable host is one clear error instead of
/// a report full of connect errors.
fn preflight(config: &Config) -> Result<(), LoadError> {
    let timeout = config.timeout.max(Duration::from_millis(100));
    std::net::TcpStream::connect_timeout(&config.addr, timeout)
        .map(drop)
        .map_err(|e| LoadError::Unreachable {
            addr: config.addr.to_string(),
            reason: e.to_string(),
        })
}

fn flag_notes(flags: Flags) -> Vec<String> {
    let mut notes = Vec::new();
    if flags.addr_not_available {
        notes.push(
            "connects failed with EADDRNOTAVAIL: the ephemeral ports ran out \
             (widen net.ipv4.ip_local_port_range, or use fewer connections)"
                .to_owned(),
        );
    }
    if flags.switched_to_spread {
        notes.push(
            "switched to source addresses 127.0.0.2-127.0.0.254 after EADDRNOTAVAIL".to_owned(),
        );
    }
    if flags.too_many_files {
        notes.push(
            "connects failed with EMFILE/ENFILE: out of file descriptors \
             (raise `ulimit -Hn` / nofile in /etc/security/limits.conf, or fs.file-max)"
                .to_owned(),
        );
    }
    if flags.connect_timed_out {
        let backlog = somaxconn()
            .map(|n| format!(" (now {n})"))
            .unwrap_or_default();
        notes.push(format!(
            "some connects timed out: the server's accept queue may be full \
             (raise net.core.somaxconn{backlog} and the server's listen backlog, or raise --timeout)"
        ));
    }
    notes
}

fn settings(config: &Config, threads: usize, sched: SchedPolicy) -> RunSettings {
    let s = &config.schedule;
    RunSettings {
        url: format!("http://{}{}", config.url.authority, config.url.path),
        mode: match s.mode {
            Mode::Closed { .. } => "closed",
            Mode::Open { .. } => "open",
        },
        connections: s.connections(),
        threads,
        pipeline: s.pipeline,
        target_rate: match s.mode {
            Mode::Open { rate, .. } => Some(rate),
            Mode::Closed { .. } => None,
        },
        duration_s: match s.stop {
            Stop::Duration(d) => Some(d.as_secs_f64()),
            Stop::Count(_) => None,
        },
        requests: match s.stop {
            Stop::Count(n) => Some(n),
            Stop::Duration(_) => None,
        },
        warmup_s: s.warmup.as_secs_f64(),
        timeout_s: config.timeout.as_secs_f64(),
        targets: config.mix.len(),
        sched: sched.name(),
    }
}

/// The live line on stderr: elapsed, rate over the last second, p99 of the last second, errors.
struct ProgressLine {
    enabled: bool,
    start: Instant,
    measure_start: Instant,
    last_draw: Instant,
    last_responses: u64,
}

impl ProgressLine {
    fn new(enabled: bool, start: Instant, measure_start: Instant) -> Self {
        Self {
            enabled,
            start,
            measure_start,
            last_draw: start,
            last_responses: 0,
        }
    }

    fn tick(&mut self, progress: &[Progress]) {
        let now = Instant::now();
        if !self.enabled || now.duration_since(self.last_draw) < Duration::from_secs(1) {
            return;
        }
        let sum = |f: fn(&Progress) -> u64| progress.iter().map(f).sum::<u64>();
        let responses = sum(|p| p.responses.load(Ordering::Relaxed));
        let errors = sum(|p| p.errors.load(Ordering::Relaxed));
        let open = sum(|p| p.open_connections.load(Ordering::Relaxed));
        let p99 = progress
            .iter()
            .map(|p| p.p99_us.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        let rate = (responses - self.last_responses.min(responses)) as f64
            / now.duration_since(self.last_draw).as_secs_f64();
        let phase = if now < self.measure_start {
            " (warmup)"
        } else {
            ""
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[K[{:>6.1}s{phase}] {rate:>9.0} req/s  p99 {:.2} ms  errors {errors}  connections {open}",
            now.duration_since(self.start).as_secs_f64(),
            p99 as f64 / 1000.0
        );
        let _ = err.flush();
        self.last_draw = now;
        self.last_responses = responses;
    }

    fn clear(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
