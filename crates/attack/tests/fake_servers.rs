//! The checks against two tiny fake servers that always answer 400, one closing after it and
//! one keeping the connection open: the same verdict code must pass the first and fail the
//! second, so neither check can pass whatever the server does.

use clab_attack::{Target, Verdict, malformed, smuggling};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// A server on a free loopback port answering every connection's first read with a 400; with
/// `close`, it then closes, else it holds the connection for two seconds.
fn fake(close: bool) -> Target {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                if s.read(&mut buf).is_ok_and(|n| n > 0) {
                    let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                    if !close {
                        std::thread::sleep(Duration::from_secs(2));
                    }
                }
            });
        }
    });
    Target::parse(&url, false).expect("a loopback target")
}

fn small_malformed() -> malformed::Config {
    malformed::Config {
        cases: 24,
        wait: Duration::from_millis(300),
        probe_every: 12,
        ..malformed::Config::default()
    }
}

fn smuggling_config() -> smuggling::Config {
    smuggling::Config {
        wait: Duration::from_millis(300),
        parallel: 16,
    }
}

#[test]
fn a_server_that_answers_400_and_closes_passes() {
    let target = fake(true);
    let s = smuggling::run(&target, &smuggling_config());
    assert_eq!(s.verdict, Verdict::Pass, "{s:?}");
    assert_eq!(s.get("refused_400_closed"), s.get("variants"));
    let m = malformed::run(&target, &small_malformed(), &|_| {});
    assert_eq!(m.verdict, Verdict::Pass, "{m:?}");
    assert_eq!(m.get("framing_violations"), Some(0.0));
}

#[test]
fn a_server_that_keeps_the_connection_after_a_400_fails() {
    let target = fake(false);
    let s = smuggling::run(&target, &smuggling_config());
    assert_eq!(s.verdict, Verdict::Fail, "{s:?}");
    assert_eq!(s.get("400_not_closed"), s.get("variants"));
    let m = malformed::run(&target, &small_malformed(), &|_| {});
    assert_eq!(m.verdict, Verdict::Fail, "{m:?}");
    assert_eq!(m.get("framing_violations"), Some(24.0));
    assert!(
        m.details[0].contains("left the connection open"),
        "{:?}",
        m.details
    );
}
