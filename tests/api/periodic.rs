//! Periodic tasks: of many instances trying one due turn at once, exactly one runs it.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use intercede::clock::Clock;
use intercede::config::Config;
use intercede::db::DbConnection;
use intercede::error::AppResult;
use intercede::notify::periodic::{run_if_due, Task, Turn};

use crate::helpers::TestDb;

static RUNS: AtomicUsize = AtomicUsize::new(0);

fn count(_: &mut DbConnection, _: &Turn) -> AppResult<()> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

const COUNTING: Task = Task {
    name: "test_counting",
    every: Duration::minutes(5),
    run: count,
};

#[actix_web::test]
async fn of_many_instances_claiming_one_due_turn_at_once_exactly_one_runs_it() {
    let (_db, url) = TestDb::create();
    // Eight pools on one database, as eight instances would have.
    let mut dbs = Vec::new();
    for _ in 0..8 {
        let url = url.clone();
        dbs.push(
            actix_web::web::block(move || crate::helpers::connect(&url))
                .await
                .unwrap(),
        );
    }
    let now = Clock::real().now();
    let config = std::sync::Arc::new(Config::for_database(url.clone()));
    // The first look writes the task's row; its first turn is due at once.
    let c = config.clone();
    let first = dbs[0]
        .write(move |conn| run_if_due(conn, &COUNTING, &c, &[], now))
        .await
        .unwrap();
    assert!(!first);
    for round in 1..=3 {
        let at = now + Duration::minutes(5 * round);
        let tries = dbs.iter().map(|db| {
            let c = config.clone();
            db.write(move |conn| run_if_due(conn, &COUNTING, &c, &[], at))
        });
        let ran: Vec<bool> = futures_util::future::join_all(tries)
            .await
            .into_iter()
            .map(|r| r.unwrap_or(false))
            .collect();
        assert_eq!(
            ran.iter().filter(|r| **r).count(),
            1,
            "round {round}: {ran:?}"
        );
    }
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    // Not due again until its pace has passed.
    let early = now + Duration::minutes(17);
    assert!(!dbs[0]
        .write(move |conn| run_if_due(conn, &COUNTING, &config, &[], early))
        .await
        .unwrap());
}
