//! B05: on a VM, waking a thread on another core can cost more than the chapter's whole
//! switch budget. From the same `clab costs` ping-pongs as C10, set against each other.

use super::from_costs;
use crate::tour::{Context, Experiment, Figure, Meta, Verdict, VerdictKind};

/// The chapter's upper bound for a context switch (§06: "1–10 µs").
const SWITCH_BUDGET_NS: f64 = 10_000.0;
/// Same-core and cross-core rows of the C10 measurements.
const SAME_CORE: &str = "OS thread, same core";
const CROSS_CORE: &str = "OS thread, across cores";

pub(super) struct B05Claim;

pub(super) static B05: B05Claim = B05Claim;

impl Experiment for B05Claim {
    fn meta(&self) -> &Meta {
        &Meta {
            id: "B05",
            title: "a wake-up across cores on a VM",
            claim: "On a virtual machine, waking a thread on another core can cost more than the chapter's \
         whole context-switch budget (1-10 µs).",
        }
    }

    fn setup(&self, ctx: &Context) -> String {
        format!(
            "Futex ping-pong pinned to one CPU vs to two (the C10 runs of `clab costs{}`)",
            if ctx.quick() { " --quick" } else { "" }
        )
    }

    fn run(
        &self,
        ctx: &mut Context,
        progress: &mut dyn crate::costs::Progress,
    ) -> Result<Vec<Figure>, String> {
        let report = ctx.costs(progress)?;
        let pick = |unit: &str| {
            report
                .rows
                .iter()
                .find(|r| r.claim_id == "C10" && r.unit == unit)
                .map(from_costs::figure)
        };
        let (Some(same), Some(cross)) = (pick(SAME_CORE), pick(CROSS_CORE)) else {
            return Err("this machine has one usable CPU: no cross-core wake-up to time".into());
        };
        let ratio = Figure::new("cross-core / same-core", cross.value / same.value, "ratio")
            .note("medians");
        Ok(vec![same, cross, ratio])
    }

    fn judge(&self, figures: &[Figure]) -> Verdict {
        let value = |name_part: &str| {
            figures
                .iter()
                .find(|f| f.name.ends_with(name_part))
                .map(|f| f.value)
        };
        let (Some(same), Some(cross)) = (value(SAME_CORE), value(CROSS_CORE)) else {
            return Verdict::new(
                VerdictKind::Inconclusive,
                "no same-core and cross-core pair",
            );
        };
        let numbers = format!(
            "cross-core {:.1} µs vs same-core {:.1} µs ({:.1}x), budget {:.0} µs",
            cross / 1e3,
            same / 1e3,
            cross / same,
            SWITCH_BUDGET_NS / 1e3
        );
        if cross > SWITCH_BUDGET_NS {
            Verdict::new(VerdictKind::Holds, numbers)
        } else if cross > 2.0 * same {
            Verdict::new(
                VerdictKind::HoldsWithDifference,
                format!("dearer than on one core, but within the budget: {numbers}"),
            )
        } else {
            Verdict::new(
                VerdictKind::DoesNotHold,
                format!("no dearer across cores: {numbers}"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::costs::verdict::Verdict as RowVerdict;
    use crate::tour::experiments::from_costs::tests::fig;

    fn figures(same_ns: f64, cross_ns: f64) -> Vec<Figure> {
        vec![
            fig(
                &format!("Switch — {SAME_CORE}"),
                same_ns,
                "ns",
                RowVerdict::Within,
            ),
            fig(
                &format!("Switch — {CROSS_CORE}"),
                cross_ns,
                "ns",
                RowVerdict::Worse,
            ),
        ]
    }

    #[test]
    fn a_cross_core_wake_beyond_the_budget_holds() {
        let v = B05.judge(&figures(3_000.0, 30_000.0));
        assert_eq!(v.kind, VerdictKind::Holds, "{}", v.reason);
        assert!(v.reason.contains("30.0 µs"), "{}", v.reason);
    }

    #[test]
    fn a_cheap_cross_core_wake_does_not_hold() {
        assert_eq!(
            B05.judge(&figures(3_000.0, 3_500.0)).kind,
            VerdictKind::DoesNotHold
        );
        assert_eq!(
            B05.judge(&figures(1_000.0, 5_000.0)).kind,
            VerdictKind::HoldsWithDifference
        );
    }
}
