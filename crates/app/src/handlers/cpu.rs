//! `GET /cpu?ms=N`: burn N ms of thread CPU time, for experiments on blocking (chapter §07:
//! "never block the loop"). Runs through [`Backend::run_cpu`], so the model's offload policy
//! decides whether it blocks the handling thread or a separate pool.

use crate::error::{AppError, AppResult};
use crate::json;
use crate::timing::{micros, thread_cpu_time};
use clab_backend::Backend;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Accepted range of `ms`: at least 1 ms, at most 10 s (one request must not hog a core for
/// longer than a load test's patience).
pub const CPU_MS_RANGE: std::ops::RangeInclusive<u64> = 1..=10_000;

#[derive(Serialize)]
struct Burned {
    requested_ms: u64,
    /// Thread CPU time actually burned (≥ requested: the loop checks the clock in steps).
    burned_us: u64,
}

pub(crate) async fn burn<B: Backend>(backend: &B, query: Option<&str>) -> AppResult {
    let ms = parse_ms(query)?;
    let burned = backend
        .run_cpu(move || burn_thread_cpu(Duration::from_millis(ms)))
        .await;
    json::to_response(
        200,
        &Burned {
            requested_ms: ms,
            burned_us: micros(burned),
        },
    )
}

fn parse_ms(query: Option<&str>) -> Result<u64, AppError> {
    let raw = super::query_param(query, "ms").ok_or_else(|| {
        AppError::BadRequest("missing query parameter ms (e.g. /cpu?ms=20)".into())
    })?;
    let bad = || {
        AppError::BadRequest(format!(
            "ms must be an integer in {}..={}, got {raw:?}",
            CPU_MS_RANGE.start(),
            CPU_MS_RANGE.end()
        ))
    };
    let ms: u64 = raw.parse().map_err(|_| bad())?;
    if CPU_MS_RANGE.contains(&ms) {
        Ok(ms)
    } else {
        Err(bad())
    }
}

/// Spin until the calling thread has used `target` of CPU time; returns the CPU time used.
/// Falls back to wall time if the thread CPU clock is unavailable, so it always terminates.
pub fn burn_thread_cpu(target: Duration) -> Duration {
    let wall = Instant::now();
    let start = thread_cpu_time();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    loop {
        // A few µs of integer work between clock reads (a clock read is a syscall).
        for _ in 0..4096 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x ^= x >> 29;
        }
        std::hint::black_box(x);
        let spent = match (start, thread_cpu_time()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => wall.elapsed(),
        };
        if spent >= target {
            return spent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ms;

    #[test]
    fn ms_bounds() {
        assert_eq!(parse_ms(Some("ms=1")).ok(), Some(1));
        assert_eq!(parse_ms(Some("x=2&ms=10000")).ok(), Some(10_000));
        for bad in [
            None,
            Some(""),
            Some("ms="),
            Some("ms=0"),
            Some("ms=10001"),
            Some("ms=-1"),
            Some("ms=abc"),
        ] {
            assert!(parse_ms(bad).is_err(), "{bad:?}");
        }
    }
}
