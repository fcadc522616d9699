//! [`Shared`]: what every connection of a running model reads: the app, the options, the
//! shutdown trigger, the live counters and the admission bounds. One per server (per shard in
//! `thread-per-core`, whose shards share the counters and the bounds).

use crate::admission::{Admission, ConnectionPass};
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
    pub admission: Arc<Admission>,
}

impl<B: Backend> Shared<B> {
    pub fn new(
        model: Model,
        workers: usize,
        backend: B,
        opts: ServeOptions,
        shutdown: Shutdown,
    ) -> Self {
        let admission = Admission::new(&opts);
        Self::with_stats(
            Arc::new(Stats::new(model, workers)),
            admission,
            backend,
            opts,
            shutdown,
        )
    }

    /// A `Shared` whose counters and bounds are shared with other shards (`thread-per-core`).
    pub fn with_stats(
        stats: Arc<Stats>,
        admission: Arc<Admission>,
        backend: B,
        opts: ServeOptions,
        shutdown: Shutdown,
    ) -> Self {
        Self {
            app: App::new(backend),
            opts,
            shutdown,
            stats,
            admission,
        }
    }

    /// A place for one more open connection (`--max-connections`), or `None`: refuse it.
    pub fn admit(&self) -> Option<ConnectionPass> {
        self.admission.connection()
    }

    /// Handle one request: the lab's own `/debug/…` routes here (always answered, so an
    /// overloaded server can still be looked at), everything else in the app, unless
    /// `--max-inflight` requests are in the app already: then 503 at once.
    // Not an `async fn`: the explicit `+ Send` is what tokio's multi-thread runtime needs.
    #[allow(clippy::manual_async_fn)]
    pub fn handle(&self, req: Request) -> impl Future<Output = Response> + Send + '_ {
        async move {
            if let Some(resp) = debug::route(&self.stats, &self.admission, &req) {
                return resp;
            }
            let Some(_admitted) = self.admission.request() else {
                return crate::busy::response(crate::busy::AT_MAX_INFLIGHT);
            };
            let _in_flight = self.stats.request();
            self.app.handle(req).await
        }
    }
}
