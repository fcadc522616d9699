//! The lab's own routes, answered by the server before the app sees a request:
//! `GET /debug/stats` (what the tour and the live view sample from a running server) and
//! `GET /debug/trace?since=T` (per-request spans from `clab_trace`, when `--trace` is on:
//! `{"enabled": false, …}` otherwise).
//!
//! They are served wherever the server listens, which is loopback unless the user binds
//! another address (the README says so): they reveal nothing secret, but they are for the
//! lab's own tools, not for the public.

use crate::Model;
use crate::admission::Admission;
use clab_event_loop::{LoopSnapshot, LoopStats};
use clab_http::{Method, Request, Response};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Live counters of a running server. Updated with relaxed atomics: each is an independent
/// count read for display, never used to synchronise anything.
#[derive(Debug)]
pub struct Stats {
    model: Model,
    workers: usize,
    /// Pad the hot counters apart so two workers bumping different counters do not bounce
    /// one cache line between cores.
    opened: Padded,
    closed: Padded,
    started: Padded,
    finished: Padded,
    /// Tokio runtimes of the model (one, or one per shard), for their stable metrics.
    runtimes: Mutex<Vec<tokio::runtime::Handle>>,
    /// The `event-loop` model's loop counters.
    event_loop: Mutex<Option<Arc<LoopStats>>>,
}

#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

impl Padded {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counts a connection as open while alive. Owns its handle on the counters: a parked
/// connection (`thread-pool`, `sync`) carries it while no thread serves it.
#[derive(Debug)]
pub struct ConnGuard(Arc<Stats>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.closed.bump();
    }
}

/// Counts a request as in flight while alive.
#[derive(Debug)]
pub struct RequestGuard<'a>(&'a Stats);

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        self.0.finished.bump();
    }
}

impl Stats {
    pub fn new(model: Model, workers: usize) -> Self {
        Self {
            model,
            workers,
            opened: Padded::default(),
            closed: Padded::default(),
            started: Padded::default(),
            finished: Padded::default(),
            runtimes: Mutex::new(Vec::new()),
            event_loop: Mutex::new(None),
        }
    }

    pub fn connection(self: &Arc<Self>) -> ConnGuard {
        self.opened.bump();
        ConnGuard(Arc::clone(self))
    }

    pub fn request(&self) -> RequestGuard<'_> {
        self.started.bump();
        RequestGuard(self)
    }

    /// Report this tokio runtime's metrics in `/debug/stats`.
    pub fn add_runtime(&self, handle: tokio::runtime::Handle) {
        self.runtimes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(handle);
    }

    /// Report the event loop's counters (turns, busy fraction) in `/debug/stats`.
    pub fn add_event_loop(&self, stats: Arc<LoopStats>) {
        *self
            .event_loop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stats);
    }

    /// Requests answered so far (excluding the debug routes).
    pub fn served(&self) -> u64 {
        self.finished.get()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> u64 {
        self.opened.get().saturating_sub(self.closed.get())
    }

    pub fn snapshot(&self, admission: &Admission) -> StatsSnapshot {
        let (connections_refused, requests_refused) = admission.refused();
        let process = ProcessStatus::read();
        let runtimes = self
            .runtimes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(RuntimeStats::of)
            .collect();
        StatsSnapshot {
            model: self.model.name(),
            workers: self.workers,
            os_threads: process.threads,
            connections_open: self.open_connections(),
            connections_accepted: self.opened.get(),
            max_connections: admission.max_connections(),
            connections_refused,
            idle_shed: admission.idle.shed_total(),
            requests_refused,
            requests_in_flight: self.started.get().saturating_sub(self.finished.get()),
            requests_served: self.finished.get(),
            rss_bytes: process.rss_bytes,
            voluntary_ctxt_switches: process.voluntary,
            nonvoluntary_ctxt_switches: process.nonvoluntary,
            tokio_runtimes: runtimes,
            event_loop: self
                .event_loop
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_ref()
                .map(|l| l.snapshot()),
        }
    }
}

/// The JSON of `/debug/stats`.
#[derive(Debug, Serialize)]
pub struct StatsSnapshot {
    pub model: &'static str,
    pub workers: usize,
    /// OS threads of the whole process (`Threads:` in `/proc/self/status`).
    pub os_threads: Option<u64>,
    pub connections_open: u64,
    pub connections_accepted: u64,
    /// `--max-connections` in force, and connections answered 503 for it.
    pub max_connections: usize,
    pub connections_refused: u64,
    /// Idle keep-alive connections shut down to make room (`idle.rs`).
    pub idle_shed: u64,
    /// Requests answered 503 for `--max-inflight`.
    pub requests_refused: u64,
    pub requests_in_flight: u64,
    pub requests_served: u64,
    pub rss_bytes: Option<u64>,
    /// Summed over the threads alive now (`/proc/self/task/*/status`).
    pub voluntary_ctxt_switches: Option<u64>,
    pub nonvoluntary_ctxt_switches: Option<u64>,
    /// Empty for models without a tokio runtime.
    pub tokio_runtimes: Vec<RuntimeStats>,
    /// `event-loop` only: its turns, polls, and time in `epoll_wait` vs running tasks.
    pub event_loop: Option<LoopSnapshot>,
}

