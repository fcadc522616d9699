//! `clab models`: the one table of models (`clab_server::models`), one line each.

use clab_server::Model;
use std::process::ExitCode;

/// Arguments of `clab models`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also print each model's chapter section, default workers and caveats.
    #[arg(long)]
    long: bool,
}

/// One line per model: its `--model` name and what it is.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let width = Model::ALL.iter().map(|m| m.name().len()).max().unwrap_or(0);
    for &model in Model::ALL {
        println!("{:width$}  {}", model.name(), model.summary());
        if args.long {
            let spec = model.spec();
            let pad = "";
            let workers = if spec.caps.configurable_workers {
                format!("workers: default {} (--workers)", model.default_workers())
            } else {
                "workers: fixed".to_owned()
            };
            println!("{pad:width$}  chapter {}; {workers}", spec.chapter);
            if let Some(note) = spec.caps.note {
                println!("{pad:width$}  note: {note}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
