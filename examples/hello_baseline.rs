//! The baseline of the load benchmark (`scripts/bench.py`): a bare actix-web hello-world, built
//! from this repository with the same profile as the service, so the ratios in
//! `docs/benchmarks.md` compare the service with what actix-web itself does on the same machine.
//!
//! `cargo run --release --example hello_baseline -- 8099`

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8099);
    HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().body("Hello world!") }),
        )
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
