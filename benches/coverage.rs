//! Benchmark: coverage of a year-long 24/7 watch with thousands of signups, over HTTP.
//!
//! Run: `cargo bench --bench coverage` (SQLite), or with `BENCH_DATABASE_URL=postgres://...` for
//! PostgreSQL (the database is used as it is: give it an empty one). Prints p50/p99 latency of
//! `GET /watches/{id}/coverage` for a whole year and `GET /watches/{id}/slots` for a week, against
//! the target in the watches issue (coverage p50 well under 50 ms). See docs/benchmarks.md.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use intercede::accounts::model::MemberRow;
use intercede::app::Application;
use intercede::config::{Config, JwtSecret};
use intercede::db::Db;
use intercede::watches::model::{HeldSlotRow, SignupRow, WatchRow};
use intercede::watches::slots::Schedule;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
            .send_json(&serde_json::json!({"email": "m0@bench.example", "password": "bench password"}))
            .await
            .unwrap();
        let token: serde_json::Value = login.json().await.unwrap();
        let token = token["access_token"].as_str().unwrap().to_string();
        for (name, path) in [
            ("coverage, one year", format!("/watches/{watch_id}/coverage?from=2027-01-01&to=2028-01-01")),
            ("slots, one week", format!("/watches/{watch_id}/slots?from=2027-06-07&to=2027-06-14")),
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

/// A year-long 24/7 hourly watch in New York and SIGNUPS signups (one in ten weekly) by MEMBERS
/// members, written straight through the stores.
fn seed(db: &Db) -> String {
    let mut conn = db.blocking_conn().unwrap();
    let conn = &mut *conn;
    let hash = intercede::auth::passwords::hash("bench password").unwrap();
    let now = Utc::now().naive_utc();
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        let row = MemberRow {
            id: uuid::Uuid::now_v7().to_string(),
            email: format!("m{i}@bench.example"),
            display_name: format!("Member {i}"),
            search_key: format!("member {i}"),
            password_hash: hash.clone(),
            role: "member".into(),
            active: true,
            timezone: "UTC".into(),
            max_active_assignments: None,
            created_at: now,
            updated_at: now,
        };
        intercede::accounts::store::insert(conn, &row).unwrap();
        members.push(row.id);
    }
    let watch = WatchRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: "Bench 24/7".into(),
        description: None,
        team_id: None,
        timezone: "America/New_York".into(),
        starts_on: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        ends_on: Some(NaiveDate::from_ymd_opt(2027, 12, 31).unwrap()),
        slot_minutes: 60,
        day_start: 0,
        day_end: 1440,
        min_per_slot: 1,
        max_per_slot: None,
        created_by: None,
        created_at: now,
        updated_at: now,
    };
    intercede::watches::store::insert(conn, &watch).unwrap();
    let schedule: Schedule = watch.schedule().unwrap();
    let slots = schedule.slots(
        watch.starts_on,
        NaiveDate::from_ymd_opt(2028, 1, 1).unwrap(),
    );
    let mut rng = StdRng::seed_from_u64(7);
    let mut taken = std::collections::HashSet::new();
    let mut made = 0;
    while made < SIGNUPS {
        let member = &members[rng.random_range(0..members.len())];
        let first = slots[rng.random_range(0..slots.len())];
        let weekly = made % 10 == 0;
        let held: Vec<_> = if weekly {
            (0..52)
                .filter_map(|w| schedule.weekly(&first, w))
                .filter(|s| taken.insert((member.clone(), s.start)))
                .collect()
        } else if taken.insert((member.clone(), first.start)) {
            vec![first]
        } else {
            continue;
        };
        if held.is_empty() {
            continue;
        }
        let signup = SignupRow {
            id: uuid::Uuid::now_v7().to_string(),
            watch_id: watch.id.clone(),
            member_id: member.clone(),
            slot_start: first.start.naive_utc(),
            repeat_weekly: weekly,
            until: weekly.then(|| first.day + chrono::Duration::weeks(51)),
            created_at: now,
        };
        let rows: Vec<HeldSlotRow> = held
            .iter()
            .map(|s| HeldSlotRow {
                signup_id: signup.id.clone(),
                watch_id: watch.id.clone(),
                member_id: member.clone(),
                slot_start: s.start.naive_utc(),
                slot_end: s.end.naive_utc(),
            })
            .collect();
        intercede::watches::store::insert_signup(conn, &signup, &rows).unwrap();
        made += 1;
    }
    watch.id
}
