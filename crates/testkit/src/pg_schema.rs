//! [`PgSchema`]: a private schema on the test PostgreSQL, dropped at the end.
//!
//! Tests that write to the test database must not see each other's rows, nor those of a
//! running `clab serve` on the same database. A schema per test process, first on the
//! search path of every connection made through [`PgSchema::url`], gives each its own tables
//! without any change to the code under test (it just connects to a URL).

/// A schema `clab_<tag>_<pid>` in the database at `base_url`, dropped (with its tables) when
/// this value is.
#[derive(Debug)]
pub struct PgSchema {
    base_url: String,
    name: String,
}

impl PgSchema {
    /// Create the schema, first dropping any left by an earlier process with the same pid
    /// (one killed before its `Drop` ran). The pid keeps concurrent test binaries apart, the
    /// tag the tests of one binary that run in parallel.
    ///
    /// Panics if the database cannot be reached: a test that asked for PostgreSQL (its URL is
    /// set) must fail rather than pass without it.
    pub fn create(base_url: &str, tag: &str) -> Self {
        let name = format!("clab_{tag}_{}", std::process::id());
        connect(base_url)
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .expect("create the test schema");
        Self {
            base_url: base_url.to_owned(),
            name,
        }
    }

    /// The base URL with this schema first on the search path (`options=-csearch_path=…`,
    /// percent-encoded), appended with `?` or `&` as the URL already has a query or not.
    pub fn url(&self) -> String {
        let sep = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-csearch_path%3D{}",
            self.base_url, self.name
        )
    }

    /// The schema's name, `clab_<tag>_<pid>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection whose unqualified table names resolve in this schema.
    pub fn client(&self) -> postgres::Client {
        connect(&self.url())
    }
}

impl Drop for PgSchema {
    /// Best effort: a test that failed may have left the server unreachable, and panicking
    /// in a drop during that unwind would abort the whole test binary.
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.base_url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to the test PostgreSQL")
}
