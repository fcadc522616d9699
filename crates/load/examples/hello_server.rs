//! The integration tests' hello-world server as a program, for trying `clab load` when no
//! other server is at hand: `cargo run --release -p clab-load --example hello_server -- 127.0.0.1:8080`
//! prints the address it listens on. One thread per connection: simple, not fast.

#[path = "../tests/support/mod.rs"]
mod support;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let server = support::TestServer::start_on(&addr, support::Behavior::Hello);
    println!("listening on {}", server.addr);
    loop {
        std::thread::park();
    }
}
