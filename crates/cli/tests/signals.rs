//! Ctrl-C as a user presses it: real SIGINTs to the real binary. `clab load` stops early and
//! still prints its report; `clab serve` drains and exits 0.

use std::io::{BufRead, BufReader, Lines, Read};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn clab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_clab"))
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success());
}

/// Waits for the child to exit, killing it (and failing) past `limit`.
fn wait_at_most(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not exit within {limit:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `clab serve` on a free port with an in-memory database; returns it and its address.
fn start_server() -> (Child, String) {
    start_model("async-multi")
}

fn start_model(model: &str) -> (Child, String) {
    let (server, addr, lines) = start_until_ready(model);
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (server, addr)
}

/// `clab serve --model MODEL` on a free port with an in-memory database, once it is ready:
/// the child, its address, and the rest of its stderr (the caller drains or drops it).
fn start_until_ready(model: &str) -> (Child, String, Lines<BufReader<ChildStderr>>) {
    let mut server = clab()
        .args([
            "serve",
            "--model",
            model,
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "sqlite::memory:",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting clab serve");
    let mut lines = BufReader::new(server.stderr.take().expect("piped stderr")).lines();
    let addr = loop {
        let line = match lines.next() {
            Some(Ok(line)) => line,
            _ => {
                let _ = server.kill();
                panic!("clab serve ended before it was ready");
            }
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split(';').next().expect("an address").to_owned();
        }
    };
    (server, addr, lines)
}

#[test]
fn ctrl_c_stops_load_with_a_report_and_serve_drains() {
    let (mut server, addr) = start_server();

    let mut load = clab()
        .args([
            "load",
            &format!("http://{addr}/plaintext"),
            "-c",
            "2",
            "-t",
            "1",
        ])
        .args(["-d", "60s", "--json", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting clab load");
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(&load);
    let status = wait_at_most(&mut load, Duration::from_secs(10), "clab load");
    let mut out = String::new();
    load.stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut out)
        .expect("reading the report");
    assert!(status.success(), "clab load exited with {status}: {out}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    let elapsed = report["elapsed_s"].as_f64().expect("elapsed_s");
    assert!(elapsed > 0.0 && elapsed < 10.0, "elapsed_s {elapsed}");
    assert!(report["responses"].as_u64().expect("responses") > 0);
    assert!(
        report["notes"].as_array().expect("notes").iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.starts_with("interrupted after"))),
        "{out}"
    );

    interrupt(&server);
    let status = wait_at_most(&mut server, Duration::from_secs(20), "clab serve");
    assert!(status.success(), "clab serve exited with {status}");
}

/// A drain loses no request, tried as a user would: `clab load -c 64` against `/users/{id}`,
/// a SIGTERM to the server a second and a half in. Every request the client sent is answered;
/// the only errors allowed are connects refused after the listener closed.
#[test]
fn sigterm_under_load_loses_no_request() {
    // Ten runs on async-multi (where a user saw 0-15 resets per run before the drain served
    // requests already on their way), two on each other model that serves many connections.
    let plan = [
        ("async-multi", 10),
        ("async-single", 2),
        ("thread-pool", 2),
        ("thread-per-request", 2),
        ("thread-per-core", 2),
        ("coroutines", 2),
    ];
    for (model, runs) in plan {
        for run in 0..runs {
            let (mut server, addr) = start_model(model);
            let load = clab()
                .args([
                    "load",
                    &format!("http://{addr}/users/{{1..200}}"),
                    "-c",
                    "64",
                ])
                .args(["-d", "3s", "--json", "--quiet"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting clab load");
            std::thread::sleep(Duration::from_millis(1500));
            let status = Command::new("kill")
                .args(["-TERM", &server.id().to_string()])
                .status()
                .expect("running kill");
            assert!(status.success());
            let status = wait_at_most(&mut server, Duration::from_secs(20), "clab serve");
            assert!(status.success(), "{model}: clab serve exited with {status}");
            let out = load.wait_with_output().expect("clab load");
            let report: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("a JSON report");
            let errors = &report["errors"];
            eprintln!(
                "{model} run {run}: {} responses, errors {errors}",
                report["responses"]
            );
            assert!(report["responses"].as_u64() > Some(0), "{model}: {report}");
            for kind in ["reset", "closed", "timeout", "bad_response"] {
                assert_eq!(errors[kind], 0, "{model} run {run}: {kind}: {errors}");
            }
        }
    }
}

/// A server whose stderr reader went away (the tour that started it died) must still stop on
/// SIGTERM: printing "shutting down" to the closed pipe used to panic the signal thread
/// before it triggered the shutdown, leaving the server running.
#[test]
fn sigterm_stops_a_server_whose_stderr_is_closed() {
    let (mut server, _, lines) = start_until_ready("async-multi");
    drop(lines);
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success());
    wait_at_most(
        &mut server,
        Duration::from_secs(10),
        "clab serve with a closed stderr",
    );
}
