//! The tokio `Listener`: one accept loop for every tokio model (`async-single`, `async-multi`,
//! and each shard of `thread-per-core`). One task per accepted connection; on shutdown it
//! stops accepting, drops the listener (new connections are refused) and waits for its
//! connections, bounded by the drain deadline.

use crate::drivers::tokio::serve_conn;
use crate::listen::{ACCEPT_BACKOFF, sweep_backlog};
use crate::{ServerError, Shared};
use clab_backend::Backend;
use std::net::TcpListener;
use std::sync::Arc;
use tokio::task::JoinSet;

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
                    let shared = Arc::clone(&shared);
                    conns.spawn(async move { serve_conn(stream, &shared).await });
                }
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning; the backlog waits.
                    tracing::warn!(%err, "accept failed");
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
        let shared = Arc::clone(&shared);
        conns.spawn(async move { serve_conn(stream, &shared).await });
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
