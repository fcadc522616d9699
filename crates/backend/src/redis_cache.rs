//! The Redis cache: `GET` and `SET key value PX ttl`, a blocking pool of sync connections for
//! [`crate::BlockingClients`] and `MayClients`, and one multiplexed connection on an async
//! runtime for [`crate::TokioClients`] and [`crate::LoopClients`].
//! Any Redis failure is `Unavailable("cache", …)`.

use std::future::{Future, ready};
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::BackendError;
use crate::clients::CacheClient;
use crate::config::{CONNECT_TIMEOUT, POOL_CHECKOUT_TIMEOUT, redact_url};
use crate::pool::Pool;
use crate::runtime::AsyncRuntime;

fn client(url: &str) -> Result<redis::Client, BackendError> {
    let bad = || BackendError::Config(format!("Redis URL {:?} does not parse", redact_url(url)));
    let info = redis::IntoConnectionInfo::into_connection_info(url).map_err(|_| bad())?;
    // No `CLIENT SETINFO` on connect. It only names the library in `CLIENT LIST`, and costs two
    // replies the sync connection reads one by one, each allowed the whole timeout: against a
    // hung server, connecting alone took twice the deadline.
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    redis::Client::open(info.set_redis_settings(settings)).map_err(|_| bad())
}

fn get_cmd(key: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("GET");
    cmd.arg(key);
    cmd
}

fn set_cmd(key: &str, value: &[u8], ttl: Duration) -> redis::Cmd {
    let mut cmd = redis::cmd("SET");
    // Redis refuses `PX 0`; the shortest expiry it takes is 1 ms.
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    cmd.arg(key).arg(value).arg("PX").arg(ms);
    cmd
}

/// A lost connection (as opposed to an error reply) means: reconnect before the next call.
fn broken(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_timeout() || e.is_unrecoverable_error()
}

/// `redis at host:port`: how messages name the server (never the password).
fn whom(url: &str) -> String {
    format!("redis at {}", redact_url(url))
}

/// What a failed command reports: a timeout says which deadline passed, in the same words as
/// the other drivers; anything else is the crate's own message.
fn failed(e: redis::RedisError, whom: &str, deadline: Duration) -> BackendError {
    if e.is_timeout() {
        crate::error::no_answer("cache", whom, deadline)
    } else {
        e.into()
    }
}

/// Blocking: sync connections behind the crate's checkout pool.
///
/// The deadline is the sockets' own read and write timeouts (the sync connection exposes
/// them): a reply that does not come within the IO timeout fails the command, and the
/// connection, out of step with the server from then on, is discarded. Connecting is bounded
/// by the same timeout when it is shorter than [`CONNECT_TIMEOUT`]; its handshake reads no
/// reply unless the URL sets a password or a database (one more read each, within that
/// timeout).
pub struct RedisPool {
    pool: Pool<redis::Connection>,
    whom: String,
    io_timeout: Duration,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPool")
            .field("pool", &self.pool)
            .field("io_timeout", &self.io_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisPool {
    /// Opens one connection now so a stopped server fails at startup.
    pub(crate) fn connect(
        url: &str,
        size: usize,
        io_timeout: Duration,
    ) -> Result<Self, BackendError> {
        let client = client(url)?;
        let connect_timeout = CONNECT_TIMEOUT.min(io_timeout);
        let pool = Pool::new("cache", size, POOL_CHECKOUT_TIMEOUT, move || {
            let conn = client.get_connection_with_timeout(connect_timeout)?;
            conn.set_read_timeout(Some(io_timeout))?;
            conn.set_write_timeout(Some(io_timeout))?;
            Ok(conn)
        });
        drop(pool.get()?);
        Ok(Self {
            pool,
            whom: whom(url),
            io_timeout,
        })
    }

    /// Every command of the blocking clients goes through here.
    fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, BackendError> {
        let mut conn = self.pool.get()?;
        cmd.query(&mut *conn).map_err(|e| {
            if broken(&e) {
                conn.discard();
            }
            failed(e, &self.whom, self.io_timeout)
        })
    }
}

impl CacheClient for RedisPool {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, BackendError>> + Send {
        ready(self.run(&get_cmd(key)))
    }

    fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        ready(self.run(&set_cmd(key, value, ttl)))
    }
}

/// Async: one multiplexed connection on runtime `R` (Redis pipelines commands from many tasks
/// over it), opened lazily and replaced by a fresh one after a connection failure or a missed
/// deadline.
pub struct RedisAsync<R> {
    client: redis::Client,
    /// `None` until the next call opens one: at first, or after the last one failed. A
    /// connection that missed a deadline is dropped rather than reused: the replies it still
    /// owes would arrive, if ever, behind every later command.
    conn: Mutex<Option<MultiplexedConnection>>,
    whom: String,
    io_timeout: Duration,
    runtime: PhantomData<R>,
}

impl<R> std::fmt::Debug for RedisAsync<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAsync")
            .field("io_timeout", &self.io_timeout)
            .finish_non_exhaustive()
    }
}

