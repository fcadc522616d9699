//! `--trace`: every model records per-request spans that `/debug/trace` returns. Its own test
//! binary, because tracing is switched on for the whole process.

mod support;

use clab_server::for_each_model;
use support::{TestServer, get, with_latency};

for_each_model! {
    fn trace_shows_requests_their_waits_and_threads(model) {
        clab_trace::enable(clab_trace::RingConfig::DEFAULT);
        let server = TestServer::start(model, |o| with_latency(o, "5"));
        let mut c = server.client();
        assert_eq!(c.roundtrip(&get("/users/7")).status, 200);
        let r = c.roundtrip(&get("/debug/trace?since=0"));
        assert_eq!(r.status, 200, "{r:?}");
        let snap: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
        assert_eq!(snap["enabled"], true);
        let spans = snap["spans"].as_array().expect("spans");
        let request = spans
            .iter()
            .rev()
            .find(|s| s["kind"] == "request" && s["label"] == "/users/7")
            .unwrap_or_else(|| panic!("{model}: no request span for /users/7"));
        let id = &request["request"];
        let mine: Vec<_> = spans.iter().filter(|s| &s["request"] == id).collect();
        let waits = mine.iter().filter(|s| s["kind"] == "wait" && s["what"] == "db").count();
        assert_eq!(waits, 2, "{model}: two queries, two db waits: {mine:?}");
        assert!(mine.iter().any(|s| s["kind"] == "run"), "{model}: {mine:?}");
        for s in &mine {
            assert!(s["tid"].as_i64() > Some(0), "{model}: {s}");
            assert!(s["end_us"].as_u64() >= s["start_us"].as_u64(), "{model}: {s}");
        }
        let r = c.roundtrip(&get("/debug/trace?since=x"));
        assert_eq!(r.status, 400);
    }
}
