//! What the server experiments read from `GET /users/{id}/dashboard`: its `timing` (wall, the
//! handler's thread CPU summed over every poll, IO wait in total and per remote call), the
//! breakdown the chapter's Fig 2 is drawn from.

use crate::tour::ChildServer;

/// One request's `timing`, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Timing {
    pub wall_us: f64,
    pub cpu_us: f64,
    pub io_wait_us: f64,
    /// The four database calls and the upstream call, each one remote wait.
    pub calls_us: [f64; 5],
}

/// `n` dashboards of distinct users (so the cache misses and every call is made), in order.
pub(super) fn sample(
    server: &ChildServer,
    n: usize,
    first_user: usize,
) -> Result<Vec<Timing>, String> {
    (first_user..first_user + n)
        .map(|id| {
            let body = server.get(&format!("/users/{id}/dashboard"))?;
            let json: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| format!("dashboard JSON: {e}"))?;
            let t = &json["timing"];
            let us = |k: &str| t[k].as_f64().ok_or_else(|| format!("timing.{k} missing"));
            Ok(Timing {
                wall_us: us("wall_us")?,
                // `null` where the model cannot measure it per request (coroutines).
                cpu_us: t["cpu_us"].as_f64().unwrap_or(f64::NAN),
                io_wait_us: us("io_wait_us")?,
                calls_us: [
                    us("db_user_us")?,
                    us("db_orders_us")?,
                    us("db_account_us")?,
                    us("db_activity_us")?,
                    us("upstream_us")?,
                ],
            })
        })
        .collect()
}
