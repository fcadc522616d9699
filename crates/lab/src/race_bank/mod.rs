//! `clab race bank`: the Jepsen-style bank workload against `clab serve` children, one run per
//! strategy × instance count, each history checked (`clab_race::bank`) (claims C19, C20, B01).
//!
//! A run: start N servers on one database with `--race-strategy S`; set every account of the
//! experiment to the same opening balance through the API, one request at a time (one client,
//! nothing concurrent: every strategy is correct there), so each run starts from the same
//! state whatever the last one left (a `racy` run can leave negative balances); drive C
//! clients spread over the instances; check the history. A strategy the database cannot
//! honour is not run: the server refuses it at startup, and its row says why.

mod expect;
mod render;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clab_backend::RaceStrategy;
use clab_race::bank::client::Client;
use clab_race::bank::driver::{self, Plan};
use clab_race::bank::{Kind, Outcome, Report, check};
use serde::Serialize;

use crate::tour::ChildServer;
pub use expect::{Expectation, ModelFacts, Verdict, expectation};

/// What to run. The defaults are the size.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The `clab` binary the servers are started from.
    #[serde(skip)]
    pub clab: PathBuf,
    pub model: String,
    /// What of the model decides the expectations.
    pub model_facts: ModelFacts,
    pub database_url: String,
    pub latency: String,
    pub accounts: u64,
    pub clients: u64,
    /// Operations per run, full reads included.
    pub ops: u64,
    /// Cents each account holds when a run starts.
    pub opening_balance: i64,
    pub seed: u64,
    /// A run stops starting operations after this long.
    pub time_limit: Duration,
    /// A request unanswered this long is indeterminate.
    pub timeout: Duration,
}

impl Config {
    pub fn new(clab: PathBuf) -> Self {
        Self {
            clab,
            model: "async-multi".into(),
            model_facts: ModelFacts::default(),
            database_url: String::new(),
            latency: "localhost".into(),
            accounts: 8,
            clients: 64,
            ops: 10_000,
            opening_balance: 100_000,
            seed: 1,
            time_limit: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One strategy × instance count.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub strategy: RaceStrategy,
    pub instances: usize,
    /// What the chapter (and the issue) says should happen.
    pub expected: Expectation,
    /// `None`: not run (see `skipped`).
    pub report: Option<Report>,
    pub skipped: Option<String>,
    pub verdict: Verdict,
    pub elapsed_s: f64,
}

/// Run every `(strategy, instances)`; `on_op` is called after each operation (a progress
/// bar). An error is a failure of the experiment itself (a server that would not start for
/// another reason, a reset that did not take), not an anomaly.
pub fn run_all(
    cfg: &Config,
    cases: &[(RaceStrategy, usize)],
    on_op: &(dyn Fn() + Sync),
) -> Result<Vec<Run>, String> {
    cases
        .iter()
        .map(|&(strategy, instances)| run_one(cfg, strategy, instances, on_op))
        .collect()
}

fn run_one(
    cfg: &Config,
    strategy: RaceStrategy,
    instances: usize,
    on_op: &(dyn Fn() + Sync),
) -> Result<Run, String> {
    let started = Instant::now();
    let expected = expectation(strategy, instances, cfg.model_facts);
    let done = |report: Option<Report>, skipped: Option<String>| {
        let verdict = Verdict::of(expected, report.as_ref(), cfg.ops);
        Run {
            strategy,
            instances,
            expected,
            report,
            skipped,
            verdict,
            elapsed_s: started.elapsed().as_secs_f64(),
        }
    };
    let args = [
        "--model",
        &cfg.model,
        "--race-strategy",
        strategy.name(),
        "--database-url",
        &cfg.database_url,
        "--latency",
        &cfg.latency,
    ];
    // The strategy is checked against the database the way the server does, so a refusal
    // is the server's own one line, not a guess.
    if let Err(why) = cfg
        .database_url
        .parse::<clab_backend::DatabaseUrl>()
        .map_err(|e| e.to_string())
        .and_then(|db| strategy.check(&db).map_err(|e| e.to_string()))
    {
        return Ok(done(None, Some(why)));
    }
    let servers = (0..instances)
        .map(|_| ChildServer::start(&cfg.clab, &args, None))
        .collect::<Result<Vec<_>, _>>()?;
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    reset(cfg, addrs[0])?;
    let plan = Plan {
        instances: addrs,
        accounts: cfg.accounts,
        clients: cfg.clients,
        ops: cfg.ops,
        time_limit: cfg.time_limit,
        timeout: cfg.timeout,
        seed: cfg.seed,
    };
    let history = driver::run(&plan, on_op)?;
    drop(servers);
    Ok(done(Some(check(&history)), None))
}

/// Reset rounds: a request of the previous run that a client gave up on may still land
/// (its server finishes in-flight requests when stopped), so a reset is confirmed by a
/// second full read a little later, and redone if something moved.
const RESET_ROUNDS: u32 = 3;

/// Bring accounts `1..=accounts` to the opening balance, one request at a time, and confirm
/// it with a full read.
fn reset(cfg: &Config, addr: std::net::SocketAddr) -> Result<(), String> {
    let mut client = Client::new(addr, cfg.timeout);
    let mut last = String::new();
    for _ in 0..RESET_ROUNDS {
        match reset_once(cfg, &mut client) {
            Ok(()) => {
                std::thread::sleep(Duration::from_millis(200));
                let moved = client
                    .read_all(cfg.accounts)?
                    .into_iter()
                    .find(|&(_, b)| b != cfg.opening_balance);
                match moved {
                    None => return Ok(()),
                    Some((account, balance)) => {
                        last = format!(
                            "account {account} moved to {balance} after the reset to {}: is \
                             something else writing to this database?",
                            cfg.opening_balance
                        );
                    }
                }
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn reset_once(cfg: &Config, client: &mut Client) -> Result<(), String> {
    let target = cfg.opening_balance;
    for (account, balance) in client.read_all(cfg.accounts)? {
        let kind = match balance.cmp(&target) {
            std::cmp::Ordering::Less => Kind::Deposit {
                account,
                amount: target - balance,
            },
            std::cmp::Ordering::Greater => Kind::Withdraw {
                account,
                amount: balance - target,
            },
            std::cmp::Ordering::Equal => continue,
        };
        match client.perform(&kind, cfg.accounts) {
            Outcome::Ok { .. } => {}
            other => return Err(format!("resetting account {account}: {other:?}")),
        }
    }
    let after = client.read_all(cfg.accounts)?;
    if let Some((account, balance)) = after.iter().find(|(_, b)| *b != target) {
        return Err(format!(
            "account {account} holds {balance} after the reset, not {target}"
        ));
    }
    Ok(())
}

pub use render::render;
