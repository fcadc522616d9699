//! `clab race bank`: the bank workload (`clab_lab::race_bank`) for each strategy × instance
//! count, against `clab serve` children of this same binary.

use anyhow::{Context, anyhow};
use clab_backend::RaceStrategy;
use clab_lab::race_bank::{self, Config, ModelFacts};
use clab_server::Model;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `clab race bank`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    clab race bank\n  \
    clab race bank --strategy racy,lock,db-conditional --instances 1,2 --model event-loop\n  \
    clab race bank --database-url postgres://postgres@127.0.0.1:5432/test --json > bank.json")]
pub struct BankArgs {
    /// Strategies to run, comma-separated, or `all`.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    strategy: Vec<StrategyChoice>,
    /// Server instances sharing the database, comma-separated counts.
    #[arg(long, default_value = "1,2", value_delimiter = ',',
          value_parser = clap::value_parser!(u16).range(1..=8))]
    instances: Vec<u16>,
    /// Concurrency model of every instance (`clab models`).
    #[arg(long, default_value = "async-multi")]
    model: Model,
    /// The shared database (default: a fresh SQLite file in the temp directory, removed
    /// afterwards).
    #[arg(long)]
    database_url: Option<String>,
    /// Accounts 1..=N, each set to --opening-balance before every run.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1000))]
    accounts: u64,
    /// Cents in each account when a run starts.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(i64).range(1..=1_000_000_000))]
    opening_balance: i64,
    /// Concurrent clients, spread round-robin over the instances.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1000))]
    clients: u64,
    /// Operations per run (full reads included).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    ops: u64,
    /// Simulated round trip of every database step (see `clab serve --latency`).
    #[arg(long, default_value = "localhost")]
    latency: String,
    /// Seed of the workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A run stops starting operations after this long (e.g. 60s).
    #[arg(long, default_value = "60s", value_parser = crate::serve::parse_duration)]
    time_limit: Duration,
    /// Print every run (with its report) as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrategyChoice {
    One(RaceStrategy),
    All,
}

impl std::str::FromStr for StrategyChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(Self::All);
        }
        s.parse().map(Self::One)
    }
}

impl BankArgs {
    fn strategies(&self) -> Vec<RaceStrategy> {
        let mut out: Vec<RaceStrategy> = Vec::new();
        for choice in &self.strategy {
            let add: Vec<RaceStrategy> = match *choice {
                StrategyChoice::All => RaceStrategy::ALL.to_vec(),
                StrategyChoice::One(s) => vec![s],
            };
            for s in add {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// The temporary SQLite file of a run without `--database-url`, removed with its WAL files.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

pub fn run(args: BankArgs) -> anyhow::Result<ExitCode> {
    args.latency
        .parse::<clab_backend::LatencyProfile>()
        .map_err(|e| anyhow!("--latency: {e}"))?;
    let (database_url, _temp) = match &args.database_url {
        Some(url) => {
            url.parse::<clab_backend::DatabaseUrl>()
                .map_err(|e| anyhow!("--database-url: {e}"))?;
            (url.clone(), None)
        }
        None => {
            let path =
                std::env::temp_dir().join(format!("clab-race-bank-{}.db", std::process::id()));
            (format!("sqlite://{}", path.display()), Some(TempDb(path)))
        }
    };
    let clab = std::env::current_exe().context("locating the clab binary")?;
    let cfg = Config {
        model: args.model.to_string(),
        model_facts: ModelFacts {
            serial: !args.model.caps().concurrent_requests,
            // thread-per-core binds one listener per shard, each with its own backend.
            shards: if args.model.caps().reuse_port {
                args.model.default_workers()
            } else {
                1
            },
        },
        database_url,
        latency: args.latency.clone(),
        accounts: args.accounts,
        clients: args.clients,
        ops: args.ops,
        opening_balance: args.opening_balance,
        seed: args.seed,
        time_limit: args.time_limit,
        ..Config::new(clab)
    };
    let cases: Vec<(RaceStrategy, usize)> = args
        .strategies()
        .into_iter()
        .flat_map(|s| args.instances.iter().map(move |&n| (s, usize::from(n))))
        .collect();
    let bar = crate::race::progress_bar_of(cases.len() as u64 * cfg.ops, "ops");
    let on_op = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let runs = race_bank::run_all(&cfg, &cases, &on_op).map_err(|e| anyhow!(e))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        let out = serde_json::json!({ "config": cfg, "runs": runs });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", race_bank::render(&cfg, &runs));
    }
    Ok(ExitCode::SUCCESS)
}
