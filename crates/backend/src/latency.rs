//! Simulated network round trips: the chapter's §02 table as named presets.

use std::time::Duration;

/// How far away every remote call pretends to be. Parsed from `--latency`:
/// `none`, `localhost` (1–2 ms), `same-region` (20–30 ms), `cross-region` (90–100 ms),
/// `N` (ms) or `A-B` (ms, uniform).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyProfile {
    None,
    /// Uniform in `[min, max]`.
    Range { name: &'static str, min: Duration, max: Duration },
}

impl LatencyProfile {
    /// Draw one round trip.
    pub fn sample(&self) -> Duration {
        todo!()
    }
}
