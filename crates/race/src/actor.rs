//! `actor`: one owner of the value; everyone else sends it messages (the chapter's Go
//! `counterService`: "share memory by communicating"). Only the owner touches the count, so
//! there is nothing to race on; a read is a message with a reply channel.
//!
//! The threads world's owner is a thread fed by a `std` (or loom) channel, the tasks world's
//! a task fed by tokio's. The thread owner stops on an explicit [`Msg::Stop`] that dropping
//! the handle sends, rather than on the channel's hang-up: loom's channel does not model
//! hang-up (its `recv` would wait forever), and the models must check this exact code.

use crate::Counter;
use clab_sync::sync::mpsc;
use clab_sync::thread;

enum Msg {
    Add(u64),
    Get(mpsc::Sender<u64>),
    Stop,
}

/// The handle the workers share; the owner thread runs until the handle is dropped.
#[derive(Debug)]
pub struct Actor {
    to_owner: mpsc::Sender<Msg>,
}

impl Default for Actor {
    fn default() -> Self {
        Self::spawn()
    }
}

impl Actor {
    /// Start the owner thread.
    pub fn spawn() -> Self {
        let (to_owner, inbox) = mpsc::channel();
        // Detached: it ends on `Stop`, which `Drop` sends.
        thread::spawn(move || {
            let mut count = 0u64;
            while let Ok(msg) = inbox.recv() {
                match msg {
                    Msg::Add(n) => count += n,
                    // A reader that gave up waiting is no concern of the owner's.
                    Msg::Get(reply) => drop(reply.send(count)),
                    Msg::Stop => break,
                }
            }
        });
        Self { to_owner }
    }

    fn send(&self, msg: Msg) {
        self.to_owner
            .send(msg)
            .expect("the owner thread runs until its handle is dropped");
    }
}

impl Counter for Actor {
    fn increment(&self) {
        self.send(Msg::Add(1));
    }

    fn get(&self) -> u64 {
        let (reply, answer) = mpsc::channel();
        self.send(Msg::Get(reply));
        // Channels are FIFO per sender, and every earlier `Add` of a joined worker was sent
        // before this `Get`, so the answer counts them all.
        answer
            .recv()
            .expect("the owner answers every Get before it stops")
    }
}

impl Drop for Actor {
    fn drop(&mut self) {
        // Fails only if the owner panicked; nothing left to stop then.
        drop(self.to_owner.send(Msg::Stop));
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Add(n) => write!(f, "Add({n})"),
            Msg::Get(_) => f.write_str("Get"),
            Msg::Stop => f.write_str("Stop"),
        }
    }
}

#[cfg(not(loom))]
pub use tasks::AsyncActor;

#[cfg(not(loom))]
mod tasks {
    use tokio::sync::{mpsc, oneshot};

    /// Go's `counterService` used a channel buffered to 100; so does this one. Bounded, a
    /// flood of increments waits for the owner instead of queueing without limit.
    const INBOX: usize = 100;

    enum Msg {
        Add(u64),
        Get(oneshot::Sender<u64>),
    }

    /// The tasks world's handle. The owner task ends when the last handle is dropped (tokio's
    /// `recv` sees the hang-up).
    #[derive(Debug, Clone)]
    pub struct AsyncActor {
        to_owner: mpsc::Sender<Msg>,
    }

    impl AsyncActor {
        /// Start the owner task (call inside a tokio runtime).
        pub fn spawn() -> Self {
            let (to_owner, mut inbox) = mpsc::channel(INBOX);
            tokio::spawn(async move {
                let mut count = 0u64;
                while let Some(msg) = inbox.recv().await {
                    match msg {
                        Msg::Add(n) => count += n,
                        Msg::Get(reply) => drop(reply.send(count)),
                    }
                }
            });
            Self { to_owner }
        }

        async fn send(&self, msg: Msg) {
            // The owner holds its inbox while any handle exists, so sends cannot fail.
            let sent = self.to_owner.send(msg).await;
            assert!(sent.is_ok(), "the owner task runs while a handle exists");
        }
    }

    impl crate::AsyncCounter for AsyncActor {
        async fn increment(&self) {
            self.send(Msg::Add(1)).await;
        }

        async fn get(&self) -> u64 {
            let (reply, answer) = oneshot::channel();
            self.send(Msg::Get(reply)).await;
            answer.await.expect("the owner answers every Get")
        }
    }
}
