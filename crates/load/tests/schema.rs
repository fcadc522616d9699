//! The JSON report of a real run validates against the checked-in schema, and the human
//! summary mentions what it must.

mod support;

use clab_load::{Config, Mode, Schedule, Stop, run, write_human, write_json};
use std::time::Duration;
use support::{Behavior, TestServer};

#[test]
fn json_report_matches_the_schema() {
    let server = TestServer::start(Behavior::Hello);
    for mode in [
        Mode::Open {
            rate: 200.0,
            connections: 2,
        },
        Mode::Closed { connections: 2 },
    ] {
        let sched = Schedule {
            mode,
            stop: Stop::Count(100),
            warmup: Duration::ZERO,
            pipeline: 1,
        };
        let report = run(&Config::new(&server.url("/"), sched).unwrap()).unwrap();
        let mut out = Vec::new();
        write_json(&report, &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../schema/report.schema.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
        assert_eq!(value["responses"], 100);
        assert!(!value["timeline"].as_array().unwrap().is_empty());

        let mut human = Vec::new();
        write_human(&report, &mut human).unwrap();
        let human = String::from_utf8(human).unwrap();
        assert!(human.contains("100 responses"), "{human}");
        assert!(human.contains("errors: 0"), "{human}");
        if matches!(mode, Mode::Open { .. }) {
            assert!(
                human.contains("corrected") && human.contains("uncorrected"),
                "{human}"
            );
        }
    }
}

#[test]
fn schema_rejects_a_report_missing_fields() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({"tool": "clab load"})));
}
