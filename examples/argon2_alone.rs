//! What argon2 alone achieves on this machine: password verifications per second with one thread
//! per core, at the service's own parameters. `scripts/bench.py` compares `POST /auth/login`
//! throughput with it.
//!
//! `cargo run --release --example argon2_alone -- 10` (seconds; prints one JSON line)

use std::time::{Duration, Instant};

use intercede::auth::passwords;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hash = passwords::hash("seed password").expect("hashing works");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        assert!(passwords::verify("seed password", &hash));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker"))
            .sum()
    });
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{{\"threads\":{threads},\"verifies\":{total},\"seconds\":{elapsed:.3},\"per_second\":{:.2}}}",
        total as f64 / elapsed
    );
}
