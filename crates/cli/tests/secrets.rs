//! Connection strings with passwords never reach the output: `clab serve` at the most verbose
//! log level, with a canary password in every URL it takes, against a PostgreSQL that is not
//! there, one that refuses the password (when `CLAB_TEST_DATABASE_URL` is set) and a Redis
//! that is not there. Whatever it prints, its startup line, its log and its error, must not
//! contain the canary.

use std::process::Command;
use std::time::{Duration, Instant};

const CANARY: &str = "Canary-S3cret-7f3a";

/// Everything `clab serve ARGS` prints within a few seconds (it fails to start, or is killed).
fn output_of(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clab"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "trace"])
        .args(args)
        .env("CLAB_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting clab serve");
    let deadline = Instant::now() + Duration::from_secs(8);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_canary_password_never_appears_in_logs_or_errors() {
    let mut cases = vec![
        (
            "PostgreSQL not there",
            vec![format!(
                "--database-url=postgres://clab:{CANARY}@127.0.0.1:1/test"
            )],
        ),
        (
            "Redis not there",
            vec![
                "--database-url=sqlite::memory:".to_owned(),
                format!("--redis-url=redis://:{CANARY}@127.0.0.1:1"),
            ],
        ),
    ];
    match std::env::var("CLAB_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            // The real server, reached with a user and password it does not know.
            let rest = url
                .split_once('@')
                .map_or("127.0.0.1:5432/test", |(_, r)| r);
            cases.push((
                "PostgreSQL refusing the password",
                vec![format!("--database-url=postgres://nobody:{CANARY}@{rest}")],
            ));
        }
        _ => eprintln!(
            "NOTICE: CLAB_TEST_DATABASE_URL is not set; the canary is not tried against a real PostgreSQL"
        ),
    }
    for (what, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = output_of(&args);
        assert!(!out.is_empty(), "{what}: printed nothing");
        assert!(
            !out.contains(CANARY),
            "{what}: the password is in the output:\n{out}"
        );
    }
}
