//! Every concurrency model, one file each, and **the one table of models**.
//!
//! The `models!` invocation at the bottom is the table: one line per model (its enum variant
//! and its file). From it come [`Model`] and [`Model::ALL`] (which the CLI and the tour loop
//! over) and the `for_each_model!` macro the conformance suite instantiates its tests with, so
//! a model added here is served, listed and tested without naming it anywhere else. Each file
//! exports a `SPEC` ([`Spec`]): name, summary, chapter, default workers, entry point and
//! [`Caps`], the capabilities a test reads instead of skipping a model silently.

use crate::{Listen, Ready, ServeOptions, ServerError, Shutdown, UnknownModel};
use std::fmt;
use std::str::FromStr;

/// A model's entry point: serve on `listen` until `shutdown` has drained, calling `on_ready`
/// once the backend is connected.
pub type ServeFn = fn(
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError>;

/// What one model is: everything the CLI, the tests and the tour need to know of it.
#[derive(Debug)]
pub struct Spec {
    /// The `--model` name.
    pub name: &'static str,
    /// One line: what it is.
    pub summary: &'static str,
    /// The chapter's sections it embodies ("§05–06", or "beyond").
    pub chapter: &'static str,
    /// Worker threads when `--workers` is not given.
    pub default_workers: fn() -> usize,
    pub serve: ServeFn,
    pub caps: Caps,
}

/// What a model can and cannot do by nature. Tests branch on these and say why.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Handles another request while one is in a handler. `sync` cannot: one request at a
    /// time, by definition (it keeps many connections open, parked between requests, but
    /// serves them one after another).
    pub concurrent_requests: bool,
    /// Honours `--workers` (a number of threads that run requests). `sync` and `async-single`
    /// run on exactly one thread.
    pub configurable_workers: bool,
    /// One OS thread serves everything (the thread models' lingering thread, which only
    /// closes sockets, aside).
    pub single_thread: bool,
    /// OS threads follow the open connections (one thread each), instead of a fixed number.
    pub thread_per_connection: bool,
    /// Its listener must be bound with `SO_REUSEPORT` (it binds one per worker).
    pub reuse_port: bool,
    /// Many connections share each worker thread cooperatively (tasks, coroutines, an event
    /// loop): CPU work run inline stalls the others on that thread, and
    /// `--cpu-policy blocking-pool` is what prevents it. For thread models, whose workers may
    /// block, the policy changes nothing.
    pub cooperative: bool,
    /// A caveat `clab models --long` prints (e.g. a blocking driver that pins a carrier).
    pub note: Option<&'static str>,
}

impl Caps {
    /// The capabilities of a model with no special limits.
    pub const DEFAULT: Caps = Caps {
        concurrent_requests: true,
        configurable_workers: true,
        single_thread: false,
        thread_per_connection: false,
        reuse_port: false,
        cooperative: false,
        note: None,
    };

    /// One thread runs every connection's tasks cooperatively, with no `--workers` to change
    /// (`async-single`, `event-loop`).
    pub const ONE_LOOP: Caps = Caps {
        configurable_workers: false,
        single_thread: true,
        cooperative: true,
        ..Caps::DEFAULT
    };
}

impl Model {
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn summary(self) -> &'static str {
        self.spec().summary
    }

    pub fn caps(self) -> Caps {
        self.spec().caps
    }

    pub fn default_workers(self) -> usize {
        (self.spec().default_workers)()
    }

    /// Worker threads this model will run with under `opts`.
    pub fn workers(self, opts: &ServeOptions) -> usize {
        if !self.caps().configurable_workers {
            return self.default_workers();
        }
        opts.workers
            .unwrap_or_else(|| self.default_workers())
            .max(1)
    }

    pub(crate) fn serve(
        self,
        listen: Listen,
        opts: ServeOptions,
        shutdown: Shutdown,
        on_ready: &mut dyn FnMut(&Ready),
    ) -> Result<(), ServerError> {
        if !self.caps().configurable_workers && opts.workers.is_some_and(|w| w != 1) {
            return Err(ServerError::Config(format!(
                "{self} does not take --workers ({}); drop it",
                if self.caps().thread_per_connection {
                    "its threads follow the connections"
                } else {
                    "it runs on exactly one thread"
                }
            )));
        }
        if opts.handler_style == crate::HandlerStyle::Callbacks && self != Model::EventLoop {
            return Err(ServerError::Config(format!(
                "--handler-style callbacks is served by --model event-loop only (not {self}): \
                 callbacks are what an event loop offers underneath"
            )));
        }
        (self.spec().serve)(listen, opts, shutdown, on_ready)
    }
}

/// The table. `$d` is a literal `$` passed in so the generated `for_each_model!` can have
/// metavariables of its own. A line may carry attributes (`#[cfg(feature = "…")]`): they are
/// put on the model's module, its variant, its entries in [`Model::ALL`] and `spec`, and its
/// test module in `for_each_model!`. The last is expanded in the crate that invokes it, so a
/// `cfg` there is judged by that crate's features (this package's own tests share them).
macro_rules! models {
    ($d:tt $($(#[$attr:meta])* $variant:ident => $module:ident),* $(,)?) => {
        $($(#[$attr])* pub mod $module;)*

        /// A concurrency model: how accepted connections are scheduled onto threads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Model { $($(#[$attr])* $variant),* }

        impl Model {
            /// Every model, in the chapter's order.
            pub const ALL: &'static [Model] = &[$($(#[$attr])* Model::$variant),*];

            pub fn spec(self) -> &'static Spec {
                match self { $($(#[$attr])* Model::$variant => &$module::SPEC),* }
            }
        }

        /// Instantiate each test function once per model, in a module named after the model
        /// file (as tokio's `rt_test!` does for runtimes). Generated from the table of models.
        #[macro_export]
        macro_rules! for_each_model {
            ($d(fn $d name:ident($d model:ident) $d body:block)*) => {
                $d(fn $d name($d model: $crate::Model) $d body)*
                $(
                    $(#[$attr])*
                    mod $module {
                        $d(#[test] fn $d name() { super::$d name($crate::Model::$variant) })*
                    }
                )*
            };
        }
    };
}

models! {
    $
    Sync => sync,
    ThreadPerRequest => thread_per_request,
    ThreadPool => thread_pool,
    AsyncSingle => async_single,
    AsyncMulti => async_multi,
    EventLoop => event_loop,
    ThreadPerCore => thread_per_core,
    #[cfg(feature = "coroutines")] Coroutines => coroutines,
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Model {
    type Err = UnknownModel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Model::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownModel {
                given: s.to_owned(),
                valid: Model::ALL
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &m in Model::ALL {
            assert_eq!(m.name().parse::<Model>(), Ok(m));
            assert!(!m.summary().is_empty());
            assert!(seen.insert(m.name()), "duplicate name {}", m.name());
            assert!(m.default_workers() >= 1);
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "fibers".parse::<Model>().unwrap_err().to_string();
        assert!(err.contains("fibers"), "{err}");
        for &m in Model::ALL {
            assert!(err.contains(m.name()), "{err}");
        }
    }
}
