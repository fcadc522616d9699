//! A minimal hyper 1.x hello-world server: the speed reference `scripts/bench-serve.sh`
//! compares `clab serve --model async-multi` against on `/plaintext`.
//!
//! Same shape as async-multi: a tokio multi-thread runtime with one worker per core and one
//! task per connection. It answers `Hello, World!` to every request.
//!
//! Run: `cargo run --release -p clab-server --example hyper_hello -- 127.0.0.1:3000`

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;

async fn hello(_req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
        .parse()?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("hyper_hello: listening on http://{addr} with {workers} workers");
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let io = TokioIo::new(stream);
                if let Err(err) = http1::Builder::new()
                    .serve_connection(io, service_fn(hello))
                    .await
                {
                    eprintln!("hyper_hello: connection error: {err}");
                }
            });
        }
    })
}
