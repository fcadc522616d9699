//! `clab models`.

use clab_server::Model;
use std::process::ExitCode;

/// Arguments of `clab models`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// One line per model: its `--model` name and what it is.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args;
    let width = Model::ALL.iter().map(|m| m.name().len()).max().unwrap_or(0);
    for model in Model::ALL {
        println!("{:width$}  {}", model.name(), model.summary());
    }
    Ok(ExitCode::SUCCESS)
}
