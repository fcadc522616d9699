//! `clab load`.

/// Arguments of `clab load`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let _ = args;
    anyhow::bail!("`clab load` is not built yet")
}
