//! The real upstream call against a tiny local HTTP server, through both backends.

mod common;

use std::net::TcpListener;

use clab_backend::{AsyncBackend, Backend, BlockingBackend, LoopBackend};
use common::{FAIL, OK, canned_server, ready, upstream_config};

#[test]
fn blocking_real_upstream() {
    let (url, server) = canned_server(vec![OK, FAIL]);
    let b = BlockingBackend::connect(&upstream_config(url.clone())).unwrap();
    assert!(
        b.describe().contains("upstream: POST 127.0.0.1:"),
        "{}",
        b.describe()
    );
    let receipt = ready(b.notify(42, "your order shipped")).unwrap();
    assert_eq!(receipt.id, "abc-1");
    assert!(!receipt.simulated);
    let err = ready(b.notify(42, "again")).unwrap_err();
    assert!(
        err.is_unavailable() && err.to_string().contains("502"),
        "{err}"
    );
    let requests = server.join().unwrap();
    assert!(
        requests[0].starts_with("POST /notify HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    assert!(requests[0].ends_with(r#"{"message":"your order shipped","user_id":42}"#));
}

#[tokio::test]
async fn async_real_upstream() {
    let (url, server) = canned_server(vec![OK, FAIL]);
    let b = AsyncBackend::connect(&upstream_config(url)).await.unwrap();
    let receipt = b.notify(7, "hi").await.unwrap();
    assert_eq!((receipt.id.as_str(), receipt.simulated), ("abc-1", false));
    let err = b.notify(7, "again").await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let requests = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert_eq!(requests.len(), 2);
}

#[test]
fn event_loop_real_upstream() {
    let (url, server) = canned_server(vec![OK, FAIL]);
    let rt = clab_event_loop::Runtime::new().unwrap();
    rt.block_on(async {
        let b = LoopBackend::connect(&upstream_config(url)).await.unwrap();
        let receipt = b.notify(7, "hi").await.unwrap();
        assert_eq!((receipt.id.as_str(), receipt.simulated), ("abc-1", false));
        let err = b.notify(7, "again").await.unwrap_err();
        assert!(err.is_unavailable(), "{err}");
    })
    .unwrap();
    assert_eq!(server.join().unwrap().len(), 2);
}

#[tokio::test]
async fn unreachable_upstream_is_unavailable() {
    // Bind then drop a listener: its port is (almost certainly) closed now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = upstream_config(format!("http://127.0.0.1:{port}/"));
    let b = AsyncBackend::connect(&cfg).await.unwrap();
    let err = b.notify(1, "x").await.unwrap_err();
    assert!(
        err.is_unavailable() && err.to_string().starts_with("upstream"),
        "{err}"
    );
    let b = BlockingBackend::connect(&cfg).unwrap();
    assert!(ready(b.notify(1, "x")).unwrap_err().is_unavailable());
}