/// Tokio's stable runtime metrics for one runtime.
#[derive(Debug, Serialize)]
pub struct RuntimeStats {
    pub workers: usize,
    pub alive_tasks: usize,
    pub global_queue_depth: usize,
    /// Per worker: microseconds spent running tasks, and times it parked (went idle).
    pub worker_busy_us: Vec<u64>,
    pub worker_parks: Vec<u64>,
}

impl RuntimeStats {
    fn of(handle: &tokio::runtime::Handle) -> Self {
        let m = handle.metrics();
        let workers = m.num_workers();
        Self {
            workers,
            alive_tasks: m.num_alive_tasks(),
            global_queue_depth: m.global_queue_depth(),
            worker_busy_us: (0..workers)
                .map(|w| {
                    u64::try_from(m.worker_total_busy_duration(w).as_micros()).unwrap_or(u64::MAX)
                })
                .collect(),
            worker_parks: (0..workers).map(|w| m.worker_park_count(w)).collect(),
        }
    }
}

/// The fields of `/proc/self/status` the stats report.
#[derive(Debug, Default)]
struct ProcessStatus {
    threads: Option<u64>,
    rss_bytes: Option<u64>,
    voluntary: Option<u64>,
    nonvoluntary: Option<u64>,
}

impl ProcessStatus {
    fn read() -> Self {
        let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        // The process's own status counts only its first thread's switches: sum every task.
        let (voluntary, nonvoluntary) = task_switches();
        Self {
            threads: field("Threads:"),
            rss_bytes: field("VmRSS:").map(|kib| kib * 1024),
            voluntary,
            nonvoluntary,
        }
    }
}

/// Context switches summed over every thread of this process (`/proc/self/task/*/status`).
/// Threads that already exited are not counted (the kernel folds them into no total that
/// `/proc` shows per process). One file per thread: costly with 10,000 threads, fine for a
/// sampler a few times a second.
fn task_switches() -> (Option<u64>, Option<u64>) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (None, None);
    };
    let (mut vol, mut nonvol) = (0u64, 0u64);
    for task in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("status")) else {
            continue; // the thread exited meanwhile
        };
        for line in text.lines() {
            let num = |rest: &str| rest.trim().parse::<u64>().unwrap_or(0);
            if let Some(rest) = line.strip_prefix("voluntary_ctxt_switches:") {
                vol += num(rest);
            } else if let Some(rest) = line.strip_prefix("nonvoluntary_ctxt_switches:") {
                nonvol += num(rest);
            }
        }
    }
    (Some(vol), Some(nonvol))
}

/// Answer a `/debug/…` request, or `None` for any other path.
pub(crate) fn route(stats: &Stats, admission: &Admission, req: &Request) -> Option<Response> {
    let path = req.path();
    if !path.starts_with("/debug/") {
        return None;
    }
    let get = matches!(req.method, Method::Get | Method::Head);
    let resp = match path {
        "/debug/stats" if get => json(&stats.snapshot(admission)),
        "/debug/stats" => method_not_allowed(),
        "/debug/trace" if get => match since(req.query()) {
            Ok(since_us) => Response::json(200, clab_trace::snapshot_json(since_us)),
            Err(why) => Response::json(400, format!(r#"{{"error":"{why}"}}"#)),
        },
        "/debug/trace" => method_not_allowed(),
        _ => Response::json(404, r#"{"error":"no such debug route"}"#),
    };
    Some(resp)
}

/// `since=T` (microseconds since the trace epoch; spans ending after it are returned), or 0.
fn since(query: Option<&str>) -> Result<u64, &'static str> {
    let Some(query) = query else { return Ok(0) };
    match query.split('&').find_map(|kv| kv.strip_prefix("since=")) {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| "since must be a whole number of microseconds"),
    }
}

fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::json(200, body),
        Err(err) => Response::json(500, format!(r#"{{"error":"{err}"}}"#)),
    }
}

fn method_not_allowed() -> Response {
    Response::json(405, r#"{"error":"method not allowed"}"#).with_header("Allow", "GET, HEAD")
}
