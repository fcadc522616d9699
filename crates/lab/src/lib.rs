//! Experiments behind the chapter's claims, measured on the machine that runs them.
//!
//! # Brief overview
//! - [`costs`]: what a thread, a task and a coroutine cost here (claims C07–C10, C14, C15):
//!   creation, switch, memory per idle unit, the practical limit and which kernel limit sets it,
//!   and the `async fn` state machine. [`costs::run`] performs everything for a
//!   [`costs::Config`] and returns a [`costs::Report`], whose rows ([`costs::table::Row`]) set
//!   each measured median beside the chapter's claim with a computed
//!   [`costs::verdict::Verdict`]. `clab costs` prints it.
//! - [`costs::procfs`]: the `/proc` readers (memory snapshots, context switches, limits) the
//!   measurements use, reusable by other experiments.
//!
//! - [`tour`]: `clab tour`: one experiment per claim ID, verdicts computed from the figures,
//!   `results.json` and the report rendered from it (today the claims `clab costs` measures:
//!   C07–C10, C14, C15, B05).
//!
//! - [`race_bank`]: `clab race bank`: the bank workload against `clab serve` children, one
//!   run per race strategy × instance count, each history checked (C19, C20, B01).
//!
//! The `coroutines` feature (default) adds stackful coroutines through `may`.

pub mod costs;
pub mod race_bank;
pub mod tour;
