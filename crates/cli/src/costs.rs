//! `clab costs`.

/// Arguments of `clab costs`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let _ = args;
    anyhow::bail!("`clab costs` is not built yet")
}
