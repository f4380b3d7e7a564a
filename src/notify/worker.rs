//! The delivery worker: one tokio task per instance (`WORKERS_ENABLED`), claiming due outbox rows
//! in batches and delivering each outside the claim's transaction.
//!
//! Several instances on one PostgreSQL each run one; `FOR UPDATE SKIP LOCKED` gives each row to
//! one of them. A row whose worker died is claimed again when its lease runs out ([`LEASE`]). On
//! stop (SIGTERM ends the HTTP server first), the worker finishes the row in hand, hands the rest
//! of its batch back, and ends: nothing claimed is lost, nothing is delivered twice in-app (the
//! inbox row and the outbox's `sent` commit together).

use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{Duration, NaiveDateTime};
use rand::Rng;
use tokio::sync::watch;

use super::{inbox, preferences, render};
use crate::accounts::store as members;
use crate::error::{AppError, AppResult};
use crate::outbox::{self, Channel, OutboxRow, Outcome};
use crate::state::AppState;
use crate::time::now;

/// How long a claim holds a row before another worker may take it.
pub const LEASE: Duration = Duration::minutes(5);
/// Rows claimed at once.
const BATCH: i64 = 50;
/// How often an idle worker looks for due rows (design.md: at least every 2 seconds).
const POLL: StdDuration = StdDuration::from_secs(1);

/// When a failed delivery is tried again, after its `attempts`-th failure: about 5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (api.md's schedule for webhooks, used for every
/// channel), each with up to 10% of jitter; `None` once they are spent.
pub fn retry_after(attempts: i32) -> Option<Duration> {
    const SCHEDULE: [i64; 9] = [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];
    let base = *SCHEDULE.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let jitter = rand::rng().random_range(0..=base / 10);
    Some(Duration::seconds(base + jitter))
}

/// The running worker; [`Worker::stop`] ends it.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current runtime.
    pub fn start(state: web::Data<AppState>) -> Self {
        let (stop, stopping) = watch::channel(false);
        let task = actix_web::rt::spawn(run(state, stopping));
        Worker { stop, task }
    }

    /// Asks the worker to stop and waits until it has: the row in hand finished, the rest of its
    /// batch handed back.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(state: web::Data<AppState>, mut stopping: watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let claimed = state
            .db
            .write(|conn| outbox::claim(conn, now(), LEASE, BATCH))
            .await;
        let full = match claimed {
            Ok(rows) => {
                let full = rows.len() as i64 == BATCH;
                let mut rows = rows.into_iter();
                for row in rows.by_ref() {
                    deliver(&state, row).await;
                    if *stopping.borrow() {
                        break;
                    }
                }
                let rest: Vec<OutboxRow> = rows.collect();
                if !rest.is_empty() {
                    if let Err(e) = state
                        .db
                        .write(move |conn| outbox::release(conn, &rest))
                        .await
                    {
                        tracing::warn!(error = %e, "could not hand back claimed notifications; their leases will run out");
                    }
                }
                full
            }
            Err(e) => {
                tracing::warn!(error = %e, "the notification worker could not claim rows");
                false
            }
        };
        if full {
            continue;
        }
        tokio::select! {
            _ = actix_web::rt::time::sleep(POLL) => {}
            _ = stopping.changed() => {}
        }
    }
}

/// Delivers one claimed row and records the outcome; a failure is retried on the schedule.
async fn deliver(state: &web::Data<AppState>, row: OutboxRow) {
    let id = row.id.clone();
    let attempts = row.attempts;
    let result = match row.channel {
        Channel::InApp => {
            let row = row.clone();
            state.db.write(move |conn| deliver_in_app(conn, &row)).await
        }
    };
    if let Err(error) = result {
        tracing::warn!(notification = %id, attempts, error = %error, "a notification was not delivered");
        let at = now();
        let outcome = Outcome::Failed {
            error: error.to_string(),
            retry_at: retry_after(attempts).map(|d| at + d),
        };
        let recorded = state
            .db
            .write(move |conn| outbox::finish(conn, &row, at, &outcome))
            .await;
        if let Err(e) = recorded {
            tracing::warn!(notification = %id, error = %e, "a failed delivery could not be recorded; its lease will run out");
        }
    }
}

/// In-app: rendered for the recipient as they are now, put in their inbox and marked sent in one
/// transaction, only while the claim holds.
fn deliver_in_app(conn: &mut crate::db::DbConnection, row: &OutboxRow) -> AppResult<()> {
    let at: NaiveDateTime = now();
    let member_id = row
        .member_id
        .as_deref()
        .ok_or(AppError::bug("an in-app notification without a member"))?;
    let Some(member) = members::find(conn, member_id)? else {
        let why = "the recipient's account is gone".to_string();
        outbox::finish(conn, row, at, &Outcome::Dropped(why))?;
        return Ok(());
    };
    if !preferences::load(conn, member_id)?.wants(Channel::InApp, row.event) {
        let why = "the recipient switched this event off".to_string();
        outbox::finish(conn, row, at, &Outcome::Dropped(why))?;
        return Ok(());
    }
    match render::render(conn, row, &member)? {
        Some(rendered) => {
            if outbox::finish(conn, row, at, &Outcome::Sent)? {
                inbox::deliver(conn, row, rendered)?;
            }
        }
        None => {
            let why = "the recipient may no longer see what it is about".to_string();
            outbox::finish(conn, row, at, &Outcome::Dropped(why))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_at_most_a_tenth_of_jitter_then_stop() {
        for (attempt, base) in [(1, 5), (2, 300), (5, 18_000), (9, 86_400)] {
            let after = retry_after(attempt).unwrap().num_seconds();
            assert!(
                (base..=base + base / 10).contains(&after),
                "{attempt}: {after}"
            );
        }
        assert!(retry_after(10).is_none());
        assert!(retry_after(0).is_none());
    }
}
