//! A minimal `may_minihttp` hello-world server: the reference `scripts/bench-models.sh`
//! compares the `thread-per-core`, `coroutines` and `event-loop` models against on `/plaintext`.
//!
//! Why it is the reference: `may_minihttp` runs one stackful `may` coroutine per connection on
//! a fixed set of worker threads (one per core by default), with a hand-written HTTP/1 codec and
//! pipelined writes, and it sits near the top of the TechEmpower plaintext tables. That is as
//! fast as "a few threads, many connections" gets in Rust without giving up blocking-style code,
//! so a model that matches it with the same number of workers has nothing left on the table;
//! with one worker it is the yardstick for a single-threaded event loop.
//!
//! It answers `Hello, World!` (200, `text/plain`) to every request, whatever the path.
//! Workers: the second argument, else `MAY_WORKERS`, else the number of cores; set with
//! `may::config().set_workers(n)` before anything starts the scheduler. `may` pins its workers
//! to cores by default; that is left as it ships.
//!
//! Run: `cargo run --release -p clab-server --example may_hello -- 127.0.0.1:3000 [WORKERS]`
//! (or `MAY_WORKERS=1 cargo run --release -p clab-server --example may_hello -- 127.0.0.1:3000`)

use may_minihttp::{HttpServer, HttpService, Request, Response};
use std::io;
use std::net::SocketAddr;

#[derive(Debug, Clone)]
struct Hello;

impl HttpService for Hello {
    fn call(&mut self, _req: Request<'_, '_, '_>, rsp: &mut Response<'_>) -> io::Result<()> {
        rsp.header("Content-Type: text/plain");
        rsp.body("Hello, World!");
        Ok(())
    }
}

/// The worker count: `arg` (the second CLI argument), else `MAY_WORKERS`, else the cores.
fn workers(arg: Option<String>) -> Result<usize, Box<dyn std::error::Error>> {
    let (text, source) = match arg {
        Some(text) => (text, "the workers argument"),
        None => match std::env::var("MAY_WORKERS") {
            Ok(text) => (text, "MAY_WORKERS"),
            Err(_) => return Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        },
    };
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{source}: expected a number of workers >= 1, got {text:?}").into()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
        .parse()?;
    let workers = workers(args.next())?;
    // Must come before the first coroutine: the scheduler reads it once, when it starts.
    may::config().set_workers(workers);
    // `start` binds before it returns, so the line below means "accepting connections".
    let server = HttpServer(Hello).start(addr)?;
    let plural = if workers == 1 { "" } else { "s" };
    eprintln!("may_hello: listening on http://{addr} with {workers} worker{plural}");
    server
        .join()
        .map_err(|_| "may_hello: the accept coroutine panicked")?;
    Ok(())
}
