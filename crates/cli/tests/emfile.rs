//! Running out of file descriptors, as an operator meets it: `clab serve` under a low
//! `RLIMIT_NOFILE` (set with util-linux's `prlimit`) and more clients than it can hold. Every
//! model must log the failing `accept` (EMFILE) once, not a hundred times a second, keep its
//! open connections, shed idle keep-alive ones so that a new client gets in while the others
//! still hold theirs, and serve new clients again once descriptors free up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The server's descriptor limit and how many clients try to get in.
const NOFILE: &str = "--nofile=160";
const CLIENTS: usize = 260;

/// `clab serve --model MODEL` under the low limit; its address and its stderr lines so far.
fn start(model: &str) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut server = Command::new("prlimit")
        .arg(NOFILE)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_clab"))
        .args(["serve", "--model", model, "--listen", "127.0.0.1:0"])
        .args(["--database-url", "sqlite::memory:", "--pool-size", "2"])
        // The event loop runs on exactly one thread and refuses --workers.
        .args(if model == "event-loop" {
            &[][..]
        } else {
            &["--workers", "2"][..]
        })
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting prlimit … clab serve");
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    break rest.split(';').next().unwrap().trim().to_owned();
                }
            }
            _ => {
                let _ = server.kill();
                panic!("{model}: clab serve ended before it was ready");
            }
        }
    };
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (server, addr, log)
}

/// One `GET /plaintext` on a new connection: its status line, or the error.
fn get(addr: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out.lines().next().unwrap_or_default().to_owned())
}

/// Whether a new client gets `200 OK` within `limit` (retrying a 503 or a failed connect).
fn served_within(addr: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        match get(addr) {
            Ok(status) if status == "HTTP/1.1 200 OK" => return true,
            _ if Instant::now() > deadline => return false,
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// `GET /debug/stats` as JSON (`Null` if it fails).
fn stats(addr: &str) -> serde_json::Value {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return serde_json::Value::Null;
    };
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = s.write_all(b"GET /debug/stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or_default()
}

fn accept_warnings(log: &Mutex<Vec<String>>) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("accept failed"))
        .cloned()
        .collect()
}

fn out_of_descriptors_is_logged_once_and_survived(model: &str) {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("NOTICE: prlimit (util-linux) not found; the EMFILE test is skipped");
        return;
    }
    let (mut server, addr, log) = start(model);
    assert_eq!(get(&addr).as_deref(), Ok("HTTP/1.1 200 OK"), "{model}");
    // Idle keep-alive clients that each got an answer hold a descriptor of the server each;
    // past the limit, the kernel completes connections the server cannot accept.
    let mut held = Vec::new();
    for _ in 0..CLIENTS {
        match TcpStream::connect(&addr) {
            Ok(mut s) => {
                let _ = s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
                held.push(s);
            }
            Err(_) => break,
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while accept_warnings(&log).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the backoff retry for a while: the warnings must not follow every retry.
    std::thread::sleep(Duration::from_millis(1500));
    let warnings = accept_warnings(&log);
    assert!(
        warnings.iter().any(|w| w.contains("Too many open files")),
        "{model}: EMFILE was not logged: {:?}",
        log.lock().unwrap()
    );
    assert!(
        warnings.len() <= 4,
        "{model}: {} accept warnings in ~2 s: not rate-limited",
        warnings.len()
    );
    // The idle keep-alive connections are shed first: a new client gets in while every held
    // client still keeps its connection open (without shedding it would wait for their 60 s
    // idle timeout).
    let served_while_held = served_within(&addr, Duration::from_secs(5));
    // Free the descriptors: the server accepts (and answers) again.
    drop(held);
    let recovered = served_within(&addr, Duration::from_secs(10));
    let stats = stats(&addr);
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        served_while_held,
        "{model}: no 200 within 5 s while idle clients held the descriptors: {:?}",
        log.lock().unwrap()
    );
    assert!(
        stats["idle_shed"].as_u64() > Some(0),
        "{model}: no idle connection shed: {stats}"
    );
    assert!(
        recovered,
        "{model}: no 200 within 10 s of freeing descriptors"
    );
}

#[test]
fn async_multi_logs_emfile_and_recovers() {
    out_of_descriptors_is_logged_once_and_survived("async-multi");
}

#[test]
fn event_loop_logs_emfile_and_recovers() {
    out_of_descriptors_is_logged_once_and_survived("event-loop");
}

#[test]
fn thread_pool_logs_emfile_and_recovers() {
    out_of_descriptors_is_logged_once_and_survived("thread-pool");
}

#[test]
fn coroutines_log_emfile_and_recover() {
    out_of_descriptors_is_logged_once_and_survived("coroutines");
}
