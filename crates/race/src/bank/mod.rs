//! The bank: a Jepsen-style workload against the service's accounts routes, its history, and
//! the checker that finds lost updates, money created and negative balances in it (claims C19,
//! C20, B01 across instances).
//!
//! - [`history`]: what each operation asked, when it was invoked and completed, and what came
//!   back (ok, refused 409, failed 503, indeterminate);
//! - [`workload`]: the seeded generator of operations (few accounts, many clients: contention);
//! - [`check`]: the checks, each anomaly kind counted with its first example;
//! - [`client`]: one blocking HTTP/1.1 keep-alive connection speaking the accounts contract;
//! - [`driver`]: C client threads spread over the instances, bounded in ops and time.

pub mod check;
pub mod client;
pub mod driver;
pub mod history;
pub mod workload;

pub use check::{Anomaly, AnomalyKind, Report, check};
pub use history::{History, Kind, Op, Outcome};
