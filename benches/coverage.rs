//! Benchmark: coverage of a year-long 24/7 watch with thousands of signups, over HTTP.
//!
//! Run: `cargo bench --bench coverage` (SQLite), or with `BENCH_DATABASE_URL=postgres://...` for
//! PostgreSQL (the database is used as it is: give it an empty one). Prints p50/p99 latency of
//! `GET /watches/{id}/coverage` for a whole year and `GET /watches/{id}/slots` for a week, against
//! the target in the watches issue (coverage p50 well under 50 ms). See docs/benchmarks.md.

use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use intercede::app::Application;
use intercede::config::{Config, JwtSecret};
use intercede::db::Db;

const MEMBERS: usize = 250;
const SIGNUPS: usize = 5000;
const ROUNDS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let dir = std::env::temp_dir().join(format!("intercede-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("bench.db").display()));
    let db = Db::connect(&url).expect("database");
    let watch_id = seed(&db);
    actix_web::rt::System::new().block_on(async move {
        let mut config = Config::for_database(&url);
        config.bind_addr = "127.0.0.1:0".into();
        config.jwt_secret = JwtSecret::new(b"bench-secret-bench-secret-bench-secret".to_vec());
        config.log_filter = "warn".into();
        let app = Application::build_with_db(config, db).await.expect("app");
        let base = format!("http://127.0.0.1:{}/api/v1", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::default();
        let mut login = client
            .post(format!("{base}/auth/login"))
            .send_json(&serde_json::json!({"email": "admin@seed.example", "password": intercede::seed::PASSWORD}))
            .await
            .unwrap();
        let token: serde_json::Value = login.json().await.unwrap();
        let token = token["access_token"].as_str().unwrap().to_string();
        let year = Utc::now().year() + 1;
        for (name, path) in [
            ("coverage, one year", format!("/watches/{watch_id}/coverage?from={year}-01-01&to={}-01-01", year + 1)),
            ("slots, one week", format!("/watches/{watch_id}/slots?from={year}-06-07&to={year}-06-14")),
        ] {
            let mut times = Vec::with_capacity(ROUNDS);
            for i in 0..ROUNDS + 10 {
                let started = Instant::now();
                let mut res = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let body = res.body().limit(64 << 20).await.unwrap();
                assert_eq!(res.status(), 200, "{}", String::from_utf8_lossy(&body));
                if i >= 10 {
                    times.push(started.elapsed());
                }
            }
            times.sort();
            println!(
                "{name:<20} p50 {:>7.2} ms   p99 {:>7.2} ms   ({ROUNDS} requests, {SIGNUPS} signups)",
                percentile(&times, 0.5).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3,
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The seeding tool's church: a few requests, MEMBERS members, and the year-long 24/7 watch with
/// SIGNUPS signups.
fn seed(db: &Db) -> String {
    let mut conn = db.blocking_conn().unwrap();
    let scale = intercede::seed::Scale {
        requests: 1_000,
        members: MEMBERS,
        prayers_per_request: 2,
        watch_signups: SIGNUPS,
    };
    intercede::seed::seed(&mut conn, &scale, Utc::now().naive_utc())
        .unwrap()
        .watch_id
}
