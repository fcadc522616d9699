//! `clab load`, as a library, in the tour's process: one run against one URL.

use std::time::Duration;

/// A `clab load` run against `url` for `secs` seconds after a 0.5 s warm-up.
pub(super) fn load(
    url: &str,
    mode: clab_load::Mode,
    secs: usize,
) -> Result<clab_load::Report, String> {
    let schedule = clab_load::Schedule {
        mode,
        stop: clab_load::Stop::Duration(Duration::from_secs(secs as u64)),
        warmup: Duration::from_millis(500),
        pipeline: 1,
    };
    let mut config = clab_load::Config::new(url, schedule).map_err(|e| e.to_string())?;
    config.timeout = Duration::from_secs(5);
    clab_load::run(&config).map_err(|e| e.to_string())
}
