//! Helpers shared by the workspace's tests (a dev-dependency only, never built into a binary).

mod pg_schema;

pub use pg_schema::PgSchema;
