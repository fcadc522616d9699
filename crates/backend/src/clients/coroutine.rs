//! `MayClients`: the blocking drivers, plus a may socket for the upstream.

use super::ClientSet;
use super::drivers::BlockingUpstream;
use crate::postgres_sync::PgPool;
use crate::redis_cache::RedisPool;

/// Coroutine models' clients (connect with `MayClients::connect(&cfg)`, as for
/// [`super::BlockingClients`]):
/// - SQLite inline: an in-process query is CPU work on the carrier, as it is everywhere;
/// - PostgreSQL and Redis through the *blocking* drivers (`postgres_sync.rs`, sync `redis`): no
///   coroutine-aware driver exists for them, so while they wait on the network they **pin
///   the carrier thread** (see [`MAY_PINNING_NOTE`]);
/// - the upstream `POST` over `may::net::TcpStream`, which parks only the coroutine.
///
/// The in-process cache is not remote; Redis is.
pub type MayClients = ClientSet<PgPool, RedisPool, BlockingUpstream<may::net::TcpStream>>;

/// What a coroutine model should print next to its results when it talks to PostgreSQL or
/// Redis.
pub const MAY_PINNING_NOTE: &str = "may coroutines: PostgreSQL and Redis go through blocking \
     drivers, which pin the carrier thread while they wait on the network (like a Java virtual \
     thread pinned by a synchronized block); only the simulated round trip and the upstream \
     call park just the coroutine";
