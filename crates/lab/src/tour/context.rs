//! [`Context`]: what the experiments of one tour share, so nothing is measured twice.

use crate::costs;

/// See the module docs.
#[derive(Debug)]
pub struct Context {
    quick: bool,
    costs: Option<Result<costs::Report, String>>,
}

impl Context {
    pub fn new(quick: bool) -> Self {
        Self { quick, costs: None }
    }

    pub fn quick(&self) -> bool {
        self.quick
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
