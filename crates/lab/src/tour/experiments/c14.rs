//! C14: async fn as a state machine

use super::from_costs::{CostsClaim, no_charts, no_limits};
use crate::tour::Meta;

pub(super) static C14: CostsClaim = CostsClaim {
    meta: Meta {
        id: "C14",
        title: "async fn as a state machine",
        claim: "An async function is compiled into a state machine; each await is a state transition (§08).",
    },
    setup: "The compiled future of the chapter's fetch_user_data (two awaits): its size and states, beside a hand-written state machine run to the same result",
    charts: no_charts,
    limits: no_limits,
};
