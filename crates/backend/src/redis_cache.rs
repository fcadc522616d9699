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
use crate::config::{CONNECT_TIMEOUT, IO_TIMEOUT, POOL_CHECKOUT_TIMEOUT, redact_url};
use crate::pool::Pool;
use crate::runtime::AsyncRuntime;

fn client(url: &str) -> Result<redis::Client, BackendError> {
    redis::Client::open(url).map_err(|_| {
        BackendError::Config(format!("Redis URL {:?} does not parse", redact_url(url)))
    })
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

/// Blocking: sync connections behind the crate's checkout pool.
pub struct RedisPool {
    pool: Pool<redis::Connection>,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPool")
            .field("pool", &self.pool)
            .finish()
    }
}

impl RedisPool {
    /// Opens one connection now so a stopped server fails at startup.
    pub(crate) fn connect(url: &str, size: usize) -> Result<Self, BackendError> {
        let client = client(url)?;
        let pool = Pool::new("cache", size, POOL_CHECKOUT_TIMEOUT, move || {
            let conn = client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
            conn.set_read_timeout(Some(IO_TIMEOUT))?;
            conn.set_write_timeout(Some(IO_TIMEOUT))?;
            Ok(conn)
        });
        drop(pool.get()?);
        Ok(Self { pool })
    }

    fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, BackendError> {
        let mut conn = self.pool.get()?;
        match cmd.query(&mut *conn) {
            Ok(v) => Ok(v),
            Err(e) => {
                if broken(&e) {
                    conn.discard();
                }
                Err(e.into())
            }
        }
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
/// over it), replaced by a fresh one after a connection failure.
pub struct RedisAsync<R> {
    client: redis::Client,
    conn: Mutex<MultiplexedConnection>,
    runtime: PhantomData<R>,
}

impl<R> std::fmt::Debug for RedisAsync<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAsync").finish_non_exhaustive()
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
    pub(crate) async fn connect(url: &str) -> Result<Self, BackendError> {
        let client = client(url)?;
        let conn = Mutex::new(open::<R>(&client).await?);
        Ok(Self {
            client,
            conn,
            runtime: PhantomData,
        })
    }

    fn current(&self) -> MultiplexedConnection {
        // Cloning a multiplexed connection is cheap (a channel handle). A poisoned lock still
        // holds a usable handle.
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, BackendError> {
        let mut conn = self.current();
        let reply = R::timeout(IO_TIMEOUT, cmd.query_async(&mut conn))
            .await
            .ok_or_else(|| BackendError::Unavailable("cache", "redis: no reply in time".into()))?;
        match reply {
            Ok(v) => Ok(v),
            Err(e) => {
                if broken(&e)
                    && let Ok(fresh) = open::<R>(&self.client).await
                {
                    *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
                }
                Err(e.into())
            }
        }
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
