//! The bank: accounts with balances in the database, and the ways a withdrawal's check
//! ("enough balance?") and act (deduct) can be protected, or not (claims C19, C20, B01).
//!
//! - `strategy.rs`: [`RaceStrategy`], chosen by `clab serve --race-strategy`;
//! - `op.rs`: [`BankOp`], [`BankOutcome`], and the one check of balances against an operation;
//! - `sql.rs`, `session.rs`, `script.rs`: the database side, written once over a small
//!   session trait that SQLite, the sync PostgreSQL client and `tokio-postgres` implement;
//! - `locks.rs` (`lock`) and `actor.rs` (`actor`): the in-process strategies, built from the
//!   model's own [`crate::Wait`] (its slots, its spawn), so each waits the model's way;
//! - `service.rs`: each strategy as steps of [`crate::Services`], for every model.
//!
//! Every step that talks to the database pays one simulated round trip, like every other
//! database call (`services.rs`); the transaction strategies on PostgreSQL also wait one
//! between their read and their write, the window `racy` loses money in, to show that their
//! protection holds across it.

mod actor;
mod locks;
mod op;
mod script;
mod service;
mod session;
mod sql;
mod strategy;

use actor::Actor;
use locks::Locks;

pub use op::{BankOp, BankOutcome, MAX_AMOUNT_CENTS};
/// What [`crate::Clients::bank_statement`] and [`crate::Clients::bank_apply`] take: the
/// contract a model's clients implement.
pub use script::{DbStatement, Guard, Isolation, Pause};
pub(crate) use script::{apply as run_apply, statement as run_statement};
pub(crate) use service::BankState;
pub use strategy::RaceStrategy;
