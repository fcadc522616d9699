//! The machine's facts the report records beside every figure: what it ran on, and the
//! limits an experiment may meet (each with the knob that moves it).

use serde::{Deserialize, Serialize};

use crate::costs::procfs;

/// See the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineFacts {
    /// CPUs this process may use.
    pub cores: usize,
    /// `model name` of `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
    /// `MemTotal`, bytes.
    pub mem_total: Option<u64>,
    /// Limits: name, value, the knob that moves it.
    pub limits: Vec<Limit>,
    /// Share of all CPUs' time other processes used during the measurements (0–1), when known:
    /// above ~0.1, other work competed with the run.
    pub others_cpu_share: Option<f64>,
}

/// One limit of this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub name: String,
    pub value: Option<u64>,
    pub knob: String,
}

impl MachineFacts {
    pub fn read(others_cpu_share: Option<f64>) -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        });
        let kernel = Some(procfs::kernel_release()).filter(|k| !k.is_empty());
        let mem_total = procfs::mem_available().map(|(_, total)| total);
        let nofile = procfs::rlimit(libc::RLIMIT_NOFILE).map(|(soft, _)| soft);
        let ports = clab_load::ephemeral_ports().map(u64::from);
        let limit = |name: &str, value, knob: &str| Limit {
            name: name.to_owned(),
            value,
            knob: knob.to_owned(),
        };
        Self {
            cores: super::cores(),
            cpu_model,
            kernel,
            mem_total,
            limits: vec![
                limit(
                    "open files per process",
                    nofile,
                    "ulimit -n (RLIMIT_NOFILE)",
                ),
                limit(
                    "kernel.pid_max",
                    procfs::sysctl("kernel/pid_max"),
                    "sysctl kernel.pid_max",
                ),
                limit(
                    "vm.max_map_count",
                    procfs::sysctl("vm/max_map_count"),
                    "sysctl vm.max_map_count",
                ),
                limit(
                    "net.core.somaxconn",
                    procfs::sysctl("net/core/somaxconn"),
                    "sysctl net.core.somaxconn",
                ),
                limit(
                    "ephemeral ports per destination",
                    ports,
                    "sysctl net.ipv4.ip_local_port_range, or more source addresses (127.0.0.x)",
                ),
            ],
            others_cpu_share,
        }
    }
}
