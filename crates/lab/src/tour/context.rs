//! [`Context`]: what the experiments of one tour share, so nothing is measured twice.

use std::path::PathBuf;

use super::server::ChildServer;
use super::{Chart, LimitHit};
use crate::costs;

/// See the module docs.
#[derive(Debug)]
pub struct Context {
    quick: bool,
    costs: Option<Result<costs::Report, String>>,
    /// The `clab` binary the server experiments start `clab serve` from.
    clab: Option<PathBuf>,
    /// The SQLite file every server of the tour shares (seeded by the first).
    database: PathBuf,
    /// Charts the running experiment made, taken when it ends.
    charts: Vec<Chart>,
    /// Machine limits the running experiment met, taken when it ends.
    limits: Vec<LimitHit>,
}

impl Context {
    pub fn new(quick: bool, clab: Option<PathBuf>) -> Self {
        let database = std::env::temp_dir().join(format!("clab-tour-{}.db", std::process::id()));
        Self {
            quick,
            costs: None,
            clab,
            database,
            charts: Vec::new(),
            limits: Vec::new(),
        }
    }

    /// Start `clab serve` with `args` on the tour's SQLite database.
    pub fn server(&self, args: &[&str]) -> Result<ChildServer, String> {
        self.server_on(args, None)
    }

    /// [`Context::server`], pinned to `cpu` when given.
    pub fn server_on(&self, args: &[&str], cpu: Option<usize>) -> Result<ChildServer, String> {
        let clab = self
            .clab
            .as_deref()
            .ok_or("this experiment starts `clab serve`: run it from the clab binary")?;
        let url = format!("sqlite://{}", self.database.display());
        let mut all = vec!["--database-url", &url];
        all.extend_from_slice(args);
        ChildServer::start(clab, &all, cpu)
    }

    /// Add a chart to the running experiment's section (an empty one is left out).
    pub fn chart(&mut self, chart: Chart) {
        if !chart.is_empty() {
            self.charts.push(chart);
        }
    }

    /// The running experiment's charts, for its result.
    pub fn take_charts(&mut self) -> Vec<Chart> {
        std::mem::take(&mut self.charts)
    }

    /// Record a machine limit that stopped part of the running experiment.
    pub fn limit_hit(&mut self, hit: LimitHit) {
        self.limits.push(hit);
    }

    /// The running experiment's limits, for its result.
    pub fn take_limits(&mut self) -> Vec<LimitHit> {
        std::mem::take(&mut self.limits)
    }

    pub fn quick(&self) -> bool {
        self.quick
    }

    /// An experiment's size: the first of `(quick, full)` under `--quick`, else the second.
    pub fn size(&self, (quick, full): (usize, usize)) -> usize {
        if self.quick { quick } else { full }
    }

    /// The `clab costs` measurements (C07–C10, C14, C15, B05), run on first use, once.
    pub fn costs(&mut self, progress: &mut dyn costs::Progress) -> Result<&costs::Report, String> {
        let config = self.costs_config();
        self.costs
            .get_or_insert_with(|| costs::run(&config, progress).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The costs configuration this tour uses.
    pub fn costs_config(&self) -> costs::Config {
        if self.quick {
            costs::Config::quick()
        } else {
            costs::Config::full()
        }
    }

    /// Other processes' share of the CPUs during the measurements made so far, when known.
    pub fn others_cpu_share(&self) -> Option<f64> {
        match &self.costs {
            Some(Ok(report)) => report.machine.others_cpu_share,
            _ => None,
        }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.database.display()));
        }
    }
}
