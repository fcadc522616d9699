//! A tour verdict: computed by an experiment's `judge` from its figures, never written by hand.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// The measurement agrees with the claim.
    Holds,
    /// It agrees in direction but differs in size (which, with the numbers, is in the reason).
    HoldsWithDifference,
    /// This machine contradicts the claim.
    DoesNotHold,
    /// The measurement cannot say (a cap reached below the claimed range, or it failed).
    Inconclusive,
}

impl VerdictKind {
    /// The words the report prints.
    pub fn words(self) -> &'static str {
        match self {
            Self::Holds => "holds",
            Self::HoldsWithDifference => "holds with a difference",
            Self::DoesNotHold => "does not hold here",
            Self::Inconclusive => "inconclusive",
        }
    }
}

/// The verdict and why: the numbers and the threshold that decided it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub reason: String,
}

impl Verdict {
    pub fn new(kind: VerdictKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}
