//! Create and seed a database, timing it: `cargo run --release -p clab-backend --example
//! prepare -- sqlite:///tmp/clab.db` (or a `postgres://` URL). Then one query per call kind
//! through the blocking backend, to show the data is there.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use clab_backend::{Backend, BackendConfig, BlockingBackend, prepare};

fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("blocking backend futures are ready at once"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://clab.db".to_owned());
    let cfg = BackendConfig {
        database: url.parse()?,
        ..BackendConfig::default()
    };
    let t = Instant::now();
    prepare(&cfg)?;
    println!("prepare: {:.3} s", t.elapsed().as_secs_f64());
    let b = BlockingBackend::connect(&cfg)?;
    println!("{}", b.describe());
    println!("user 42: {:?}", ready(b.user(42))?);
    println!("orders of 42: {}", ready(b.orders(42, 100))?.len());
    Ok(())
}
