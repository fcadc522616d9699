//! The summary table of `clab race bank`, and the first example of each anomaly found.

use std::fmt::Write as _;

use clab_race::bank::AnomalyKind;

use super::{Config, Expectation, Run};

/// The table, one row per run, then each run's anomalies with their first example.
pub fn render(cfg: &Config, runs: &[Run]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Bank races (C19, C20, B01): model {}, {} accounts of {} cents each, {} clients, {} \
         operations per run, database {}, latency {}",
        cfg.model,
        cfg.accounts,
        cfg.opening_balance,
        cfg.clients,
        cfg.ops,
        clab_backend::redact_url(&cfg.database_url),
        cfg.latency
    );
    if cfg.latency != "none" {
        let _ = writeln!(
            out,
            "(each database step waits a SIMULATED network round trip: --latency {})",
            cfg.latency
        );
    }
    if cfg.model_facts.shards > 1 {
        let _ = writeln!(
            out,
            "note: {}'s {} shards share nothing; each has its own locks and owner, so for \
             lock and actor one process is {} instances",
            cfg.model, cfg.model_facts.shards, cfg.model_facts.shards
        );
    }
    if cfg.model_facts.serial {
        let _ = writeln!(
            out,
            "note: {} serves one request at a time, so one instance never overlaps two \
             requests",
            cfg.model
        );
    }
    out.push('\n');
    let kinds = AnomalyKind::ALL;
    let _ = write!(
        out,
        "{:<20} {:>4} {:>6} {:>8} {:>7} {:>6} {:>6}",
        "strategy", "inst", "ops", "accepted", "refused", "failed", "indet"
    );
    for k in kinds {
        let _ = write!(out, " {:>16}", k.name());
    }
    let _ = writeln!(out, " {:>8} {:>7}  verdict", "expected", "seconds");
    for r in runs {
        let _ = write!(out, "{:<20} {:>4}", r.strategy.name(), r.instances);
        match &r.report {
            Some(rep) => {
                let _ = write!(
                    out,
                    " {:>6} {:>8} {:>7} {:>6} {:>6}",
                    rep.ops, rep.accepted, rep.refused, rep.failed, rep.indeterminate
                );
                for k in kinds {
                    let _ = write!(out, " {:>16}", rep.count(k));
                }
            }
            None => {
                let _ = write!(
                    out,
                    " {:>6} {:>8} {:>7} {:>6} {:>6}",
                    "-", "-", "-", "-", "-"
                );
                for _ in kinds {
                    let _ = write!(out, " {:>16}", "-");
                }
            }
        }
        let expected = match r.expected {
            Expectation::Holds => "holds",
            Expectation::Breaks => "breaks",
        };
        let verdict = if r.skipped.is_some() {
            "not run (below)"
        } else {
            r.verdict.name()
        };
        let _ = writeln!(out, " {expected:>8} {:>7.1}  {verdict}", r.elapsed_s);
    }
    for r in runs {
        if let Some(why) = &r.skipped {
            let _ = writeln!(out, "\n{} × {}: not run: {why}", r.strategy, r.instances);
        }
        let Some(rep) = &r.report else { continue };
        for a in &rep.anomalies {
            let _ = writeln!(
                out,
                "\n{} × {}: {} × {}; first: {}",
                r.strategy, r.instances, a.count, a.kind, a.first
            );
        }
    }
    out
}
