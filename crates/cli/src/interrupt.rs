//! Ctrl-C (SIGINT) and SIGTERM for the subcommands that run until stopped or for a long time.
//! The first signal asks the work to end cleanly (`serve` drains its connections, `load` stops
//! and reports what it measured); a second one exits at once, for an impatient user.

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io::Write as _;

/// A line on stderr that cannot fail: `eprintln!` panics when stderr is a closed pipe (the
/// tour that started a server died), and a panic on the signal thread would leave the server
/// running, deaf to the signal that was to stop it.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Runs `first` (on a signal thread) when the first SIGINT/SIGTERM arrives, after printing
/// `"clab {command}: {message}"`; the second signal exits with 128 + its number.
pub fn on_first_signal(
    command: &'static str,
    message: &'static str,
    first: impl Fn() + Send + 'static,
) -> anyhow::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("clab-signals".into())
        .spawn(move || {
            let mut seen = false;
            for signal in signals.forever() {
                if seen {
                    say(&format!("clab {command}: second signal, exiting now"));
                    std::process::exit(128 + signal);
                }
                seen = true;
                say(&format!("clab {command}: {message}"));
                first();
            }
        })
        .context("spawning the signal thread")?;
    Ok(())
}
