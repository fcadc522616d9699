//! What the blocking and async PostgreSQL clients share: the parsed config, the prepared
//! statements, and `prepare` (schema and seed).
//!
//! The sync `postgres` crate is a blocking facade over `tokio-postgres` (it drives its own
//! small runtime), so both clients use the same `Config`, `Statement`, `Row` and `Error`
//! types: one statement list and one row mapping serve both.

use std::fmt::Write as _;
use std::io::Write as _;

use tokio_postgres::Statement;

use crate::config::CONNECT_TIMEOUT;
use crate::queries::{self, Dialect};
use crate::{BackendError, seed};

/// Parse a `postgres://` URL, adding our connect timeout unless the URL sets one.
pub(crate) fn config(url: &str) -> Result<tokio_postgres::Config, BackendError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
        BackendError::Config(format!(
            "PostgreSQL URL {:?}: {e}",
            crate::config::redact_url(url)
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("clab");
    }
    Ok(config)
}

/// "Could not connect": say where (host only, from the parsed config) and why.
pub(crate) fn unreachable(
    config: &tokio_postgres::Config,
    e: &tokio_postgres::Error,
) -> BackendError {
    unavailable(config, e)
}

/// The database is unavailable for `why`; names the host(s) only (never the password).
pub(crate) fn unavailable(
    config: &tokio_postgres::Config,
    why: impl std::fmt::Display,
) -> BackendError {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    BackendError::Unavailable(
        "database",
        format!("postgres at {}: {why}", hosts.join(",")),
    )
}

/// The four queries, prepared once per connection.
#[derive(Debug)]
pub(crate) struct Statements {
    pub user: Statement,
    pub orders: Statement,
    pub account: Statement,
    pub activity: Statement,
}

/// Which statement a call runs (a field of [`Statements`]).
pub(crate) type Pick = fn(&Statements) -> &Statement;

/// The SQL of each statement, in [`Statements`] field order.
pub(crate) const SQL: [&str; 4] = [
    queries::USER,
    queries::ORDERS,
    queries::ACCOUNT,
    queries::ACTIVITY,
];

impl Statements {
    pub(crate) fn from_prepared([user, orders, account, activity]: [Statement; 4]) -> Self {
        Self {
            user,
            orders,
            account,
            activity,
        }
    }
}

/// Any `i64` key the app's two processes agree on: serialises concurrent `prepare`s.
const PREPARE_LOCK: i64 = 0x00C1_AB00_5EED;

/// Schema and seed, in one transaction under an advisory lock, so two processes preparing at
/// once serialise: the second waits, then sees the seeded `users` table and does nothing.
/// Runs the sync client on a scoped thread so it also works when called inside tokio.
pub(crate) fn prepare(url: &str, users: u32, orders_per_user: u32) -> Result<(), BackendError> {
    let config = config(url)?;
    std::thread::scope(|s| {
        s.spawn(|| prepare_on_thread(&config, users, orders_per_user))
            .join()
            .unwrap_or_else(|_| Err(BackendError::Query("postgres prepare panicked".into())))
    })
}

fn prepare_on_thread(
    config: &tokio_postgres::Config,
    users: u32,
    orders_per_user: u32,
) -> Result<(), BackendError> {
    let mut client = postgres::Config::from(config.clone())
        .connect(postgres::NoTls)
        .map_err(|e| unreachable(config, &e))?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PREPARE_LOCK])?;
    for ddl in queries::schema(Dialect::Postgres) {
        tx.batch_execute(&ddl)?;
    }
    let existing: i64 = tx.query_one(queries::COUNT_USERS, &[])?.get(0);
    if existing == 0 {
        let tables = copy_data(users, orders_per_user);
        for (copy, data) in tables {
            let mut writer = tx.copy_in(copy)?;
            writer.write_all(data.as_bytes()).map_err(|e| {
                BackendError::Unavailable("database", format!("postgres COPY: {e}"))
            })?;
            writer.finish()?;
        }
        tracing::info!(users, "seeded the PostgreSQL database");
    }
    tx.commit()?;
    Ok(())
}

/// The seed as `COPY … FROM STDIN` text, one `(statement, rows)` per table: a single COPY
/// per table is far faster than row-by-row INSERTs over a socket.
fn copy_data(users: u32, orders_per_user: u32) -> [(&'static str, String); 4] {
    let (mut u, mut o, mut a, mut act) =
        (String::new(), String::new(), String::new(), String::new());
    // Writing to a String cannot fail, so the fmt results are ignored.
    for s in seed::users(users, orders_per_user) {
        let x = &s.user;
        let _ = writeln!(
            u,
            "{}\t{}\t{}\t{}",
            x.id,
            copy_text(&x.name),
            copy_text(&x.email),
            x.created_at
        );
        for r in &s.orders {
            let _ = writeln!(
                o,
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.id,
                r.user_id,
                copy_text(&r.item),
                r.quantity,
                r.amount_cents,
                r.created_at
            );
        }
        let _ = writeln!(a, "{}\t{}", s.account.user_id, s.account.balance_cents);
        for r in &s.activity {
            let _ = writeln!(
                act,
                "{}\t{}\t{}\t{}",
                r.id,
                r.user_id,
                copy_text(&r.kind),
                r.at
            );
        }
    }
    [
        ("COPY users (id, name, email, created_at) FROM STDIN", u),
        (
            "COPY orders (id, user_id, item, quantity, amount_cents, created_at) FROM STDIN",
            o,
        ),
        ("COPY accounts (user_id, balance_cents) FROM STDIN", a),
        ("COPY activity (id, user_id, kind, at) FROM STDIN", act),
    ]
}

/// Escape a value for COPY's text format: backslash, tab, newline and CR are special.
fn copy_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        return s.into();
    }
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_escapes() {
        assert_eq!(copy_text("plain"), "plain");
        assert_eq!(copy_text("a\tb\\c\nd"), "a\\tb\\\\c\\nd");
    }

    #[test]
    fn bad_url_is_config_error_without_password() {
        let err = config("postgres://u:hunter2@h:notaport/db").unwrap_err();
        assert!(matches!(err, BackendError::Config(_)), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
