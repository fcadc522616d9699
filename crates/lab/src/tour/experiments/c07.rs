//! C07: a thread's stack: virtual reserve, physical use

use super::from_costs::{CostsClaim, no_charts, no_limits};
use crate::tour::Meta;

pub(super) static C07: CostsClaim = CostsClaim {
    meta: Meta {
        id: "C07",
        title: "a thread's stack: virtual reserve, physical use",
        claim: "A thread reserves an 8 MB stack of virtual memory; only the pages it touches cost physical RAM (§06).",
    },
    setup: "Parked threads with std's default and 8 MiB stacks: VSZ, smaps Rss and kernel stack per thread, K threads at once",
    charts: no_charts,
    limits: no_limits,
};
