//! Every concurrency model, one file each, listed in [`Model`].
//!
//! Adding a model is one more file here with the same shape (`NAME`, `SUMMARY`,
//! `default_workers()`, `serve(listener, opts, shutdown, on_ready)` and the module doc headings)
//! plus one arm in each `match` below: the CLI, the tour and the conformance suite loop over
//! [`Model::ALL`] and pick it up without naming it.

pub mod async_multi;
pub mod thread_pool;

use crate::{Ready, ServeOptions, ServerError, Shutdown, UnknownModel};
use std::fmt;
use std::net::TcpListener;
use std::str::FromStr;

/// A concurrency model: how accepted connections are scheduled onto threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    ThreadPool,
    AsyncMulti,
}

impl Model {
    /// Every model, in the chapter's order.
    pub const ALL: &'static [Model] = &[Model::ThreadPool, Model::AsyncMulti];

    /// The name used by `--model`.
    pub fn name(self) -> &'static str {
        match self {
            Model::ThreadPool => thread_pool::NAME,
            Model::AsyncMulti => async_multi::NAME,
        }
    }

    /// One line: what it is.
    pub fn summary(self) -> &'static str {
        match self {
            Model::ThreadPool => thread_pool::SUMMARY,
            Model::AsyncMulti => async_multi::SUMMARY,
        }
    }

    /// Worker threads when `--workers` is not given.
    pub fn default_workers(self) -> usize {
        match self {
            Model::ThreadPool => thread_pool::default_workers(),
            Model::AsyncMulti => async_multi::default_workers(),
        }
    }

    /// Worker threads this model will run with under `opts`.
    pub fn workers(self, opts: &ServeOptions) -> usize {
        opts.workers
            .unwrap_or_else(|| self.default_workers())
            .max(1)
    }

    pub(crate) fn serve(
        self,
        listener: TcpListener,
        opts: ServeOptions,
        shutdown: Shutdown,
        on_ready: &mut dyn FnMut(&Ready),
    ) -> Result<(), ServerError> {
        match self {
            Model::ThreadPool => thread_pool::serve(listener, opts, shutdown, on_ready),
            Model::AsyncMulti => async_multi::serve(listener, opts, shutdown, on_ready),
        }
    }
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
    fn names_round_trip() {
        for &m in Model::ALL {
            assert_eq!(m.name().parse::<Model>(), Ok(m));
            assert!(!m.summary().is_empty());
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
