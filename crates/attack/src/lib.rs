//! `clab attack`: hostile-client checks run from outside against any HTTP/1.1 server, each a
//! verdict computed from what it measured.
//!
//! # Brief overview
//! - [`Target`] parses the URL and refuses an address outside loopback unless remote targets
//!   are allowed (`target.rs`).
//! - One module per check, each with a `Config` of bounded sizes and time limits:
//!   [`smuggling`] (the codec's refused Content-Length / Transfer-Encoding variants),
//!   [`malformed`] (mutated corpus requests), [`slow`] (silent, trickling and idle crowds
//!   beside a legitimate client), [`overload`] (503 + `Retry-After` beyond the sustainable rate,
//!   accepted p99, recovery), [`fd`] (many connections held, an existing one still served).
//! - The bytes come from `clab_http::corpus`, the responses are framed by `clab-http`'s client
//!   codec (`wire.rs`), the legitimate client and the overload are `clab-load` runs
//!   (`legit.rs`), and many slow connections are held by one `poll(2)` loop (`crowd.rs`).
//! - [`CheckResult`] is the outcome as data (`--json` serialises it); [`render_table`] prints it.

mod crowd;
pub mod fd;
mod legit;
pub mod malformed;
pub mod overload;
mod report;
pub mod slow;
pub mod smuggling;
mod target;
mod wire;

pub use legit::Client;
pub use report::{CheckResult, Figure, Verdict, render_table};
pub use target::{Target, TargetError, is_loopback};

use std::time::Duration;

/// The checks, in the order a full run takes them: the cheap correctness checks first, the
/// load-heavy ones after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Smuggling,
    Malformed,
    Slow,
    Overload,
    Fd,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Self::Smuggling,
        Self::Malformed,
        Self::Slow,
        Self::Overload,
        Self::Fd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Smuggling => "smuggling",
            Self::Malformed => "malformed",
            Self::Slow => "slow",
            Self::Overload => "overload",
            Self::Fd => "fd",
        }
    }

    /// A comma-separated list of names (`--only smuggling,slow`), in [`Check::ALL`]'s order.
    pub fn parse_list(list: &str) -> Result<Vec<Check>, String> {
        let mut wanted = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let check = Self::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                    format!("unknown check `{name}`: expected {}", names.join(", "))
                })?;
            wanted.push(check);
        }
        if wanted.is_empty() {
            return Err("--only needs at least one check".into());
        }
        Ok(Self::ALL
            .into_iter()
            .filter(|c| wanted.contains(c))
            .collect())
    }
}

/// Every check's bounds.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub smuggling: smuggling::Config,
    pub malformed: malformed::Config,
    pub slow: slow::Config,
    pub overload: overload::Config,
    pub fd: fd::Config,
}

impl Config {
    /// Sets the size of the slow crowd and of the descriptor check.
    pub fn connections(mut self, n: usize) -> Self {
        self.slow.connections = n;
        self.fd.connections = n;
        self
    }

    /// Sets how long a slow connection may stay open before it counts as never closed.
    pub fn patience(mut self, d: Duration) -> Self {
        self.slow.patience = d;
        self
    }
}

/// One connect, so that an unreachable server is a clear error rather than five failed checks.
pub fn preflight(target: &Target) -> Result<(), TargetError> {
    std::net::TcpStream::connect_timeout(&target.addr, Duration::from_secs(2))
        .map(drop)
        .map_err(|e| TargetError::Unreachable {
            addr: target.addr,
            reason: e.to_string(),
        })
}

/// Runs one check; `progress` is told what is under way.
pub fn run_check(
    target: &Target,
    config: &Config,
    check: Check,
    progress: &dyn Fn(String),
) -> CheckResult {
    match check {
        Check::Smuggling => smuggling::run(target, &config.smuggling),
        Check::Malformed => malformed::run(target, &config.malformed, progress),
        Check::Slow => slow::run(target, &config.slow, progress),
        Check::Overload => overload::run(target, &config.overload, progress),
        Check::Fd => fd::run(target, &config.fd, progress),
    }
}

/// [`preflight`], then every check of `checks` in turn.
pub fn run(
    target: &Target,
    config: &Config,
    checks: &[Check],
    progress: &dyn Fn(String),
) -> Result<Vec<CheckResult>, TargetError> {
    preflight(target)?;
    Ok(checks
        .iter()
        .map(|&check| run_check(target, config, check, progress))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lists_parse_in_run_order() {
        assert_eq!(
            Check::parse_list("fd, smuggling").unwrap(),
            [Check::Smuggling, Check::Fd]
        );
        assert_eq!(
            Check::parse_list("smuggling,slow,overload,malformed,fd").unwrap(),
            Check::ALL
        );
        let err = Check::parse_list("smuggling,ddos").unwrap_err();
        assert!(err.contains("unknown check `ddos`"), "{err}");
        assert!(Check::parse_list(" , ").is_err());
    }
}
