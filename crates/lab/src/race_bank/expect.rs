//! What the chapter says each strategy does, and what a run's figures say it did.

use clab_backend::RaceStrategy;
use clab_race::bank::Report;
use serde::Serialize;

/// The claim a run tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expectation {
    /// No anomaly.
    Holds,
    /// Anomalies.
    Breaks,
}

/// What of the model decides the expectation, given by the caller (who knows the models).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelFacts {
    /// Serves one request at a time (`sync`): one instance never overlaps two requests.
    pub serial: bool,
    /// Shared-nothing shards per process (`thread-per-core`: one backend, with its own locks
    /// and owner, per shard); 1 for every other model.
    pub shards: usize,
}

impl Default for ModelFacts {
    fn default() -> Self {
        Self {
            serial: false,
            shards: 1,
        }
    }
}

/// `racy` breaks wherever two requests overlap, even on one thread (an await between check
/// and act is enough: C19); `lock` and `actor` protect one backend only, so they break across
/// processes (B01) and across thread-per-core's shards; the database strategies hold across
/// processes; a READ COMMITTED transaction alone loses updates (Hermitage's P4). A server that
/// serves one request at a time never overlaps requests, so alone it breaks nothing.
pub fn expectation(strategy: RaceStrategy, instances: usize, model: ModelFacts) -> Expectation {
    let overlap = instances > 1 || !model.serial;
    match strategy {
        RaceStrategy::Racy | RaceStrategy::TxnReadCommitted if overlap => Expectation::Breaks,
        s if s.in_process() && instances * model.shards > 1 => Expectation::Breaks,
        _ => Expectation::Holds,
    }
}

/// What a run showed, against what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Anomalies were expected and found, or none expected and none found.
    AsExpected,
    /// The opposite of the expectation.
    Differs,
    /// Too little was accepted for "no anomaly" to mean anything (most requests failed or
    /// the run was cut short), or the run did not happen.
    Inconclusive,
}

/// Fewer accepted operations than this share of the planned ones, and a clean history
/// proves little.
const MIN_ACCEPTED_SHARE: f64 = 0.25;

impl Verdict {
    pub fn of(expected: Expectation, report: Option<&Report>, planned_ops: u64) -> Self {
        let Some(report) = report else {
            return Self::Inconclusive;
        };
        let broke = !report.anomalies.is_empty();
        let enough = report.accepted as f64 >= MIN_ACCEPTED_SHARE * planned_ops as f64;
        match (expected, broke) {
            (Expectation::Breaks, true) => Self::AsExpected,
            (Expectation::Holds, true) => Self::Differs,
            (_, false) if !enough => Self::Inconclusive,
            (Expectation::Holds, false) => Self::AsExpected,
            (Expectation::Breaks, false) => Self::Differs,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AsExpected => "as the chapter says",
            Self::Differs => "DIFFERS",
            Self::Inconclusive => "inconclusive",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clab_race::bank::Report;

    #[test]
    fn expectations_follow_the_chapter() {
        use RaceStrategy as S;
        let any = ModelFacts::default();
        assert_eq!(expectation(S::Racy, 1, any), Expectation::Breaks);
        assert_eq!(expectation(S::Lock, 1, any), Expectation::Holds);
        assert_eq!(expectation(S::Lock, 2, any), Expectation::Breaks);
        assert_eq!(expectation(S::Actor, 2, any), Expectation::Breaks);
        assert_eq!(expectation(S::DbConditional, 2, any), Expectation::Holds);
        assert_eq!(
            expectation(S::TxnReadCommitted, 1, any),
            Expectation::Breaks
        );
        assert_eq!(
            expectation(S::TxnRepeatableRead, 2, any),
            Expectation::Holds
        );
        let serial = ModelFacts {
            serial: true,
            shards: 1,
        };
        assert_eq!(expectation(S::Racy, 1, serial), Expectation::Holds);
        assert_eq!(expectation(S::Racy, 2, serial), Expectation::Breaks);
        let sharded = ModelFacts {
            serial: false,
            shards: 2,
        };
        assert_eq!(expectation(S::Lock, 1, sharded), Expectation::Breaks);
    }

    #[test]
    fn a_clean_run_with_little_accepted_proves_nothing() {
        let clean = Report {
            accepted: 10,
            ..Report::default()
        };
        assert_eq!(
            Verdict::of(Expectation::Holds, Some(&clean), 1000),
            Verdict::Inconclusive
        );
        let clean = Report {
            accepted: 900,
            ..clean
        };
        assert_eq!(
            Verdict::of(Expectation::Holds, Some(&clean), 1000),
            Verdict::AsExpected
        );
        assert_eq!(
            Verdict::of(Expectation::Breaks, Some(&clean), 1000),
            Verdict::Differs
        );
        assert_eq!(
            Verdict::of(Expectation::Holds, None, 1000),
            Verdict::Inconclusive
        );
    }
}
