//! C10: a context switch

use super::from_costs::{CostsClaim, no_charts, no_limits};
use crate::tour::Meta;

pub(super) static C10: CostsClaim = CostsClaim {
    meta: Meta {
        id: "C10",
        title: "a context switch",
        claim: "A context switch costs 1-10 µs (§06).",
    },
    setup: "Thread ping-pong over a futex and a pipe on one CPU, and a futex across two CPUs, per one-way hand-off",
    charts: no_charts,
    limits: no_limits,
};
