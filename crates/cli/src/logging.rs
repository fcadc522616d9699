//! The operator's log: `tracing` events (an `accept` failing with EMFILE, a drain deadline
//! passed) to stderr. Without a subscriber they went nowhere, so a server out of file
//! descriptors looked merely slow. Warnings are on by default; `--log-level` sets the level,
//! and `CLAB_LOG` (an `EnvFilter` directive such as `clab_server=debug`) overrides it.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The levels `--log-level` takes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Level {
    fn directive(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

/// Install the stderr subscriber once (a second call keeps the first). A bad `CLAB_LOG` is
/// a user's mistake: one clear error.
pub fn init(level: Level) -> anyhow::Result<()> {
    let filter = match std::env::var("CLAB_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .map_err(|e| anyhow::anyhow!("CLAB_LOG={directives:?} is not a filter: {e}"))?,
        _ => EnvFilter::new(level.directive()),
    };
    // A write to a closed stderr (the tour that started this server died) is dropped: with
    // internal errors logged, the fmt layer would report it with `eprintln!`, which panics.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .try_init();
    Ok(())
}
