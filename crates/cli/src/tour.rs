//! `clab tour`: every claim of the chapter measured here, in a report (see `clab_lab::tour`);
//! `clab report`: re-render a report from its `results.json` without re-running.

use anyhow::Context as _;
use clab_lab::tour::{self, Results, TourOptions, TourProgress, Verdict};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `clab tour`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A reduced size of every experiment (a few minutes; CI runs it).
    #[arg(long)]
    quick: bool,
    /// Only these claim IDs, comma-separated (e.g. C07,C15).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// List the experiments and exit.
    #[arg(long)]
    list: bool,
    /// Where to write results.json, index.html and report.md.
    #[arg(long, default_value = "report")]
    out: PathBuf,
}

/// Arguments of `clab report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results.json written by `clab tour`.
    results: PathBuf,
    /// Where to write index.html and report.md (default: beside the results file).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The tour's bar (experiments) and, below it, the bar of the experiment running.
struct Bars {
    tour: Option<ProgressBar>,
    costs: crate::costs::Bar,
}

impl TourProgress for Bars {
    fn start(&mut self, total: usize) {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("tour {bar:30} {pos}/{len} {msg} (ETA {eta})")
            {
                bar.set_style(style);
            }
            self.tour = Some(bar);
        }
    }

    fn experiment(&mut self, id: &str, title: &str) {
        match &self.tour {
            Some(bar) => bar.set_message(format!("{id}: {title}")),
            None => eprintln!("clab tour: {id}: {title}…"),
        }
    }

    fn costs(&mut self) -> &mut dyn clab_lab::costs::Progress {
        &mut self.costs
    }

    fn done(&mut self, id: &str, verdict: &Verdict) {
        // The experiment's own bar (its steps, with ETA) ends with it.
        clab_lab::costs::Progress::finish(&mut self.costs);
        let line = format!("{id}: {}", verdict.kind.words());
        match &self.tour {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
            }
            None => eprintln!("clab tour: {line}"),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        for e in tour::experiments::ALL {
            println!("{}  {}\n      {}", e.id(), e.title(), e.claim());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let only: Vec<String> = args.only.iter().map(|s| s.trim().to_uppercase()).collect();
    tour::check_only(&only).map_err(|e| anyhow::anyhow!("--only: {e}"))?;
    let opts = TourOptions {
        quick: args.quick,
        only,
        clab: std::env::current_exe().ok(),
    };
    let mut bars = Bars {
        tour: None,
        costs: crate::costs::Bar(None),
    };
    let results = tour::run(&opts, &mut bars);
    if let Some(bar) = bars.tour.take() {
        bar.finish_and_clear();
    }
    tour::render::write_all(&results, &args.out)
        .with_context(|| format!("writing the report into {}", args.out.display()))?;
    print_summary(&results);
    println!(
        "report: {} (and report.md, results.json beside it)",
        args.out.join("index.html").display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.results)
        .with_context(|| format!("reading {}", args.results.display()))?;
    let results: Results = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a clab tour results file", args.results.display()))?;
    let out = args.out.unwrap_or_else(|| {
        args.results
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    tour::render::write_report(&results, &out)
        .with_context(|| format!("writing the report into {}", out.display()))?;
    println!("report: {}", out.join("index.html").display());
    Ok(ExitCode::SUCCESS)
}

fn print_summary(r: &Results) {
    for e in &r.experiments {
        println!(
            "{:<4} {:<24} {}",
            e.id,
            e.verdict.kind.words(),
            e.verdict.reason
        );
    }
}
