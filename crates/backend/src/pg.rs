//! What the blocking and async PostgreSQL clients share: the parsed config, the prepared
//! statements, one open connection ([`Session`]: opened over any [`AsyncRuntime`], its
//! statements prepared on first use, its rows mapped once), and `prepare` (schema and seed).
//!
//! Both pools run `tokio-postgres`: the async one on the model's runtime, the blocking one on a
//! private current-thread runtime per pooled connection (`postgres_sync.rs` says why). Each
//! pool sends every call through one helper (`PgAsyncPool::call` and `call_alone`,
//! `PgPool::call`) that gives the call a [`Deadline`], the IO timeout from its start, runs
//! each of its steps (connecting, every statement) in what is left of it, and drops a
//! connection that missed it. New queries go through those helpers too.
//!
//! `prepare` alone uses the sync `postgres` client (a transaction and COPY, once, before the
//! server listens): not a request's path, so it has the connect timeout but no IO deadline.

use std::fmt::Write as _;
use std::future::Future;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, oneshot};
use tokio_postgres::Statement;
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;

use crate::config::CONNECT_TIMEOUT;
use crate::queries::{self, Dialect, FromSqlRow};
use crate::runtime::AsyncRuntime;
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
    BackendError::Unavailable("database", format!("postgres at {}: {why}", hosts(config)))
}

/// The configured host(s), comma-separated: what messages may name.
fn hosts(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    hosts.join(",")
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

/// One open connection: its client, the four statements (prepared on first use), and the
/// handle that ends its IO task.
#[derive(Debug)]
pub(crate) struct Session {
    pub client: tokio_postgres::Client,
    statements: OnceCell<Statements>,
    /// A call on it missed the IO deadline: the server may hang, so the pool opens a new
    /// connection rather than queue more calls behind this one.
    abandoned: AtomicBool,
    /// Dropped with the session, which ends the connection's IO task and closes its socket.
    /// Without it a connection dropped while a reply is still owed (a stalled server) would
    /// keep its task and socket until the server answered or TCP gave up.
    _close: oneshot::Sender<()>,
}

impl Session {
    /// Whether calls may still use it: not if its connection ended (the server went away)
    /// or it was [abandoned](Self::abandon).
    pub(crate) fn is_usable(&self) -> bool {
        !self.client.is_closed() && !self.abandoned.load(Ordering::Relaxed)
    }

    /// A call on it missed the deadline: replace it at the next use.
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// The four statements, prepared on this connection the first time.
    pub(crate) async fn statements(&self) -> Result<&Statements, BackendError> {
        let client = &self.client;
        let prepared = self
            .statements
            .get_or_try_init(|| async {
                let [a, b, c, d] = SQL;
                let prepared = [
                    client.prepare(a).await?,
                    client.prepare(b).await?,
                    client.prepare(c).await?,
                    client.prepare(d).await?,
                ];
                Ok::<_, tokio_postgres::Error>(Statements::from_prepared(prepared))
            })
            .await?;
        Ok(prepared)
    }

    /// Run the statement `pick` with `params` and map its rows.
    pub(crate) async fn rows<T: FromSqlRow>(
        &self,
        pick: Pick,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, BackendError> {
        let statement = pick(self.statements().await?);
        let rows = self.client.query(statement, params).await?;
        Ok(rows
            .iter()
            .map(T::from_row)
            .collect::<Result<Vec<T>, _>>()?)
    }
}

/// `slot`'s session if it is still usable, else a new one, stored there.
pub(crate) async fn reuse_or_open<R: AsyncRuntime>(
    slot: &mut Option<Arc<Session>>,
    config: &tokio_postgres::Config,
) -> Result<Arc<Session>, BackendError> {
    if let Some(live) = slot.as_ref().filter(|s| s.is_usable()) {
        return Ok(Arc::clone(live));
    }
    let fresh = Arc::new(open::<R>(config).await?);
    *slot = Some(Arc::clone(&fresh));
    Ok(fresh)
}

/// One new connection over `R`'s stream (`Config::connect_raw`), its IO task spawned on `R`.
/// TCP connect *and* the startup handshake are bounded by [`CONNECT_TIMEOUT`]: a server
/// that accepts but never answers would otherwise hold the caller in the handshake.
pub(crate) async fn open<R: AsyncRuntime>(
    config: &tokio_postgres::Config,
) -> Result<Session, BackendError> {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(_)) => {
            return Err(BackendError::Config(
                "PostgreSQL over a Unix socket is not supported by the pooled clients; use a TCP host".into(),
            ));
        }
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let connect = async {
        let stream = R::connect(&host, port)
            .await
            .map_err(|e| unavailable(config, e))?;
        config
            .connect_raw(stream, tokio_postgres::NoTls)
            .await
            .map_err(|e| unreachable(config, &e))
    };
    let (client, connection) = R::timeout(CONNECT_TIMEOUT, connect)
        .await
        .ok_or_else(|| unavailable(config, "connect timed out"))??;
    let (close, closed) = oneshot::channel::<()>();
    R::spawn(async move {
        tokio::select! {
            biased;
            ended = connection => if let Err(e) = ended {
                tracing::warn!("postgres connection ended: {e}");
            },
            _ = closed => {}
        }
    });
    Ok(Session {
        client,
        statements: OnceCell::new(),
        abandoned: AtomicBool::new(false),
        _close: close,
    })
}

/// `postgres at HOST`: how messages name the server.
pub(crate) fn whom(config: &tokio_postgres::Config) -> Arc<str> {
    format!("postgres at {}", hosts(config)).into()
}

/// When one call must be done by, the IO timeout after it starts. Every step of the call
/// (connecting, each statement) runs in what is left, so a call costs at most the timeout
/// however many statements it makes, and a step that runs out says so in one wording.
#[derive(Debug)]
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
    whom: Arc<str>,
    missed: AtomicBool,
}

impl Deadline {
    pub(crate) fn after(timeout: Duration, whom: &Arc<str>) -> Self {
        Self {
            at: Instant::now() + timeout,
            timeout,
            whom: Arc::clone(whom),
            missed: AtomicBool::new(false),
        }
    }

    /// `step`, on runtime `R`, in what is left; past it, `Unavailable` ("no answer within
    /// …"), and the call's connection must not be used again ([`Self::was_missed`]).
    pub(crate) async fn run<R: AsyncRuntime, T, E: From<BackendError>>(
        &self,
        step: impl Future<Output = Result<T, E>> + Send,
    ) -> Result<T, E> {
        let left = self.at.saturating_duration_since(Instant::now());
        match R::timeout(left, step).await {
            Some(out) => out,
            None => {
                self.missed.store(true, Ordering::Relaxed);
                Err(crate::error::no_answer("database", &self.whom, self.timeout).into())
            }
        }
    }

    /// A step ran out of time: the server may hang, so the connection is dropped.
    pub(crate) fn was_missed(&self) -> bool {
        self.missed.load(Ordering::Relaxed)
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
