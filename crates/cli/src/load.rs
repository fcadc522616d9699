//! `clab load`: parse the command line into a `clab_load::Config`, run it, print the report.

use anyhow::{Context, bail};
use clab_load::{
    Config, Mode, RequestMix, SchedPolicy, Schedule, Stop, TargetSpec, parse_duration, parse_header,
};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Arguments of `clab load`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    clab load http://127.0.0.1:8080/plaintext -c 64 -d 30s\n  \
    clab load http://127.0.0.1:8080/ --rate 20000 -c 100 -d 1m --warmup 5s\n  \
    clab load http://127.0.0.1:8080 --target 'GET /users/{1..10000}' --weight 9 --target 'POST /hash' --weight 1 -b pw=x\n  \
    clab load http://127.0.0.1:8080/ -n 1000000 --pipeline 16 --json > report.json")]
pub struct Args {
    /// Server URL, http://host[:port][/path]. The path is the target unless --target/--targets is given.
    pub url: String,
    /// Concurrent connections.
    #[arg(short = 'c', long = "connections", default_value_t = 64)]
    pub connections: usize,
    /// Worker threads, each an epoll loop over its share of the connections [default: cores].
    #[arg(short = 't', long = "threads")]
    pub threads: Option<usize>,
    /// Run for this long after the warmup (500ms, 30s, 2m) [default: 10s].
    #[arg(short = 'd', long = "duration", conflicts_with = "requests")]
    pub duration: Option<String>,
    /// Send this many requests after the warmup, then stop.
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Open loop: this many requests per second in total, at fixed intended send times;
    /// latency is also measured from the intended time (coordinated-omission corrected).
    #[arg(long = "rate")]
    pub rate: Option<f64>,
    /// Run this long first without recording.
    #[arg(long = "warmup", default_value = "0s")]
    pub warmup: String,
    /// Per-request timeout, from the send.
    #[arg(long = "timeout", default_value = "5s")]
    pub timeout: String,
    /// Requests in flight per connection (HTTP/1.1 pipelining).
    #[arg(long = "pipeline", default_value_t = 1)]
    pub pipeline: usize,
    /// Method for the URL's path.
    #[arg(short = 'm', long = "method", default_value = "GET")]
    pub method: String,
    /// Extra header for every request, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body for every target that has none of its own.
    #[arg(short = 'b', long = "body")]
    pub body: Option<String>,
    /// A target `METHOD /path`, `{a..b}` draws a random integer per request (repeatable).
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// Weight of each --target, in order (give one per --target or none).
    #[arg(long = "weight")]
    pub weights: Vec<u32>,
    /// A TOML file of [[target]] entries (method, path, weight, body, headers).
    #[arg(long = "targets", conflicts_with = "targets")]
    pub targets_file: Option<std::path::PathBuf>,
    /// Print the report as JSON (schema: crates/load/schema/report.schema.json).
    #[arg(long = "json")]
    pub json: bool,
    /// Worker scheduling policy: auto (batch in closed loop, normal in open loop), normal, or
    /// batch (SCHED_BATCH: a worker woken by a response does not preempt a server sharing its core).
    #[arg(long = "sched", default_value = "auto")]
    pub sched: String,
    /// No live progress line (it is also off when stdout or stderr is not a terminal).
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

/// Turns the arguments into a run configuration (everything but the network).
pub fn config_from_args(args: &Args) -> anyhow::Result<Config> {
    let warmup = parse_duration(&args.warmup)?;
    let timeout = parse_duration(&args.timeout)?;
    if timeout.is_zero() {
        bail!("--timeout must be more than zero");
    }
    let stop = match (&args.duration, args.requests) {
        (_, Some(n)) => Stop::Count(n),
        (Some(d), None) => Stop::Duration(parse_duration(d)?),
        (None, None) => Stop::Duration(std::time::Duration::from_secs(10)),
    };
    let mode = match args.rate {
        Some(rate) => Mode::Open {
            rate,
            connections: args.connections,
        },
        None => Mode::Closed {
            connections: args.connections,
        },
    };
    let schedule = Schedule {
        mode,
        stop,
        warmup,
        pipeline: args.pipeline,
    };
    schedule.validate()?;
    if args.threads == Some(0) {
        bail!("threads (-t) must be at least 1");
    }

    let mut config = Config::new(&args.url, schedule)?;
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let specs = if let Some(path) = &args.targets_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading targets file {}", path.display()))?;
        TargetSpec::parse_toml(&text, &path.display().to_string())?
    } else if !args.targets.is_empty() {
        if !args.weights.is_empty() && args.weights.len() != args.targets.len() {
            bail!(
                "{} --weight for {} --target: give one --weight per --target, or none",
                args.weights.len(),
                args.targets.len()
            );
        }
        let weight = |i: usize| args.weights.get(i).copied().unwrap_or(1);
        args.targets
            .iter()
            .enumerate()
            .map(|(i, t)| TargetSpec::parse_cli(t, weight(i)))
            .collect::<Result<_, _>>()?
    } else {
        if !args.weights.is_empty() {
            bail!("--weight needs --target");
        }
        vec![TargetSpec::parse_cli(
            &format!("{} {}", args.method, config.url.path),
            1,
        )?]
    };
    let body = args.body.as_deref().unwrap_or("").as_bytes();
    config.mix = RequestMix::new(&specs, &config.url.authority, &headers, body)?;
    config.timeout = timeout;
    if let Some(t) = args.threads {
        config.threads = t;
    }
    config.sched = SchedPolicy::parse(&args.sched).with_context(|| {
        format!(
            "--sched must be auto, normal or batch, not {:?}",
            args.sched
        )
    })?;
    // The progress line goes to stderr, and only when a person is watching both streams: a
    // report piped to a file or another program gets no terminal escapes anywhere.
    config.progress =
        !args.quiet && std::io::stderr().is_terminal() && std::io::stdout().is_terminal();
    Ok(config)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = config_from_args(&args)?;
    // Ctrl-C ends the run early with a report of what was measured, not a lost run.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    crate::interrupt::on_first_signal(
        "load",
        "stopping; reporting what was measured…",
        move || flag.store(true, std::sync::atomic::Ordering::Relaxed),
    )?;
    let report = clab_load::run_until(&config, &stop)?;
    let stdout = std::io::stdout().lock();
    if args.json {
        clab_load::write_json(&report, stdout)?;
    } else {
        clab_load::write_human(&report, stdout)?;
    }
    // A run in which nothing succeeded is a failure for scripts, even though it was reported.
    Ok(if report.responses == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn config(line: &str) -> anyhow::Result<Config> {
        let argv = std::iter::once("load").chain(line.split_whitespace());
        config_from_args(&Cli::try_parse_from(argv)?.args)
    }

    fn error(line: &str) -> String {
        format!("{:#}", config(line).unwrap_err())
    }

    #[test]
    fn valid_lines_build_configs() {
        let c = config("http://127.0.0.1:9/x -c 10 -t 3 -n 500 --pipeline 4 --timeout 2s").unwrap();
        assert_eq!(c.schedule.mode, Mode::Closed { connections: 10 });
        assert_eq!(c.schedule.stop, Stop::Count(500));
        assert_eq!((c.threads, c.schedule.pipeline), (3, 4));
        assert_eq!(c.timeout, std::time::Duration::from_secs(2));
        let c = config("http://127.0.0.1:9/ --rate 100 -c 10 -d 2m --warmup 500ms").unwrap();
        assert_eq!(
            c.schedule.mode,
            Mode::Open {
                rate: 100.0,
                connections: 10
            }
        );
        assert_eq!(
            c.schedule.stop,
            Stop::Duration(std::time::Duration::from_secs(120))
        );
        assert_eq!(c.schedule.warmup, std::time::Duration::from_millis(500));
        let c =
            config("http://127.0.0.1:9 --target /users/{1..9} --weight 3 --target /b --weight 1")
                .unwrap();
        assert_eq!(c.mix.len(), 2);
    }

    #[test]
    fn bad_input_is_one_clear_line() {
        for (line, expect) in [
            ("127.0.0.1:9/", "bad URL"),
            ("https://127.0.0.1:9/", "https is not supported"),
            ("http://127.0.0.1:9/ -c 0", "at least 1"),
            (
                "http://127.0.0.1:9/ -c 100 --rate 50",
                "below one request per second per connection",
            ),
            ("http://127.0.0.1:9/ -d 5parsecs", "bad duration"),
            ("http://127.0.0.1:9/ -H NoColon", "bad header"),
            (
                "http://127.0.0.1:9/ --target /a --target /b --weight 2",
                "one --weight per --target",
            ),
            ("http://127.0.0.1:9/ -t 0", "threads"),
            ("http://127.0.0.1:9/ --timeout 0s", "--timeout"),
            ("http://127.0.0.1:9/ --sched fifo", "--sched"),
        ] {
            let message = error(line);
            assert!(message.contains(expect), "`{line}` gave `{message}`");
            assert!(!message.contains('\n'), "`{line}` gave a multi-line error");
        }
    }
}
