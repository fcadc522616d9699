//! The backend service of Concurrency Lab: users, orders, accounts; routes and handlers.
//!
//! # Brief overview
//! - [`App`]: routes a [`clab_http::Request`] to its handler and returns a
//!   [`clab_http::Response`]. Handlers are `async fn`s generic over [`clab_backend::Backend`],
//!   written once and run by every concurrency model.

use clab_backend::Backend;
use clab_http::{Request, Response};
use std::future::Future;

/// The service. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct App<B: Backend> {
    backend: B,
}

impl<B: Backend> App<B> {
    pub fn new(backend: B) -> Self {
        Self { backend }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Handle one request. Never panics on bad input: every failure is a status code.
    pub fn handle(&self, req: Request) -> impl Future<Output = Response> + Send + '_ {
        async move {
            let _ = (req, &self.backend);
            todo!()
        }
    }
}
