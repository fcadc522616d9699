//! The real upstream call against a tiny local HTTP server, through both backends.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use clab_backend::{AsyncBackend, Backend, BackendConfig, BlockingBackend};
use common::{memory_config, ready};

/// Serve `answers.len()` connections, each answered with the next canned response; returns
/// the URL and a handle yielding each request received.
fn canned_server(answers: Vec<&'static str>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        answers
            .into_iter()
            .map(|answer| {
                let (mut conn, _) = listener.accept().unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head, then the Content-Length body.
                loop {
                    let n = conn.read(&mut buf).unwrap();
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if req.len() >= end + 4 + len {
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                conn.write_all(answer.as_bytes()).unwrap();
                String::from_utf8(req).unwrap()
            })
            .collect()
    });
    (url, handle)
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"id\":\"abc-1\"}";
const FAIL: &str = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn config(url: String) -> BackendConfig {
    BackendConfig {
        upstream_url: Some(url),
        ..memory_config(3)
    }
}

#[test]
fn blocking_real_upstream() {
    let (url, server) = canned_server(vec![OK, FAIL]);
    let b = BlockingBackend::connect(&config(url.clone())).unwrap();
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
    let b = AsyncBackend::connect(&config(url)).await.unwrap();
    let receipt = b.notify(7, "hi").await.unwrap();
    assert_eq!((receipt.id.as_str(), receipt.simulated), ("abc-1", false));
    let err = b.notify(7, "again").await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let requests = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert_eq!(requests.len(), 2);
}

#[tokio::test]
async fn unreachable_upstream_is_unavailable() {
    // Bind then drop a listener: its port is (almost certainly) closed now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(format!("http://127.0.0.1:{port}/"));
    let b = AsyncBackend::connect(&cfg).await.unwrap();
    let err = b.notify(1, "x").await.unwrap_err();
    assert!(
        err.is_unavailable() && err.to_string().starts_with("upstream"),
        "{err}"
    );
    let b = BlockingBackend::connect(&cfg).unwrap();
    assert!(ready(b.notify(1, "x")).unwrap_err().is_unavailable());
}
