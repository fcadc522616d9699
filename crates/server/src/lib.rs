//! The concurrency models of the chapter, each serving the same [`clab_app::App`].
//!
//! # Brief overview
//! - [`Model`]: every model, with `ALL`, `name()`, `summary()`; one file each under `models/`.
//! - [`ServeOptions`]: knobs shared by all models (workers, limits, timeouts, backend).
//! - [`Shutdown`]: a cloneable trigger; SIGINT/SIGTERM or a test pulls it, the model stops
//!   accepting, drains in-flight requests (bounded by the drain deadline) and returns.
//! - [`serve`]: run a model on a bound listener until shutdown.
