//! `--raise-limits`: lift the kernel limits that stop threads and coroutines, for the length of
//! the limit probe only. Root only; the previous values are written back when the guard drops,
//! even when the probe fails. Nothing here runs unless the user asked for it.

use super::error::{CostsError, Result};
use std::fs;

/// The settings raised, with their new values.
const RAISED: [(&str, u64); 2] = [
    ("vm/max_map_count", 1_048_576),
    ("kernel/pid_max", 4_194_304),
];

/// Restores the saved settings on drop.
#[derive(Debug)]
pub struct RaisedLimits {
    saved: Vec<(&'static str, String)>,
    saved_nproc: Option<libc::rlimit>,
}

fn write(name: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/{name}");
    fs::write(&path, value).map_err(|source| CostsError::Proc { path, source })
}

impl RaisedLimits {
    /// Raise the limits (root only).
    pub fn apply() -> Result<Self> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(CostsError::NotRoot);
        }
        let mut guard = Self {
            saved: Vec::new(),
            saved_nproc: None,
        };
        for (name, value) in RAISED {
            let old = super::procfs::read(&format!("/proc/sys/{name}"))?;
            if old.trim().parse::<u64>().is_ok_and(|v| v >= value) {
                continue;
            }
            write(name, &value.to_string())?;
            guard.saved.push((name, old.trim().to_owned()));
        }
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: get/setrlimit read and write one rlimit struct we own.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NPROC, &mut lim) == 0 {
                guard.saved_nproc = Some(lim);
                let raised = libc::rlimit {
                    rlim_cur: libc::RLIM_INFINITY,
                    rlim_max: libc::RLIM_INFINITY,
                };
                libc::setrlimit(libc::RLIMIT_NPROC, &raised);
            }
        }
        Ok(guard)
    }

    /// What was changed, for the report: `(name, old value)`.
    pub fn changed(&self) -> Vec<(String, String)> {
        self.saved
            .iter()
            .map(|(n, v)| (n.replace('/', "."), v.clone()))
            .collect()
    }
}

impl Drop for RaisedLimits {
    fn drop(&mut self) {
        for (name, old) in self.saved.drain(..) {
            if let Err(err) = write(name, &old) {
                eprintln!("clab costs: could not restore {name}={old}: {err}");
            }
        }
        if let Some(lim) = self.saved_nproc.take() {
            // SAFETY: setrlimit reads one rlimit struct we own.
            unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &lim) };
        }
    }
}
