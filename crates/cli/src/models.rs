//! `clab models`.

/// Arguments of `clab models`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let _ = args;
    anyhow::bail!("`clab models` is not built yet")
}
