//! SQL injection: classic payloads in every parameter that reaches a handler change nothing in
//! the database, on every model.
//!
//! Every query is parameterised (`clab-backend`'s `queries.rs`: `$1`, `$2`, never a formatted
//! string), and numeric parameters are parsed before any query is built. This test is the
//! proof from outside: each payload goes into each parameter of each route (path segment,
//! query string, JSON string and number fields), the answer must be a refusal or an ordinary
//! answer (never a 5xx), and a checksum of every table, taken before and after, must match.
//!
//! The database is a SQLite file the test reads itself; with `CLAB_TEST_DATABASE_URL` set the
//! same runs once on PostgreSQL.

mod support;

use clab_backend::{BackendConfig, DatabaseUrl};
use clab_server::{Model, for_each_model};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use support::{Resp, TestServer};

/// The tables `prepare` creates; each is hashed row by row in primary-key order.
const TABLES: [(&str, &str); 4] = [
    ("users", "id"),
    ("orders", "id"),
    ("accounts", "user_id"),
    ("activity", "id"),
];

/// Classic payloads: tautologies, stacked queries, comments, UNION, blind and time-based
/// probes, encodings and quoting tricks (from the OWASP testing guide's lists).
const PAYLOADS: [&str; 54] = [
    "'",
    "\"",
    "''",
    "' OR '1'='1",
    "' OR '1'='1' --",
    "' OR 1=1 --",
    "\" OR \"1\"=\"1",
    "1 OR 1=1",
    "1' OR '1'='1",
    "1 OR 1=1 --",
    "-1 OR 1=1",
    "1; DROP TABLE users",
    "1; DROP TABLE users --",
    "'; DROP TABLE users; --",
    "1); DROP TABLE accounts; --",
    "1; DELETE FROM accounts",
    "1; UPDATE accounts SET balance_cents = 0",
    "'; UPDATE accounts SET balance_cents = 999999999 WHERE '1'='1",
    "1; INSERT INTO users VALUES (999999, 'x', 'x', 0)",
    "1 UNION SELECT 1,2,3,4",
    "1 UNION ALL SELECT NULL,NULL,NULL,NULL --",
    "' UNION SELECT name, sql, 1, 1 FROM sqlite_master --",
    "' UNION SELECT usename, passwd, 1, 1 FROM pg_shadow --",
    "1 AND 1=1",
    "1 AND 1=2",
    "1' AND '1'='1",
    "1 AND (SELECT COUNT(*) FROM users) > 0",
    "1 AND SLEEP(5)",
    "1; SELECT pg_sleep(5)",
    "1 AND 1=(SELECT 1 FROM pg_sleep(5))",
    "1 WAITFOR DELAY '0:0:5'",
    "randomblob(1000000000)",
    "1 AND randomblob(1000000000)",
    "admin'--",
    "admin' #",
    "admin'/*",
    "*/ OR 1=1 /*",
    "1/**/OR/**/1=1",
    "%27%20OR%201=1",
    "1%00",
    "1\0' OR 1=1",
    "\\' OR 1=1 --",
    "1e308",
    "9223372036854775808",
    "-9223372036854775809",
    "0x7fffffffffffffff",
    "1.0",
    "NULL",
    "null",
    "true",
    "(SELECT 1)",
    "1 || 1",
    "1; ATTACH DATABASE '/tmp/clab-pwn.db' AS pwn; --",
    "1; PRAGMA writable_schema = 1; --",
];

