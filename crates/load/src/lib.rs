//! The load generator of Concurrency Lab: `clab load` and the engine the tour drives.
//!
//! # Brief overview
//! - [`Schedule`] is the whole *when*: a [`Mode`] (closed loop over N connections, or open
//!   loop at a fixed rate with intended send times), a [`Stop`] (duration or count), a warmup
//!   and a pipeline depth. One driver, [`run`], runs every combination.
//! - [`Config`] adds the *what* and *where*: the [`HttpUrl`], a [`RequestMix`] of weighted
//!   [`TargetSpec`]s (templates such as `/users/{1..10000}`), threads, timeout and the
//!   workers' [`SchedPolicy`] (`SCHED_BATCH` in closed loop, so a client sharing cores with the
//!   server does not preempt it on every response).
//! - Each worker thread runs one epoll loop (mio) over its share of the connections and records
//!   into its own [`stats::Recorder`] (HDR histograms, status and error counts, a per-second
//!   timeline); they are merged once at the end, so memory does not grow with requests.
//! - [`Report`] is the result as data; [`write_human`] and [`write_json`] print it to any
//!   `Write`. The JSON shape is `schema/report.schema.json`.
//! - [`LoadError`] is the one error type; limits (file descriptors, ephemeral ports, accept
//!   backlog) are named with the knob that moves them.

mod coarse;
mod config;
mod conn;
mod duration;
mod engine;
mod error;
mod limits;
mod print;
mod report;
mod rng;
mod sched;
mod schedule;
pub mod stats;
mod target;
mod template;
mod timer;
mod url;
mod worker;

pub use config::{Config, default_threads};
pub use duration::{format_duration, parse_duration};
pub use engine::{run, run_until};
pub use error::LoadError;
pub use limits::{ensure_fd_limit, ephemeral_ports};
pub use print::{write_human, write_json};
pub use report::{Latency, RateShortfall, Report, RunSettings, TimelineSecond};
pub use sched::SchedPolicy;
pub use schedule::{Mode, Pacer, Schedule, Stop};
pub use target::{RequestMix, TargetSpec, parse_header};
pub use template::Template;
pub use url::HttpUrl;
