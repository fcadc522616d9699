//! C09: creating a thread

use super::from_costs::{CostsClaim, no_charts, no_limits};
use crate::tour::Meta;

pub(super) static C09: CostsClaim = CostsClaim {
    meta: Meta {
        id: "C09",
        title: "creating a thread",
        claim: "Creating a thread costs microseconds to milliseconds (§06).",
    },
    setup: "spawn + join, median of many, pinned to one CPU and unpinned",
    charts: no_charts,
    limits: no_limits,
};