/// Percent-encode everything outside RFC 3986's unreserved set, so each payload reaches the
/// router as one path segment or query value (the handler sees it decoded or raw, as it does).
fn encode(payload: &str) -> String {
    payload
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON string literal holding `payload` exactly (serde_json escapes quotes and controls).
fn json_string(payload: &str) -> String {
    serde_json::to_string(payload).expect("a string serialises")
}

/// Every request a payload goes into: one per parameter, in every position it can take
/// (a number field also gets the payload as a string, and raw, unquoted, in the JSON).
fn requests(payload: &str) -> Vec<Vec<u8>> {
    let seg = encode(payload);
    let js = json_string(payload);
    let mut out: Vec<Vec<u8>> = [
        format!("/users/{seg}"),
        format!("/users/{seg}/dashboard"),
        format!("/users/1?limit={seg}"),
        format!("/cpu?ms={seg}"),
        format!("/accounts/{seg}"),
        format!("/accounts?from={seg}&to=2"),
        format!("/accounts?from=1&to={seg}"),
    ]
    .iter()
    .map(|path| format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes())
    .collect();
    // Every JSON number field gets the payload quoted and raw; the bank's path id too.
    let mut posts = vec![
        (
            "/hash".to_owned(),
            format!(r#"{{"password":{js},"cost":1}}"#),
        ),
        (
            format!("/accounts/{seg}/withdraw"),
            r#"{"amount":1}"#.to_owned(),
        ),
        (
            format!("/accounts/{seg}/deposit"),
            r#"{"amount":1}"#.to_owned(),
        ),
    ];
    for value in [js.as_str(), payload] {
        posts.extend([
            (
                "/hash".to_owned(),
                format!(r#"{{"password":"x","cost":{value}}}"#),
            ),
            (
                "/accounts/1/withdraw".to_owned(),
                format!(r#"{{"amount":{value}}}"#),
            ),
            (
                "/accounts/1/deposit".to_owned(),
                format!(r#"{{"amount":{value}}}"#),
            ),
            (
                "/transfers".to_owned(),
                format!(r#"{{"from":{value},"to":2,"amount":1}}"#),
            ),
            (
                "/transfers".to_owned(),
                format!(r#"{{"from":1,"to":{value},"amount":1}}"#),
            ),
            (
                "/transfers".to_owned(),
                format!(r#"{{"from":1,"to":2,"amount":{value}}}"#),
            ),
        ]);
    }
    for (path, body) in posts {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body.as_bytes());
        out.push(req);
    }
    out
}

/// Row-by-row hash of every table: equal before and after means nothing changed.
trait Checksum {
    fn checksum(&mut self) -> u64;
}

struct Sqlite(rusqlite::Connection);

impl Checksum for Sqlite {
    fn checksum(&mut self) -> u64 {
        let mut h = DefaultHasher::new();
        for (table, key) in TABLES {
            let mut stmt = self
                .0
                .prepare(&format!("SELECT * FROM {table} ORDER BY {key}"))
                .unwrap_or_else(|e| panic!("table {table} is gone or unreadable: {e}"));
            let columns = stmt.column_count();
            let mut rows = stmt.query([]).expect("query");
            let mut n = 0u64;
            while let Some(row) = rows.next().expect("row") {
                for i in 0..columns {
                    format!("{:?}", row.get_ref(i).expect("column")).hash(&mut h);
                }
                n += 1;
            }
            (table, n).hash(&mut h);
        }
        h.finish()
    }
}

struct Postgres(postgres::Client);

impl Checksum for Postgres {
    fn checksum(&mut self) -> u64 {
        let mut h = DefaultHasher::new();
        for (table, key) in TABLES {
            // Every row as its text form: covers every column whatever its type.
            let rows = self
                .0
                .query(
                    &format!("SELECT t::text FROM {table} t ORDER BY {key}"),
                    &[],
                )
                .unwrap_or_else(|e| panic!("table {table} is gone or unreadable: {e}"));
            for row in &rows {
                row.get::<_, String>(0).hash(&mut h);
            }
            (table, rows.len()).hash(&mut h);
        }
        h.finish()
    }
}

/// Send every payload in every parameter to `model` on `database`; the checksum must not move
/// and no answer may be a server error.
fn assert_injection_changes_nothing(
    model: Model,
    database: DatabaseUrl,
    checksum: &mut dyn Checksum,
) {
    let backend = BackendConfig {
        database,
        seed_users: 50,
        seed_orders_per_user: 2,
        pool_size: 2,
        ..BackendConfig::default()
    };
    let server = TestServer::start(model, |opts| opts.backend = backend);
    let before = checksum.checksum();
    let mut sent = 0usize;
    for payload in PAYLOADS {
        for req in requests(payload) {
            // A fresh connection per request: a refusal closes its connection.
            let r: Resp = server.client().roundtrip(&req);
            assert!(
                r.status < 500,
                "{model}: payload {payload:?} got {} in {:?}",
                r.status,
                String::from_utf8_lossy(&req)
            );
            sent += 1;
        }
    }
    assert!(
        sent >= PAYLOADS.len() * 22,
        "every payload went into every parameter"
    );
    assert_eq!(
        checksum.checksum(),
        before,
        "{model}: the database changed under {sent} injection attempts"
    );
    // The server still answers an ordinary request after all of it.
    let r = server
        .client()
        .roundtrip(b"GET /users/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 200, "{model}: {r:?}");
}

for_each_model! {
    fn injection_changes_nothing_on_sqlite(model) {
        let dir = std::env::temp_dir().join(format!("clab-injection-{}-{model}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("clab.db");
        let _ = std::fs::remove_file(&path);
        let database = DatabaseUrl::SqliteFile(path.clone());
        clab_backend::prepare(&BackendConfig {
            database: database.clone(),
            seed_users: 50,
            seed_orders_per_user: 2,
            ..BackendConfig::default()
        })
        .expect("prepare");
        let mut sqlite = Sqlite(rusqlite::Connection::open(&path).expect("open the test database"));
        assert_injection_changes_nothing(model, database, &mut sqlite);
        // The checksum sees a one-cent change: a test whose probe is blind could not fail.
        let before = sqlite.checksum();
        sqlite.0.execute("UPDATE accounts SET balance_cents = balance_cents + 1 WHERE user_id = 1", [])
            .expect("update");
        assert_ne!(sqlite.checksum(), before, "the checksum must see a changed balance");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn injection_changes_nothing_on_postgres() {
    let Ok(url) = std::env::var("CLAB_TEST_DATABASE_URL") else {
        eprintln!(
            "NOTICE: CLAB_TEST_DATABASE_URL unset; the PostgreSQL injection test did not run"
        );
        return;
    };
    let database: DatabaseUrl = url.parse().expect("database url");
    for model in [Model::ThreadPool, Model::AsyncMulti] {
        let mut pg = Postgres(
            postgres::Client::connect(&url, postgres::NoTls).expect("connect to PostgreSQL"),
        );
        assert_injection_changes_nothing(model, database.clone(), &mut pg);
    }
}
