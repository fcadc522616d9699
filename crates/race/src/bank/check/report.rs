//! What the checker found: counts of the history, and per anomaly kind how often it showed
//! and its first example in words, with the ids of the operations that show it.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnomalyKind {
    /// A full read's total outside the bounds: money created or destroyed mid-run.
    WrongTotal,
    /// A balance below zero in some answer: the check-then-act race let a withdrawal through.
    NegativeBalance,
    /// The final state is not the initial plus the accepted operations: a lost update (or
    /// money created), per account.
    FinalState,
    /// A 409 that the request cannot deserve: its reported balance covered the amount, or it
    /// names an account the operation takes nothing from.
    BadRefusal,
    /// An answer (a 200's balances, a full read's accounts, a 409's balance) that no order of
    /// the operations around it allows: a stale read, or a lost update seen mid-run.
    WrongBalance,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 5] = [
        Self::WrongTotal,
        Self::NegativeBalance,
        Self::FinalState,
        Self::BadRefusal,
        Self::WrongBalance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::WrongTotal => "wrong-total",
            Self::NegativeBalance => "negative-balance",
            Self::FinalState => "final-state",
            Self::BadRefusal => "bad-refusal",
            Self::WrongBalance => "wrong-balance",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: the report aligns the names with a width.
        f.pad(self.name())
    }
}

/// One anomaly kind: how many times it showed and the first example, with the operations
/// that show it (ids, times, values) in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub count: u64,
    pub first: String,
    /// The ids of the operations the first example names.
    pub first_ops: Vec<u64>,
}

/// Counts of a history and its anomalies (an empty list: none found).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ops: u64,
    pub accepted: u64,
    pub refused: u64,
    pub failed: u64,
    pub indeterminate: u64,
    pub reads: u64,
    pub anomalies: Vec<Anomaly>,
}

impl Report {
    pub fn count(&self, kind: AnomalyKind) -> u64 {
        self.anomalies
            .iter()
            .find(|a| a.kind == kind)
            .map_or(0, |a| a.count)
    }

    pub fn anomaly(&self, kind: AnomalyKind) -> Option<&Anomaly> {
        self.anomalies.iter().find(|a| a.kind == kind)
    }

    /// Count one occurrence of `kind`; `first` (the words and the op ids) is computed only for
    /// the first one, so that explaining an example may cost a pass over the history.
    pub(super) fn note(&mut self, kind: AnomalyKind, first: impl FnOnce() -> (String, Vec<u64>)) {
        match self.anomalies.iter_mut().find(|a| a.kind == kind) {
            Some(a) => a.count += 1,
            None => {
                let (first, first_ops) = first();
                self.anomalies.push(Anomaly {
                    kind,
                    count: 1,
                    first,
                    first_ops,
                });
            }
        }
    }
}

/// The summary line, then one line per kind (every kind, so that a zero is seen to be
/// checked) with its first example indented below.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} operations: {} accepted, {} refused (409), {} failed, {} indeterminate, {} full reads",
            self.ops, self.accepted, self.refused, self.failed, self.indeterminate, self.reads
        )?;
        for kind in AnomalyKind::ALL {
            match self.anomaly(kind) {
                None => writeln!(f, "  {kind:<17} 0")?,
                Some(a) => {
                    writeln!(f, "  {kind:<17} {}", a.count)?;
                    writeln!(f, "    first: {}", a.first)?;
                }
            }
        }
        if self.anomalies.is_empty() {
            writeln!(f, "no anomaly found")?;
        }
        Ok(())
    }
}
