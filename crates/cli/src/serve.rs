//! `clab serve`.

/// Arguments of `clab serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let _ = args;
    anyhow::bail!("`clab serve` is not built yet")
}
