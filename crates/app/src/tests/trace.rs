//! `App::handle` as a traced request. Enabling tracing is process-wide, so the other tests in
//! this binary record spans from here on too; this one finds its own by its thread id.

use super::block_on;
use super::fake::Fake;
use super::request;
use crate::App;
use clab_http::Method;
use clab_trace::{RingConfig, SpanKind};

#[test]
fn a_traced_request_records_its_request_span_and_run_spans() {
    clab_trace::enable(RingConfig::DEFAULT);
    let app = App::new(Fake::default());
    let since = clab_trace::snapshot(0).now_us;
    let response = block_on(app.handle(request(Method::Get, "/users/1?verbose=1", &[], b"")));
    assert_eq!(response.status, 200);

    let tid = clab_trace::gettid();
    let spans = clab_trace::snapshot(since).spans;
    let labelled_here = |s: &&clab_trace::Span| {
        s.tid == tid
            && matches!(&s.kind, SpanKind::Request { label: Some(l) } if &**l == "/users/1")
    };
    let request_span = spans
        .iter()
        .find(labelled_here)
        .unwrap_or_else(|| panic!("no Request span labelled /users/1 on this thread: {spans:?}"));
    let runs: Vec<_> = spans
        .iter()
        .filter(|s| s.request == request_span.request && s.kind == SpanKind::Run)
        .collect();
    assert!(!runs.is_empty(), "no Run span: {spans:?}");
    for run in runs {
        assert_eq!(run.tid, tid, "block_on polls on this thread");
        assert!(request_span.start_us <= run.start_us && run.end_us <= request_span.end_us);
    }
    assert_eq!(
        clab_trace::current(),
        None,
        "nothing current after the request"
    );
}
