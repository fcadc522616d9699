//! A run's full configuration, built once and shared read-only by every worker.

use crate::LoadError;
use crate::sched::SchedPolicy;
use crate::schedule::Schedule;
use crate::target::{RequestMix, TargetSpec};
use crate::url::HttpUrl;
use std::net::SocketAddr;
use std::time::Duration;

/// Everything [`crate::run`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub url: HttpUrl,
    /// The resolved server address.
    pub addr: SocketAddr,
    pub schedule: Schedule,
    /// Worker threads (each an epoll loop over its share of the connections).
    pub threads: usize,
    /// Per request, from its send; also bounds a connect.
    pub timeout: Duration,
    pub mix: RequestMix,
    /// Spread source addresses over 127.0.0.2.. from the start (loopback targets with more
    /// connections than the ephemeral port range comfortably holds). Workers also switch this
    /// on by themselves when a connect fails with EADDRNOTAVAIL.
    pub spread_sources: bool,
    /// Draw a live progress line on stderr.
    pub progress: bool,
    /// The worker threads' scheduling policy (see [`SchedPolicy`]).
    pub sched: SchedPolicy,
}

impl Config {
    /// A configuration for `url` with one target (the URL's path, GET) and defaults:
    /// one thread per core, 5 s timeout, no progress line, `--sched auto`. Resolves the host.
    pub fn new(url: &str, schedule: Schedule) -> Result<Self, LoadError> {
        let url = HttpUrl::parse(url)?;
        let addr = url.resolve()?;
        let spec = TargetSpec {
            method: "GET".to_owned(),
            path: url.path.clone(),
            weight: 1,
            headers: Vec::new(),
            body: None,
        };
        let mix = RequestMix::new(&[spec], &url.authority, &[], &[])?;
        Ok(Self {
            url,
            addr,
            schedule,
            threads: default_threads(),
            timeout: Duration::from_secs(5),
            mix,
            spread_sources: false,
            progress: false,
            sched: SchedPolicy::Auto,
        })
    }
}

/// One worker per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
