//! [`Shared`]: what every connection of a running model reads: the app, the options, the
//! shutdown trigger and the live counters. One per server (per shard in `thread-per-core`).

use crate::debug::{self, Stats};
use crate::{Model, ServeOptions, Shutdown};
use clab_app::App;
use clab_backend::Backend;
use clab_http::{Request, Response};
use std::future::Future;
use std::sync::Arc;

/// See the module docs. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Shared<B: Backend> {
    pub app: App<B>,
    pub opts: ServeOptions,
    pub shutdown: Shutdown,
    pub stats: Arc<Stats>,
}

impl<B: Backend> Shared<B> {
    pub fn new(
        model: Model,
        workers: usize,
        backend: B,
        opts: ServeOptions,
        shutdown: Shutdown,
    ) -> Self {
        Self::with_stats(
            Arc::new(Stats::new(model, workers)),
            backend,
            opts,
            shutdown,
        )
    }

    /// A `Shared` whose counters are shared with other shards (`thread-per-core`).
    pub fn with_stats(
        stats: Arc<Stats>,
        backend: B,
        opts: ServeOptions,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            app: App::new(backend),
            opts,
            shutdown,
            stats,
        }
    }

    /// Handle one request: the lab's own `/debug/…` routes here, everything else in the app.
    // Not an `async fn`: the explicit `+ Send` is what tokio's multi-thread runtime needs.
    #[allow(clippy::manual_async_fn)]
    pub fn handle(&self, req: Request) -> impl Future<Output = Response> + Send + '_ {
        async move {
            if let Some(resp) = debug::route(&self.stats, &req) {
                return resp;
            }
            let _in_flight = self.stats.request();
            self.app.handle(req).await
        }
    }
}
