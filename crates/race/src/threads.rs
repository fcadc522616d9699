//! The threads world's driver: `workers` OS threads, started together, each incrementing.

use crate::Counter;
use std::sync::RwLock;
use std::thread;

/// Small stacks: a worker calls one method in a loop, and a thousand default 8 MiB stacks
/// would only cost mappings.
const STACK: usize = 64 * 1024;

/// Run `workers` threads of `increments` increments each on `counter`, all released at once.
///
/// The start gate is a write-locked `RwLock` every worker read-locks before its first
/// increment, rather than a `std::sync::Barrier`: if spawning the n-th thread fails (a thread
/// limit), a barrier would keep the first n−1 waiting forever, while dropping the write guard
/// lets them run and the error be reported.
pub(crate) fn run(counter: &impl Counter, workers: u64, increments: u64) -> std::io::Result<()> {
    let gate = RwLock::new(());
    thread::scope(|scope| {
        let closed = gate.write().unwrap_or_else(|p| p.into_inner());
        for _ in 0..workers {
            thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(scope, || {
                    drop(gate.read().unwrap_or_else(|p| p.into_inner()));
                    for _ in 0..increments {
                        counter.increment();
                    }
                })?;
        }
        drop(closed);
        Ok(())
    })
}
