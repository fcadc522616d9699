//! The stackful coroutines of these measurements: [`may`], configured once for this process.
//!
//! # Configuration
//! - **Stack: [`STACK_WORDS`] = 0x1000 words = 32 KiB on 64-bit**, set explicitly (it is also
//!   may's default). Each stack is an `mmap` plus a `PROT_NONE` guard page: two memory mappings
//!   per live coroutine, which is why `vm.max_map_count` (65,530 by default) caps them near
//!   32,000 per process, the same way it caps threads.
//! - **One worker thread** ([`WORKERS`]), not pinned: every coroutine switch is a user-space
//!   register swap on that one thread, so "same core" is the only placement measured.
//! - may keeps a pool of up to 1,000 finished coroutines (stacks included) for reuse; creation
//!   timings profit from it, as a server would, and the memory probe drains it before its
//!   baseline.
//!
//! # Soundness caveats (why `may`'s spawn is `unsafe`)
//! - **Thread-local storage across yields**: a coroutine may resume on another worker thread, so
//!   a `thread_local!` reference held across a yield (or a `std::sync::MutexGuard`, which is tied
//!   to its thread) can dangle or be used from the wrong thread. The code here holds none across
//!   a yield and uses one worker anyway.
//! - **Blocking system calls block the worker**: a coroutine calling `std::thread::sleep`, a
//!   blocking read or a std lock stalls every coroutine on that worker; only may's own IO,
//!   channels and `coroutine::sleep`/`park` yield. The probes only park through may.
//! - A coroutine that overflows its 32 KiB stack hits the guard page and kills the process;
//!   the closures here use a few hundred bytes.

use std::sync::Once;

/// Coroutine stack size in machine words (may's unit): 0x1000 words = 32 KiB on 64-bit.
pub const STACK_WORDS: usize = 0x1000;

/// Worker threads of the may scheduler in this process.
pub const WORKERS: usize = 1;

/// Stack size in bytes, as printed in the report.
pub const STACK_BYTES: usize = STACK_WORDS * size_of::<usize>();

/// Configure may before its first use (later calls are no-ops: the scheduler starts once).
pub fn configure() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        may::config()
            .set_workers(WORKERS)
            .set_stack_size(STACK_WORDS);
        may::config().set_worker_pin(false);
    });
}

/// Spawn a coroutine after [`configure`]; may reports stack exhaustion as a panic, which we
/// turn into an error so the limit probe can name the limit instead of dying.
pub fn spawn<F, T>(f: F) -> Result<may::coroutine::JoinHandle<T>, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    configure();
    let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the closures spawned by this module hold no thread-local references or std
        // lock guards across a yield (see the module doc), which is may's requirement.
        unsafe { may::coroutine::Builder::new().spawn(f) }
    }));
    match spawned {
        Ok(Ok(handle)) => Ok(handle),
        Ok(Err(err)) => Err(err.to_string()),
        Err(payload) => Err(payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "coroutine spawn panicked".to_owned())),
    }
}
