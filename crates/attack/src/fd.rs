//! File descriptors: open many connections, each making one keep-alive request and then
//! holding its descriptor on the server, up to `connections`. Meanwhile a connection opened
//! before them keeps asking; once they close, new connections must be served again. A server at
//! its descriptor limit may stop accepting (connections then wait in the kernel's queue); what
//! it must not do is stop serving what it has, or fail to recover. A server may shed idle
//! keep-alive connections to free descriptors (the existing one is idle between its requests):
//! a close before any byte of a response is retried once on a new connection, as a client may
//! (RFC 9112 §9.3.1), and counted as `existing_reopened`; a failed retry, a timeout or a
//! response cut short is a failure.

use crate::crowd::{Crowd, Kind};
use crate::report::{CheckResult, quantile};
use crate::target::Target;
use crate::wire::{Failed, ask, connect, probe};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Bounds of the descriptor check.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connections opened (the bound).
    pub connections: usize,
    /// The existing connection asks once per this many new connections.
    pub ask_every: usize,
    /// How long the crowd is held once open, for the server to answer the last ones.
    pub settle: Duration,
    /// How long one request (the existing connection's, a probe) may take.
    pub wait: Duration,
    /// How long after the crowd closes new connections must be served again.
    pub recover_limit: Duration,
    /// Opening stops here even if not all are open (each connect to a full accept queue waits
    /// for SYN retries).
    pub open_limit: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connections: 300,
            ask_every: 25,
            settle: Duration::from_secs(1),
            wait: Duration::from_secs(2),
            recover_limit: Duration::from_secs(5),
            open_limit: Duration::from_secs(10),
        }
    }
}

pub fn run(target: &Target, config: &Config, progress: &dyn Fn(String)) -> CheckResult {
    let mut result = CheckResult::new("fd");
    if let Err(e) = clab_load::ensure_fd_limit(config.connections) {
        return result.skip(e.to_string());
    }
    let request = crate::wire::keep_alive_request(target);
    let mut existing = match connect(target.addr, config.wait) {
        Ok(s) => s,
        Err(e) => return result.skip(format!("cannot connect: {e}")),
    };
    let mut asks: Vec<Result<f64, String>> = Vec::new();
    let mut reopened = 0usize;
    let mut ask_existing = |stream: &mut TcpStream| {
        let mut answer = ask(stream, &request, config.wait);
        if answer.as_ref().is_err_and(|f| f.before_any_byte) {
            // Shed while idle: the retry goes to the back of the server's accept queue.
            reopened += 1;
            answer = match connect(target.addr, config.wait) {
                Ok(fresh) => {
                    *stream = fresh;
                    ask(stream, &request, config.wait)
                }
                Err(e) => Err(Failed::for_good(format!(
                    "reconnect after an idle close: {e}"
                ))),
            };
        }
        asks.push(
            answer
                .map(|a| a.after.as_secs_f64() * 1000.0)
                .map_err(|f| f.reason),
        );
    };
    ask_existing(&mut existing);
    progress(format!("fd: opening {} connections", config.connections));
    let mut crowd = Crowd::new(target, Duration::from_secs(3600));
    let opening = Instant::now();
    for i in 0..config.connections {
        if opening.elapsed() > config.open_limit {
            break;
        }
        crowd.join(Kind::Idle);
        if (i + 1) % config.ask_every.max(1) == 0 {
            // Lets the crowd read its answers too, so no socket buffer fills meanwhile.
            crowd.hold(Duration::from_millis(1), false, 0);
            ask_existing(&mut existing);
        }
    }
    crowd.hold(config.settle, false, 0);
    ask_existing(&mut existing);
    let (connects, connect_failures) = (crowd.connects, crowd.connect_failures);
    let open_at_end = crowd.open(None);
    let lives = crowd.dismiss();
    let served = lives.iter().filter(|l| !l.answers.is_empty()).count();
    let closed_by_server = lives.iter().filter(|l| l.closed).count();
    progress("fd: connections closed; accepting again?".into());
    let closed_at = Instant::now();
    let reaccepted = loop {
        if let Some(a) = probe(target, config.wait) {
            break Some((closed_at.elapsed(), a.status));
        }
        if closed_at.elapsed() >= config.recover_limit {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    let ok_ms: Vec<f64> = asks
        .iter()
        .filter_map(|a| a.as_ref().ok().copied())
        .collect();
    let failed: Vec<&String> = asks.iter().filter_map(|a| a.as_ref().err()).collect();
    result.count("connections", config.connections);
    result.count("connected", connects);
    result.count("connect_failures", connect_failures);
    result.count("served", served);
    result.count("closed_by_server", closed_by_server);
    result.count("open_at_end", open_at_end);
    result.count("existing_asks", asks.len());
    result.count("existing_failed", failed.len());
    result.count("existing_reopened", reopened);
    result.figure(
        "existing_max",
        quantile(&ok_ms, 1.0).unwrap_or(f64::NAN),
        "ms",
    );
    result.figure(
        "reaccept_after",
        reaccepted.map_or(f64::NAN, |(d, _)| d.as_secs_f64() * 1000.0),
        "ms",
    );
    result.details.extend(
        failed
            .iter()
            .take(3)
            .map(|e| format!("existing connection: {e}")),
    );
    let mut failures = Vec::new();
    if !failed.is_empty() {
        failures.push(format!(
            "the existing connection failed {} of {} requests ({})",
            failed.len(),
            asks.len(),
            failed[0]
        ));
    }
    match reaccepted {
        None => failures.push(format!(
            "no new connection served within {:?} after the {} closed",
            config.recover_limit, config.connections
        )),
        Some((_, status)) if status >= 500 => failures.push(format!(
            "after the connections closed a new one got {status}"
        )),
        Some(_) => {}
    }
    result.judge(
        &failures,
        format!(
            "{served} of {} connections served and {}; the existing connection answered all {} \
             requests{}; new connections served {:.0} ms after they closed",
            config.connections,
            match closed_by_server {
                0 => "held".to_owned(),
                n => format!("held, {n} of them closed by the server meanwhile"),
            },
            asks.len(),
            match reopened {
                0 => String::new(),
                n => format!(" (shed while idle and reopened {n}x)"),
            },
            reaccepted.map_or(f64::NAN, |(d, _)| d.as_secs_f64() * 1000.0)
        ),
    );
    result
}
