//! The load generator of Concurrency Lab (issue 3).
