//! [`ServeOptions`]: the knobs every model shares. Each model's doc lists the ones it reads.

use clab_backend::BackendConfig;
use clab_http::Limits;
use std::time::Duration;

/// How to serve. `Default` gives the production defaults; tests shorten the timeouts.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Worker threads; `None` means the model's default ([`crate::Model::default_workers`]).
    pub workers: Option<usize>,
    /// thread-pool: accepted connections waiting for a worker. When full, the acceptor
    /// answers 503 with `Retry-After` instead of queueing without bound.
    pub queue_capacity: usize,
    /// thread-pool: a connection that waited longer than this for a worker is answered 503
    /// with `Retry-After` when a worker takes it, instead of being served late.
    pub queue_timeout: Duration,
    /// Open connections (every model) beyond which a new one is answered 503 with
    /// `Retry-After` and closed. `None`: sized to the fd limit, with headroom
    /// ([`crate::admission::default_max_connections`]).
    pub max_connections: Option<usize>,
    /// Requests being handled at once (every model) beyond which a new one is answered 503
    /// with `Retry-After` at once.
    pub max_inflight: usize,
    /// The codec's limits (request line, head, header count, body).
    pub limits: Limits,
    /// From the first byte of a request until its head and body are complete. A client that
    /// sends part of a request and stalls gets 408 and is closed.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit between requests before it is closed quietly.
    /// Also bounds a single blocked write (a client that stops reading).
    pub idle_timeout: Duration,
    /// After shutdown is triggered, how long in-flight requests may take to finish.
    pub drain_deadline: Duration,
    /// thread-per-request (and the coroutine model): stack size of each connection's
    /// thread or coroutine; `None` is the platform's default.
    pub stack_size: Option<usize>,
    /// thread-per-request: at most this many connection threads; past it new connections get
    /// 503. `None`: no cap, so C10k shows where it really breaks and which kernel limit stops it.
    pub max_threads: Option<usize>,
    /// At shutdown, at most this many connections already waiting in the accept queue are
    /// still served (one request each) instead of being reset.
    pub backlog_sweep: usize,
    /// `event-loop` only: how `GET /users/{id}` is written (async/await, or raw callbacks).
    pub handler_style: HandlerStyle,
    /// What the backend connects to; each model builds its own flavour from it.
    pub backend: BackendConfig,
}

/// How the `/users/{id}` handler is written: the chapter's §07 stages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HandlerStyle {
    /// `async fn` with two `.await`s (every model).
    #[default]
    Async,
    /// Nested callbacks on the event loop's timers (`event-loop`, SQLite only).
    Callbacks,
}

impl ServeOptions {
    pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
    pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(2);
    pub const DEFAULT_MAX_INFLIGHT: usize = 1024;
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

    pub fn new(backend: BackendConfig) -> Self {
        Self {
            backend,
            ..Self::default()
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            workers: None,
            queue_capacity: Self::DEFAULT_QUEUE_CAPACITY,
            queue_timeout: Self::DEFAULT_QUEUE_TIMEOUT,
            max_connections: None,
            max_inflight: Self::DEFAULT_MAX_INFLIGHT,
            limits: Limits::default(),
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            drain_deadline: Self::DEFAULT_DRAIN_DEADLINE,
            stack_size: None,
            max_threads: None,
            backlog_sweep: 4096,
            handler_style: HandlerStyle::Async,
            backend: BackendConfig::default(),
        }
    }
}

/// Logical CPUs available to this process (1 if unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
