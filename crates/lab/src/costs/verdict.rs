//! Verdicts: compare a measured median with the chapter's claimed range. Code decides; nothing
//! in the table is judged by hand.

use serde::Serialize;

/// Which direction is good for a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Better {
    /// Costs: less time, fewer bytes.
    Lower,
    /// Capacities: more units.
    Higher,
}

/// A claim of the chapter as a numeric range `[lo, hi]` (`hi = ∞` for "1,000,000+"), with the
/// chapter's words kept for the table. A claim "~X" is read as X/2 ..= 2X.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// The chapter's words.
    pub text: &'static str,
    /// Lower end of the claimed range.
    pub lo: f64,
    /// Upper end (`f64::INFINITY` for open ranges).
    pub hi: f64,
    /// Whether lower or higher is better for this quantity.
    pub better: Better,
}

/// What the numbers say about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The measured median lies in the claimed range.
    Within,
    /// Outside the range, on the good side (cheaper, or more units fit).
    Better,
    /// Outside the range, on the bad side.
    Worse,
    /// The measurement stopped at a cap below the claimed range, so it cannot say.
    Inconclusive,
    /// A qualitative claim the measurement confirms.
    Confirmed,
    /// A qualitative claim the measurement contradicts.
    Refuted,
}

impl Verdict {
    /// The word printed in the table.
    pub fn word(self) -> &'static str {
        match self {
            Self::Within => "within claim",
            Self::Better => "better",
            Self::Worse => "worse",
            Self::Inconclusive => "inconclusive",
            Self::Confirmed => "confirmed",
            Self::Refuted => "refuted",
        }
    }
}

impl Claim {
    /// Judge a measured value. `capped` says the value is only a lower bound (the probe stopped
    /// at its cap, not at a limit), which matters for capacities.
    pub fn judge(&self, measured: f64, capped: bool) -> Verdict {
        if capped && self.better == Better::Higher {
            return if measured > self.hi {
                Verdict::Better
            } else if measured >= self.lo {
                // A lower bound inside an open-ended range ("1,000,000+") meets the claim.
                if self.hi.is_infinite() {
                    Verdict::Within
                } else {
                    Verdict::Inconclusive
                }
            } else {
                Verdict::Inconclusive
            };
        }
        if measured < self.lo {
            match self.better {
                Better::Lower => Verdict::Better,
                Better::Higher => Verdict::Worse,
            }
        } else if measured > self.hi {
            match self.better {
                Better::Lower => Verdict::Worse,
                Better::Higher => Verdict::Better,
            }
        } else {
            Verdict::Within
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(lo: f64, hi: f64) -> Claim {
        Claim {
            text: "",
            lo,
            hi,
            better: Better::Lower,
        }
    }

    #[test]
    fn costs_are_better_below_and_worse_above() {
        let c = cost(1000.0, 10_000.0);
        assert_eq!(c.judge(500.0, false), Verdict::Better);
        assert_eq!(c.judge(1000.0, false), Verdict::Within);
        assert_eq!(c.judge(35_000.0, false), Verdict::Worse);
    }

    #[test]
    fn capacities_respect_caps() {
        let c = Claim {
            better: Better::Higher,
            ..cost(5_000.0, 20_000.0)
        };
        assert_eq!(c.judge(32_000.0, false), Verdict::Better);
        assert_eq!(c.judge(1_000.0, false), Verdict::Worse);
        assert_eq!(c.judge(1_000.0, true), Verdict::Inconclusive);
        assert_eq!(c.judge(10_000.0, true), Verdict::Inconclusive);
        assert_eq!(c.judge(40_000.0, true), Verdict::Better);
        let open = Claim {
            hi: f64::INFINITY,
            ..c.clone()
        };
        assert_eq!(open.judge(1_000_000.0, true), Verdict::Within);
    }
}
