//! The tokio `Listener`: one accept loop for every tokio model (`async-single`, `async-multi`,
//! and each shard of `thread-per-core`). One task per accepted connection; on shutdown it
//! stops accepting, drops the listener (new connections are refused) and waits for its
//! connections, bounded by the drain deadline.

use crate::drivers::nonblocking::serve_conn;
use crate::listen::{ACCEPT_BACKOFF, sweep_backlog};
use crate::{Listen, Model, Ready, ServeOptions, ServerError, Shared, Shutdown};
use clab_backend::{AsyncBackend, Backend};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Tasks left after the drain deadline are cancelled; give blocking-pool work this long.
pub(crate) const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

/// A whole tokio model on one runtime (`async-single`, `async-multi`: they differ only in the
/// runtime they build): connect an [`AsyncBackend`] inside it, report ready, accept until
/// shutdown, drain, and shut the runtime down.
pub(crate) fn serve_on_runtime(
    runtime: tokio::runtime::Runtime,
    model: Model,
    workers: usize,
    listen: Listen,
    opts: ServeOptions,
    shutdown: Shutdown,
    on_ready: &mut dyn FnMut(&Ready),
) -> Result<(), ServerError> {
    let result = runtime.block_on(async {
        let backend = AsyncBackend::connect(&opts.backend).await?;
        let listener = listen.announce(model, workers, &backend, on_ready)?;
        let shared = Arc::new(Shared::new(model, workers, backend, opts, shutdown));
        shared.stats.add_runtime(tokio::runtime::Handle::current());
        accept_loop(listener, shared).await
    });
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    result
}

/// Accept on `listener` until shutdown, then drain. Must run inside a tokio runtime; the
/// connection tasks are spawned on it (`spawn_local` is not needed: every handler future is
/// `Send`, so the same loop serves a multi-thread and a current-thread runtime).
pub async fn accept_loop<B: Backend>(
    listener: TcpListener,
    shared: Arc<Shared<B>>,
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(ServerError::io("register listener"))?;
    let mut conns = JoinSet::new();
    let mut stop = shared.shutdown.watch();
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve_conn(stream, Arc::clone(&shared)));
                }
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning; the backlog waits.
                    crate::accept_errors::accept_failed(&err, &shared.admission.idle);
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
        // Reap finished connections so the set holds only live ones.
        while conns.try_join_next().is_some() {}
    }
    // Connections already in the accept queue are served (one request each, then closed),
    // not reset by dropping the listener: see `sweep_backlog`.
    let listener = listener
        .into_std()
        .map_err(ServerError::io("deregister listener"))?;
    for stream in sweep_backlog(&listener, shared.opts.backlog_sweep) {
        let Ok(stream) = stream
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpStream::from_std(stream))
        else {
            continue;
        };
        conns.spawn(serve_conn(stream, Arc::clone(&shared)));
    }
    drop(listener);

    let drained = tokio::time::timeout(shared.opts.drain_deadline, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = conns.len(),
            "drain deadline passed; cancelling connections"
        );
        conns.abort_all();
    }
    Ok(())
}
