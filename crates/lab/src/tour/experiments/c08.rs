//! C08: 10,000 connections as threads

use super::from_costs::{CostsClaim, no_charts, no_limits};
use crate::tour::Meta;

pub(super) static C08: CostsClaim = CostsClaim {
    meta: Meta {
        id: "C08",
        title: "10,000 connections as threads",
        claim: "10,000 connections as threads would take 5-10 GB just for their stacks (§06).",
    },
    setup: "Physical memory of K parked threads, scaled to 10,000, against the chapter's estimate",
    charts: no_charts,
    limits: no_limits,
};
