//! Periodic tasks: work that is due because time passed, not because someone did something
//! (enqueueing the watch reminders that enter their window, ...).
//!
//! Each task is a row of `periodic_tasks`. Every instance that runs workers looks at the rows every
//! [`POLL`]; the one whose conditional update moves a due row's `next_run_at` on (`WHERE
//! next_run_at = <what it read>`) runs the task, in that same transaction, so its work and the
//! claim commit or roll back together: a task that fails stays due and is tried again at the next
//! poll, by whichever instance claims it, and two instances never run one turn twice. No leader election
//! and no session advisory locks (they would not survive pgbouncer in transaction mode).

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use tokio::sync::watch;

use crate::config::Config;
use crate::db::schema::periodic_tasks;
use crate::db::{Db, DbConnection};
use crate::error::AppResult;
use crate::outbox::Channel;
use crate::state::AppState;
use crate::{assignments, fasts, prayer_requests, watches};

/// How often an instance looks for due tasks.
const POLL: StdDuration = StdDuration::from_secs(1);

/// What a task is given: the configuration, the channels notices are written for, and the
/// times of its turn.
pub struct Turn<'a> {
    pub config: &'a Config,
    pub channels: &'a [Channel],
    /// When the previous turn began (`None` on the first), so a turn covers `(since, now]`.
    pub since: Option<NaiveDateTime>,
    pub now: NaiveDateTime,
}

/// A periodic task: its name (its row), its pace, and its work.
pub struct Task {
    pub name: &'static str,
    pub every: Duration,
    pub run: fn(&mut DbConnection, &Turn) -> AppResult<()>,
}

/// Every periodic task the service runs.
pub const TASKS: &[Task] = &[
    Task {
        name: "watch_reminders",
        // Reminders are enqueued 48 hours ahead and leads are at most 24 hours: every few
        // minutes is far more often than needed, and keeps the window's edge close to "now".
        every: Duration::minutes(5),
        run: |conn, turn| {
            watches::reminders::enqueue(conn, turn.channels, turn.now, None).map(|_| ())
        },
    },
    Task {
        name: "fast_reminders",
        every: Duration::minutes(5),
        run: |conn, turn| {
            fasts::reminders::enqueue(conn, turn.channels, turn.now, None).map(|_| ())
        },
    },
    Task {
        name: "prayed_digests",
        // A digest goes at 08:00 in each requester's zone: a minute's pace keeps it on time.
        every: Duration::minutes(1),
        run: |conn, turn| {
            prayer_requests::digest::enqueue(conn, turn.channels, turn.since, turn.now).map(|_| ())
        },
    },
    Task {
        name: "gaps_digests",
        every: Duration::minutes(1),
        run: |conn, turn| {
            watches::gaps::enqueue(conn, turn.channels, turn.since, turn.now).map(|_| ())
        },
    },
    Task {
        name: "slot_offers",
        // Waves are 30 minutes apart; a minute's pace keeps each on time.
        every: Duration::minutes(1),
        run: |conn, turn| {
            watches::replacements::run(conn, turn.channels, turn.now, turn.config.slot_offer_wave)
        },
    },
    Task {
        name: "unprayed_nudges",
        // Nudges are counted in whole periods of hours: a quarter of an hour late is nothing.
        every: Duration::minutes(15),
        run: |conn, turn| {
            let period = Duration::hours(turn.config.unprayed_nudge_hours);
            assignments::nudges::enqueue(conn, turn.channels, turn.now, period).map(|_| ())
        },
    },
    Task {
        name: "rate_limit_sweep",
        // Rows of keys whose allowance is whole again hold nothing; an hour's are few.
        every: Duration::hours(1),
        run: |conn, turn| crate::ratelimit::sweep(conn, turn.now).map(|_| ()),
    },
];

/// Claims `task`'s turn if it is due at `now`, and runs it in the same transaction. True when
/// this call ran it.
pub fn run_if_due(
    conn: &mut DbConnection,
    task: &Task,
    config: &Config,
    channels: &[Channel],
    now: NaiveDateTime,
) -> AppResult<bool> {
    let row: Option<(NaiveDateTime, Option<NaiveDateTime>)> = periodic_tasks::table
        .find(task.name)
        .select((periodic_tasks::next_run_at, periodic_tasks::last_run_at))
        .first(conn)
        .optional()?;
    let (next, since) = match row {
        Some(row) => row,
        None => {
            // The task's first turn on this database: its row starts it.
            let row = (
                periodic_tasks::name.eq(task.name),
                periodic_tasks::next_run_at.eq(now),
            );
            match conn {
                DbConnection::Postgresql(pg) => diesel::insert_into(periodic_tasks::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(pg)?,
                DbConnection::Sqlite(lite) => diesel::insert_or_ignore_into(periodic_tasks::table)
                    .values(row)
                    .execute(lite)?,
            };
            return Ok(false);
        }
    };
    if next > now {
        return Ok(false);
    }
    let claimed = diesel::update(
        periodic_tasks::table
            .filter(periodic_tasks::name.eq(task.name))
            .filter(periodic_tasks::next_run_at.eq(next)),
    )
    .set((
        periodic_tasks::next_run_at.eq(now + task.every),
        periodic_tasks::last_run_at.eq(now),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(false);
    }
    (task.run)(
        conn,
        &Turn {
            config,
            channels,
            since,
            now,
        },
    )?;
    Ok(true)
}

/// Runs the periodic tasks of this instance until `stopping` turns true.
/// Its database calls go through `db`, the service's background [`crate::db::Db::lane`].
pub async fn run(state: web::Data<AppState>, db: Db, mut stopping: watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        // Which tasks are due, by a read: most seconds none is, and a read takes no write lock
        // (SQLite's one writer is not held every second for nothing).
        let now = state.clock.now();
        let next: HashMap<String, NaiveDateTime> = match db
            .read(|conn| {
                Ok(periodic_tasks::table
                    .select((periodic_tasks::name, periodic_tasks::next_run_at))
                    .load::<(String, NaiveDateTime)>(conn)?)
            })
            .await
        {
            Ok(rows) => rows.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "the periodic tasks could not be read");
                HashMap::new()
            }
        };
        for task in TASKS
            .iter()
            .filter(|t| next.get(t.name).is_none_or(|at| *at <= now))
        {
            let shared = state.clone();
            let now = state.clock.now();
            let ran = db
                .write(move |conn| run_if_due(conn, task, &shared.config, shared.channels, now))
                .await;
            match ran {
                Ok(true) => tracing::debug!(task = task.name, "a periodic task ran"),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(task = task.name, error = %e, "a periodic task failed; it stays due")
                }
            }
        }
        tokio::select! {
            _ = actix_web::rt::time::sleep(POLL) => {}
            _ = stopping.changed() => {}
        }
    }
}