/// A multiplexed connection over `R`'s own TCP stream, its pipeline driver spawned on `R`.
/// The crate's response timeout is off (it would look for a tokio runtime); every call is
/// bounded by `R::timeout` instead.
async fn open<R: AsyncRuntime>(
    client: &redis::Client,
) -> Result<MultiplexedConnection, BackendError> {
    let info = client.get_connection_info();
    let redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
        return Err(BackendError::Config(
            "Redis over TLS or a Unix socket is not supported by the async clients; use redis://host:port".into(),
        ));
    };
    let connect = async {
        let stream = R::connect(host, *port).await.map_err(|e| {
            BackendError::Unavailable("cache", format!("redis at {host}:{port}: {e}"))
        })?;
        let config = redis::AsyncConnectionConfig::new()
            .set_response_timeout(None)
            .set_connection_timeout(None);
        let (conn, driver) =
            MultiplexedConnection::new_with_config(info.redis_settings(), stream, config).await?;
        R::spawn(driver);
        Ok::<_, BackendError>(conn)
    };
    R::timeout(CONNECT_TIMEOUT, connect)
        .await
        .ok_or_else(|| BackendError::Unavailable("cache", "redis: connect timed out".into()))?
}

impl<R: AsyncRuntime> RedisAsync<R> {
    /// Opens the connection now so a stopped server fails at startup.
    pub(crate) async fn connect(url: &str, io_timeout: Duration) -> Result<Self, BackendError> {
        let client = client(url)?;
        let conn = Mutex::new(Some(open::<R>(&client).await?));
        Ok(Self {
            client,
            conn,
            whom: whom(url),
            io_timeout,
            runtime: PhantomData,
        })
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        // A poisoned lock still holds a usable handle.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// **Every command of the async clients goes through here**: the connection (opened
    /// first if there is none), the command, all under the IO deadline. Cloning a
    /// multiplexed connection is cheap (a channel handle); the lock is never held across an
    /// await.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, BackendError> {
        let call = async {
            let current = self.slot().clone();
            let mut conn = match current {
                Some(conn) => conn,
                None => {
                    let fresh = open::<R>(&self.client).await?;
                    *self.slot() = Some(fresh.clone());
                    fresh
                }
            };
            cmd.query_async(&mut conn).await.map_err(|e| {
                if broken(&e) {
                    *self.slot() = None;
                }
                failed(e, &self.whom, self.io_timeout)
            })
        };
        R::timeout(self.io_timeout, call).await.unwrap_or_else(|| {
            *self.slot() = None;
            Err(crate::error::no_answer(
                "cache",
                &self.whom,
                self.io_timeout,
            ))
        })
    }
}

impl<R: AsyncRuntime> CacheClient for RedisAsync<R> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        self.run(&get_cmd(key)).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), BackendError> {
        self.run(&set_cmd(key, value, ttl)).await
    }
}
