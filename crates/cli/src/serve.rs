//! `clab serve`: run the service under one concurrency model until SIGINT/SIGTERM.

use anyhow::{Context, anyhow};
use clab_backend::{BackendConfig, CpuPolicy, DatabaseUrl, LatencyProfile, RaceStrategy};
use clab_server::{HandlerStyle, Listen, Model, Ready, ServeOptions, Shutdown};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `clab serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Concurrency model (`clab models` lists them).
    #[arg(long, default_value = "async-multi")]
    model: Model,
    /// Address to listen on. Loopback by default: exposing the lab needs an explicit address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Simulated round trip added to every remote call: none, localhost (1-2 ms),
    /// same-region (20-30 ms), cross-region (90-100 ms), N (ms) or A-B (ms).
    #[arg(long, default_value = "none")]
    latency: String,
    /// Worker threads (default: the model's own, e.g. cores x 4 for thread-pool).
    #[arg(long)]
    workers: Option<usize>,
    /// thread-pool and sync: accepted connections that may wait for a thread before 503.
    #[arg(long, default_value_t = ServeOptions::DEFAULT_QUEUE_CAPACITY)]
    queue: usize,
    /// thread-pool and sync: a connection that waited longer than this for a thread gets 503.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    queue_timeout: Duration,
    /// Open connections beyond which a new one gets 503 and is closed (default: the fd
    /// limit, `ulimit -n`, less an eighth as headroom).
    #[arg(long, value_parser = at_least_one)]
    max_connections: Option<usize>,
    /// Requests handled at once beyond which a new one gets 503.
    #[arg(long, default_value_t = ServeOptions::DEFAULT_MAX_INFLIGHT, value_parser = at_least_one)]
    max_inflight: usize,
    /// sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB.
    #[arg(long, default_value = "sqlite://clab.db")]
    database_url: Box<str>,
    /// redis://HOST:PORT for the cache (default: an in-process cache).
    #[arg(long)]
    redis_url: Option<Box<str>>,
    /// http://HOST:PORT/PATH for the notification call (default: a simulated call).
    #[arg(long)]
    upstream_url: Option<Box<str>>,
    /// Where CPU-heavy work (/cpu, /hash) runs.
    #[arg(long, value_enum, default_value_t = CpuPolicyArg::Inline)]
    cpu_policy: CpuPolicyArg,
    /// A client that sends part of a request and stalls this long gets 408 (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    header_timeout: Duration,
    /// Idle keep-alive connections are closed after this long.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// One PostgreSQL or Redis call (connecting included), or one upstream exchange, that has
    /// no answer within this long gives 503 (a hung dependency, not a refused one).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    io_timeout: Duration,
    /// On SIGINT/SIGTERM, in-flight requests get this long to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// Listen backlog (default: the kernel's net.core.somaxconn).
    #[arg(long)]
    backlog: Option<u32>,
    /// thread-per-request and coroutines: stack size of each connection's thread or coroutine,
    /// in bytes (e.g. 65536; default: 2 MiB for threads, 512 KiB for coroutines).
    #[arg(long)]
    stack_size: Option<usize>,
    /// thread-per-request: at most this many connection threads; past it, 503 (default: no cap).
    #[arg(long)]
    max_threads: Option<usize>,
    /// Record per-request spans (which thread ran what, each wait) for GET /debug/trace.
    #[arg(long)]
    trace: bool,
    /// event-loop: write GET /users/{id} as async/await or as raw callbacks (SQLite only).
    #[arg(long, value_enum, default_value_t = HandlerStyleArg::Async)]
    handler_style: HandlerStyleArg,
    /// Connections to PostgreSQL (and SQLite readers) per server.
    #[arg(long, default_value_t = BackendConfig::default().pool_size)]
    pool_size: usize,
    /// Each database call holds one of --pool-size connections for its simulated round trip
    /// too, as a real query in flight does: the pool then caps throughput at P/R.
    #[arg(long)]
    hold_connection: bool,
    /// How the bank routes (/accounts, /transfers) protect a withdrawal's check and act:
    /// racy, lock, actor, db-conditional, db-lock, serializable, txn-read-committed,
    /// txn-repeatable-read (the last three need PostgreSQL). `clab race bank` compares them.
    #[arg(long, default_value_t = RaceStrategy::default())]
    race_strategy: RaceStrategy,
    /// What the server logs to stderr (warnings by default); CLAB_LOG (e.g.
    /// `clab_server=debug`) overrides it.
    #[arg(long, value_enum, default_value_t = crate::logging::Level::Warn)]
    log_level: crate::logging::Level,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum HandlerStyleArg {
    Async,
    Callbacks,
}

impl From<HandlerStyleArg> for HandlerStyle {
    fn from(arg: HandlerStyleArg) -> Self {
        match arg {
            HandlerStyleArg::Async => HandlerStyle::Async,
            HandlerStyleArg::Callbacks => HandlerStyle::Callbacks,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CpuPolicyArg {
    Inline,
    BlockingPool,
}

impl From<CpuPolicyArg> for CpuPolicy {
    fn from(arg: CpuPolicyArg) -> Self {
        match arg {
            CpuPolicyArg::Inline => CpuPolicy::Inline,
            CpuPolicyArg::BlockingPool => CpuPolicy::BlockingPool,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::logging::init(args.log_level)?;
    let model = args.model;
    let opts = options(&args)?;
    if opts.workers == Some(0) {
        anyhow::bail!("--workers must be at least 1");
    }

    if opts.stack_size.is_some_and(|s| s < 16 * 1024) {
        anyhow::bail!("--stack-size must be at least 16384 bytes");
    }
    let listen = Listen::bind(args.listen, args.backlog, model.caps().reuse_port)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "clab serve: preparing the database ({}); bank race strategy: {}…",
        opts.backend.database.describe(),
        opts.backend.race_strategy
    );
    clab_backend::prepare(&opts.backend).context("preparing the database")?;

    if args.trace {
        clab_trace::enable(clab_trace::RingConfig::DEFAULT);
        eprintln!("clab serve: tracing on: GET /debug/trace?since=MICROS");
    }
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    crate::interrupt::on_first_signal(
        "serve",
        "shutting down (draining in-flight requests)…",
        move || trigger.trigger(),
    )?;
    clab_server::serve_with(model, listen, opts, shutdown, print_ready)
        .with_context(|| format!("model {model}"))?;
    crate::interrupt::say("clab serve: stopped");
    Ok(ExitCode::SUCCESS)
}

fn options(args: &Args) -> anyhow::Result<ServeOptions> {
    let database: DatabaseUrl = args
        .database_url
        .parse()
        .map_err(|e| anyhow!("--database-url: {e}"))?;
    let latency: LatencyProfile = args
        .latency
        .parse()
        .map_err(|e| anyhow!("--latency: {e}"))?;
    let backend = BackendConfig {
        database,
        redis_url: args.redis_url.as_deref().map(str::to_owned),
        upstream_url: args.upstream_url.as_deref().map(str::to_owned),
        latency,
        cpu_policy: args.cpu_policy.into(),
        pool_size: args.pool_size,
        hold_connection: args.hold_connection,
        race_strategy: args.race_strategy,
        io_timeout: args.io_timeout,
        ..BackendConfig::default()
    };
    // Before binding: a strategy the database cannot honour is the user's mistake, one line.
    args.race_strategy
        .check(&backend.database)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(ServeOptions {
        workers: args.workers,
        queue_capacity: args.queue,
        queue_timeout: args.queue_timeout,
        max_connections: args.max_connections,
        max_inflight: args.max_inflight,
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        drain_deadline: args.drain_timeout,
        stack_size: args.stack_size,
        max_threads: args.max_threads,
        handler_style: args.handler_style.into(),
        ..ServeOptions::new(backend)
    })
}

fn print_ready(ready: &Ready) {
    eprintln!(
        "clab serve: model {} with {} worker{} listening on http://{}; backend: {}",
        ready.model,
        ready.workers,
        if ready.workers == 1 { "" } else { "s" },
        ready.addr,
        ready.backend
    );
}

/// `10s`, `500ms`, `2m`, or a bare number of seconds; more than zero. (clap names the flag.)
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    match clab_load::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be more than zero".to_owned()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// A count that must be at least 1. (clap names the flag.)
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        for bad in ["", "x", "-1s", "0s", "0ms"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
