//! How long `POST /hash` takes per `cost` (argon2id `t_cost`, 19 MiB): the numbers behind the
//! default cost. Measures wall time of the hash alone, median of a few runs per cost.
//!
//! `cargo run -p clab-app --release --example hash_cost` (dependencies are optimised in the dev
//! profile too, so a dev run gives nearly the same figures).

use std::time::{Duration, Instant};

fn main() {
    const RUNS: usize = 5;
    println!(
        "cost  median_ms  (argon2id, m={} KiB, p=1, {RUNS} runs each)",
        clab_app::HASH_MEMORY_KIB
    );
    for cost in clab_app::HASH_COST_RANGE {
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                if let Err(e) = clab_app::argon2id(b"correct horse battery staple", cost) {
                    eprintln!("hash failed: {e}");
                    std::process::exit(1);
                }
                start.elapsed()
            })
            .collect();
        times.sort();
        let marker = if cost == clab_app::HASH_DEFAULT_COST {
            "  (default)"
        } else {
            ""
        };
        println!(
            "{cost:>4}  {:>9.1}{marker}",
            times[RUNS / 2].as_secs_f64() * 1e3
        );
    }
}
