//! Benchmark: time-driven care at scale (issue #19), on SQLite or `BENCH_DATABASE_URL`.
//!
//! Seeds the seeding tool's church at `BENCH_REQUESTS` requests (default 1,000,000; its year-long
//! 24/7 hourly watch has 5,000 signups, one in ten weekly, and a tenth of the members have a
//! three-day blockout), then measures, on the service's own code:
//! - the rolling-window enqueue of watch reminders (the `watch_reminders` task's turn): the first
//!   turn writes the next 48 hours, a turn five minutes later finds them written (target: under
//!   a second);
//! - the reminders due in the busiest minute of that window, delivered by the real service
//!   (workers on, its clock started just before that minute): how long after the minute began
//!   the last one was done (target: within the minute).
//!
//! Run: `cargo bench --bench care` (a clean database each time: the SQLite file is made fresh;
//! give PostgreSQL an empty database). Coverage of a year with these blockouts is measured by
//! `scripts/bench.py` (the seed holds them). See docs/benchmarks.md.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{Datelike, Duration as Span, NaiveDate, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;
use intercede::app::Application;
use intercede::config::{Config, JwtSecret};
use intercede::db::schema::outbox;
use intercede::db::Db;
use intercede::outbox::{Channel, DeliveryState, Event};

fn main() {
    let requests: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("intercede-care-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("bench.db").display()));
    let db = Db::connect(&url).expect("database");
    let mut conn = db.blocking_conn().unwrap();
    let seeded_at = Utc::now().naive_utc();
    let started = Instant::now();
    let seeded = intercede::seed::seed(
        &mut conn,
        &intercede::seed::Scale::for_requests(requests),
        seeded_at,
    )
    .expect("seeded");
    println!(
        "seeded {} members, {} requests in {:.0} s",
        seeded.members,
        seeded.requests,
        started.elapsed().as_secs_f64()
    );

    // Mid-year in the watch's year, two hours before noon UTC.
    let now = NaiveDate::from_ymd_opt(seeded_at.year() + 1, 6, 15)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let turn = |conn: &mut intercede::db::DbConnection, at: NaiveDateTime| {
        let started = Instant::now();
        let n = conn
            .transaction(|c| intercede::watches::reminders::enqueue(c, &[Channel::InApp], at, None))
            .expect("enqueued");
        (n, started.elapsed())
    };
    let (written, first) = turn(&mut conn, now);
    let (seen, second) = turn(&mut conn, now + Span::minutes(5));
    println!(
        "watch_reminders turn: {written} reminders of the next 48 hours written in {:.0} ms; \
         a turn 5 minutes later ({seen} in its window, all written already) in {:.0} ms \
         (target < 1,000 ms)",
        first.as_secs_f64() * 1e3,
        second.as_secs_f64() * 1e3
    );

    // The busiest minute of the window.
    let due: Vec<NaiveDateTime> = outbox::table
        .filter(outbox::event.eq(Event::WatchReminder))
        .select(outbox::run_at)
        .load(&mut **conn)
        .unwrap();
    let mut per_minute: BTreeMap<NaiveDateTime, usize> = BTreeMap::new();
    for at in due {
        let minute = at.with_second(0).unwrap().with_nanosecond(0).unwrap();
        *per_minute.entry(minute).or_default() += 1;
    }
    let (minute, count) = per_minute
        .iter()
        .filter(|(m, _)| **m > now)
        .max_by_key(|(_, n)| **n)
        .map(|(m, n)| (*m, *n))
        .expect("reminders due in the window");
    drop(conn);

    actix_web::rt::System::new().block_on(async move {
        let mut config = Config::for_database(&url);
        config.bind_addr = "127.0.0.1:0".into();
        config.jwt_secret = JwtSecret::new(b"bench-secret-bench-secret-bench-secret".to_vec());
        config.log_filter = "warn".into();
        config.workers_enabled = true;
        let lead = Span::seconds(3);
        config.clock_start = Some((minute - lead).and_utc());
        let app = Application::build_with_db(config, db.clone())
            .await
            .expect("app");
        let began = Instant::now() + Duration::from_secs(3);
        actix_web::rt::spawn(app.run_until_stopped());
        let end = minute + Span::minutes(1);
        let mut owed: i64;
        loop {
            owed = db
                .read(move |conn| {
                    Ok(outbox::table
                        .filter(outbox::event.eq(Event::WatchReminder))
                        .filter(outbox::run_at.ge(minute))
                        .filter(outbox::run_at.lt(end))
                        .filter(
                            outbox::state
                                .eq(DeliveryState::Pending)
                                .or(outbox::state.eq(DeliveryState::Sending)),
                        )
                        .count()
                        .get_result(conn)?)
                })
                .await
                .unwrap();
            if owed == 0 || began.elapsed() > Duration::from_secs(180) {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        let after = Instant::now().saturating_duration_since(began);
        // Everything else the service owed then (nudges of old assignments, the first time a
        // church's clock reaches them) is claimed in order of `run_at` with the reminders.
        let backlog: i64 = db
            .read(move |conn| {
                Ok(outbox::table
                    .filter(outbox::run_at.lt(minute))
                    .filter(outbox::state.eq(DeliveryState::Pending))
                    .count()
                    .get_result(conn)?)
            })
            .await
            .unwrap();
        if owed == 0 {
            println!(
                "the {count} reminders due in the busiest minute ({minute}) were all delivered \
                 {:.2} s after it began (target: within 60 s)",
                after.as_secs_f64()
            );
        } else {
            println!(
                "MISSED: {owed} of the {count} reminders due at {minute} were still owed {:.0} s \
                 after it began, behind {backlog} earlier notices still pending (target: within 60 s)",
                after.as_secs_f64()
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
