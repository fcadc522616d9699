//! The instantiations of [`Services`] the workspace's models use, and how each connects.
//!
//! They are type aliases of one generic type, so each `connect` lives in its own `impl` for
//! its concrete `Services<W, C>` (allowed: the type arguments differ); the signatures differ
//! because a tokio model must connect inside its runtime.

use crate::{
    BackendConfig, BackendError, BlockingClients, LoopClients, LoopWait, Services, ThreadWait,
    TokioClients, TokioWait,
};

/// Thread models: every call blocks the calling OS thread (blocking clients,
/// `std::thread::sleep` for a simulated round trip) and returns an already-completed future,
/// so a handler completes on its first poll under a trivial `block_on` while the thread really
/// sat in the kernel. CPU work runs inline under either policy.
pub type BlockingBackend = Services<ThreadWait, BlockingClients>;

/// Async models on tokio: tokio timers, `tokio-postgres`, async Redis, a tokio socket; while a
/// call waits, the worker runs other tasks. Create and use it inside a tokio runtime.
pub type AsyncBackend = Services<TokioWait, TokioClients>;

/// The `event-loop` model: the lab's own loop (`clab-event-loop`): its timers for a simulated
/// round trip, `tokio-postgres` and Redis over its own sockets (their IO tasks on its
/// executor), and the CPU pool for `--cpu-policy blocking-pool`. SQLite runs inline on the
/// loop thread (microseconds of in-process CPU, not a wait). Create and use it inside
/// `clab_event_loop::Runtime::block_on`.
pub type LoopBackend = Services<LoopWait, LoopClients>;

impl Services<ThreadWait, BlockingClients> {
    /// Connect (see [`BlockingClients::connect`]).
    pub fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        Self::new(ThreadWait, BlockingClients::connect(cfg)?, cfg)
    }
}

impl Services<TokioWait, TokioClients> {
    /// Connect inside a tokio runtime (see [`TokioClients::connect`]).
    pub async fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        let wait = TokioWait {
            cpu_policy: cfg.cpu_policy,
        };
        Self::new(wait, TokioClients::connect(cfg).await?, cfg)
    }
}

impl Services<LoopWait, LoopClients> {
    /// Connect on the event loop (see [`LoopClients::connect`]).
    pub async fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
        let wait = LoopWait {
            cpu_policy: cfg.cpu_policy,
        };
        Self::new(wait, LoopClients::connect(cfg).await?, cfg)
    }
}

#[cfg(feature = "coroutines")]
pub use coroutines::MayBackend;

#[cfg(feature = "coroutines")]
mod coroutines {
    use crate::{BackendConfig, BackendError, MayClients, MayWait, Services};

    /// Coroutine models on `may`: run its futures inside may coroutines with a trivial
    /// `block_on` (each is complete on its first poll, like [`crate::BlockingBackend`]'s).
    /// Simulated round trips and the upstream call park only the coroutine; PostgreSQL and
    /// Redis pin its carrier ([`crate::MAY_PINNING_NOTE`]); see [`MayWait`] for the
    /// soundness caveats (thread-locals across yields, stack size).
    pub type MayBackend = Services<MayWait, MayClients>;

    impl Services<MayWait, MayClients> {
        /// Connect (see `MayClients::connect`). Callable from a plain thread or a coroutine.
        pub fn connect(cfg: &BackendConfig) -> Result<Self, BackendError> {
            let wait = MayWait {
                cpu_policy: cfg.cpu_policy,
            };
            Self::new(wait, MayClients::connect(cfg)?, cfg)
        }
    }
}
