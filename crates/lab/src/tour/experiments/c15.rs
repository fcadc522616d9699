//! C15: green threads vs OS threads

use super::from_costs::{CostsClaim, costs_table, unit_limits};
use crate::tour::Meta;

pub(super) static C15: CostsClaim = CostsClaim {
    meta: Meta {
        id: "C15",
        title: "green threads vs OS threads",
        claim: "Green threads vs OS threads: stack 2-8 KB vs 8 MB, creation ns-µs vs µs-ms, switch ~200 ns vs 1-10 µs, 1,000,000+ vs ~10,000 (§09).",
    },
    setup: "The chapter's table with a measured column for OS threads, tokio tasks and may coroutines: memory per unit, creation, switch, how many fit",
    charts: costs_table,
    limits: unit_limits,
};
