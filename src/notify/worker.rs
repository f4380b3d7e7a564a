//! The delivery worker: one tokio task per instance (`WORKERS_ENABLED`), claiming due outbox rows
//! in batches and delivering each outside the claim's transaction.
//!
//! Several instances on one PostgreSQL each run one; `FOR UPDATE SKIP LOCKED` gives each row to
//! one of them. A row whose worker died is claimed again when its lease runs out
//! (`OUTBOX_LEASE_SECS`, 5 minutes: longer than any one delivery may take). On
//! stop (SIGTERM ends the HTTP server first), the worker finishes the rows in hand, hands the rest
//! of its batch back, and ends: nothing claimed is lost, nothing is delivered twice in-app (the
//! inbox row and the outbox's `sent` commit together).

use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{Duration, NaiveDateTime};
use futures_util::stream::{FuturesUnordered, StreamExt};
use rand::Rng;
use tokio::sync::watch;

use super::account_mail::AccountMail;
use super::email::{mailbox, Letter, Mailer};
use super::inbox;
use super::recipients::Recipients;
use super::render::{self, Rendered};
use super::webhook::{self, Poster};
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::outbox::{self, Channel, Event, OutboxRow, Outcome};
use crate::state::AppState;

/// Rows claimed at once.
const BATCH: i64 = 50;
/// Deliveries in flight at once.
const CONCURRENT: usize = 8;
/// News addressed in one transaction (up to this many times its audience in outbox rows).
const NEWS_BATCH: i64 = 10;
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

/// Why a delivery did not happen, on any channel.
#[derive(Debug)]
pub enum SendError {
    /// Worth trying again (a connection failed, a 4xx answer, a database hiccup).
    Transient(String),
    /// The receiver refused it for good (a 5xx from the SMTP relay, a private address):
    /// retrying will not help.
    Permanent(String),
}

/// The running worker and this instance's periodic tasks ([`super::periodic`]);
/// [`Worker::stop`] ends both.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: actix_web::rt::task::JoinHandle<()>,
    periodic: actix_web::rt::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current runtime. It delivers in-app notifications, and email
    /// when SMTP is configured; rows of a channel it cannot deliver are left to an instance that
    /// can.
    /// `db` is the database handle its calls go through: the service's background
    /// [`Db::lane`], so that deliveries in flight do not take the connections readers need.
    pub fn start(state: web::Data<AppState>, db: Db) -> Self {
        let mailer = state.config.mail.as_ref().and_then(|mail| {
            Mailer::new(mail, &state.config.public_base_url)
                .inspect_err(|e| tracing::error!(error = %e, "email cannot be sent: the SMTP transport did not start"))
                .ok()
        });
        let poster = Poster::new(state.config.webhook_allow_private)
            .inspect_err(|e| tracing::error!(error = %e, "webhooks cannot be sent: the HTTP client did not start"))
            .ok();
        let channels: &'static [Channel] = match (mailer.is_some(), poster.is_some()) {
            (true, true) => &[Channel::InApp, Channel::Email, Channel::Webhook],
            (true, false) => &[Channel::InApp, Channel::Email],
            (false, true) => &[Channel::InApp, Channel::Webhook],
            (false, false) => &[Channel::InApp],
        };
        let (stop, stopping) = watch::channel(false);
        let periodic = actix_web::rt::spawn(super::periodic::run(
            state.clone(),
            db.clone(),
            stopping.clone(),
        ));
        let worker = Delivering {
            state,
            db,
            mailer,
            poster,
            channels,
        };
        let task = actix_web::rt::spawn(run(worker, stopping));
        Worker {
            stop,
            task,
            periodic,
        }
    }

    /// Asks the worker to stop and waits until it has: the row in hand finished, the rest of its
    /// batch handed back.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let _ = self.periodic.await;
    }
}

/// What the worker's task holds.
struct Delivering {
    state: web::Data<AppState>,
    /// Every database call of the worker goes through this handle (see [`Worker::start`]).
    db: Db,
    mailer: Option<Mailer>,
    poster: Option<Poster>,
    channels: &'static [Channel],
}

async fn run(worker: Delivering, mut stopping: watch::Receiver<bool>) {
    let state = &worker.state;
    let clock = state.clock;
    let channels = worker.channels;
    let lease = Duration::seconds(state.config.outbox_lease_secs);
    loop {
        if *stopping.borrow() {
            return;
        }
        address_news(&worker.db, &stopping).await;
        let claimed = worker
            .db
            .write(move |conn| outbox::claim(conn, clock.now(), lease, BATCH, channels))
            .await;
        let full = match claimed {
            Ok(rows) => {
                let full = rows.len() as i64 == BATCH;
                let (in_app, rows): (Vec<_>, Vec<_>) = rows
                    .into_iter()
                    .partition(|row| row.channel == Channel::InApp);
                let mut rest = Vec::new();
                if *stopping.borrow() {
                    rest = in_app;
                } else if !in_app.is_empty() {
                    deliver_in_app_together(&worker, in_app).await;
                }
                let mut jobs = plan_emails_together(&worker, rows).await.into_iter();
                // Up to CONCURRENT deliveries at once: a slow receiver (a webhook answering
                // after 15 s, an SMTP relay) holds one of them, not the whole batch. On stop,
                // those in flight finish and the rest are handed back.
                let mut in_flight = FuturesUnordered::new();
                let mut sent = Vec::new();
                loop {
                    while in_flight.len() < CONCURRENT && !*stopping.borrow() {
                        match jobs.next() {
                            Some(job) => in_flight.push(job.run(&worker)),
                            None => break,
                        }
                    }
                    match in_flight.next().await {
                        Some(delivered) => sent.extend(delivered),
                        None => break,
                    }
                }
                record_sent(state, &worker.db, sent).await;
                rest.extend(jobs.map(Job::into_row));
                if !rest.is_empty() {
                    if let Err(e) = worker
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

/// Addresses the news told since the last turn (one outbox row per member and channel), so the
/// claim that follows finds them due.
async fn address_news(db: &Db, stopping: &watch::Receiver<bool>) {
    while !*stopping.borrow() {
        match db.write(|conn| outbox::address(conn, NEWS_BATCH)).await {
            Ok(n) if n as i64 == NEWS_BATCH => continue,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the notification worker could not address news");
                return;
            }
        }
    }
}

/// Records the batch's sent emails in one transaction ([`outbox::finish_sent`]) once its
/// deliveries are done, instead of one transaction each: a commit per email was most of what a
/// drain asked of the database. An email sent and not yet recorded when the instance dies goes
/// again with the same `Message-ID`, as one whose single record was lost always did.
async fn record_sent(state: &web::Data<AppState>, db: &Db, sent: Vec<OutboxRow>) {
    if sent.is_empty() {
        return;
    }
    let at = state.clock.now();
    let count = sent.len();
    if let Err(e) = db
        .write(move |conn| outbox::finish_sent(conn, &sent, at))
        .await
    {
        tracing::warn!(error = %e, count, "sent emails could not be recorded; their leases will run out and they go again with the same Message-ID");
    }
}

/// Delivers a batch's in-app rows: each rendered for its recipient in one read, then every inbox
/// row written and marked sent in one transaction. The write holds only inserts and updates, so on
/// SQLite a backlog of in-app notifications does not hold the one writer through the renders (it
/// did: a backlog of 184k nudges served POST prayers 3-9x less while it drained, docs/benchmarks.md
/// "#17 at a million requests on SQLite"). What is rendered is what the recipient may see at the
/// read, a moment before the write, as an email is planned a moment before it is sent.
///
/// If either step fails, each row is delivered again on its own, so that only the row at fault is
/// retried later.
async fn deliver_in_app_together(worker: &Delivering, rows: Vec<OutboxRow>) {
    let state = &worker.state;
    let clock = state.clock;
    if rows.len() > 1 {
        let together = rows.clone();
        let delivered = async {
            let planned = worker
                .db
                .read(move |conn| {
                    let recipients = Recipients::load(conn, &together)?;
                    let at = clock.now();
                    together
                        .into_iter()
                        .map(|row| {
                            let plan = plan_in_app(conn, &row, &recipients, at)?;
                            Ok((row, plan))
                        })
                        .collect::<AppResult<Vec<_>>>()
                })
                .await?;
            worker
                .db
                .write(move |conn| {
                    let at = clock.now();
                    planned
                        .into_iter()
                        .try_for_each(|(row, plan)| record_in_app(conn, &row, at, plan))
                })
                .await
        };
        match delivered.await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "in-app notifications failed together; delivering each alone")
            }
        }
    }
    for row in rows {
        deliver(worker, row).await;
    }
}

/// A claimed row on its way: to be delivered from scratch, or an email already planned with the
/// rest of its batch ([`plan_emails_together`]).
enum Job {
    Row(OutboxRow),
    Planned(OutboxRow, Result<EmailPlan, SendError>),
}

impl Job {
    async fn run(self, worker: &Delivering) -> Option<OutboxRow> {
        match self {
            Job::Row(row) => deliver(worker, row).await,
            Job::Planned(row, planned) => {
                let result = match (planned, &worker.mailer) {
                    (Ok(plan), Some(mailer)) => {
                        carry_out(&worker.state, &worker.db, mailer, &row, plan).await
                    }
                    (Ok(_), None) => Err(SendError::Transient(
                        "email is not configured on this instance".into(),
                    )),
                    (Err(e), _) => Err(e),
                };
                settle(worker, row, result).await
            }
        }
    }

    fn into_row(self) -> OutboxRow {
        match self {
            Job::Row(row) | Job::Planned(row, _) => row,
        }
    }
}

/// Plans the batch's emails about requests, watches and fasts in one read (the recipients read
/// once for all, [`Recipients`]) instead of one read of three statements each: what a drain asks of
/// the database besides sending. Account emails (invitations, resets) and the other channels are
/// left to [`deliver`] one by one; so is every row when the read fails.
async fn plan_emails_together(worker: &Delivering, rows: Vec<OutboxRow>) -> Vec<Job> {
    let (emails, others): (Vec<_>, Vec<_>) = rows.into_iter().partition(|row| {
        row.channel == Channel::Email
            && worker.mailer.is_some()
            && AccountMail::of(row.event).is_none()
    });
    let mut jobs: Vec<Job> = others.into_iter().map(Job::Row).collect();
    if emails.is_empty() {
        return jobs;
    }
    let shared = worker.state.clone();
    let planning = emails.clone();
    let planned = worker
        .db
        .read(move |conn| {
            let recipients = Recipients::load(conn, &planning)?;
            Ok(planning
                .into_iter()
                .map(|row| {
                    let plan = plan_email(conn, &shared, &row, &recipients)
                        .map_err(|e| SendError::Transient(e.to_string()));
                    Job::Planned(row, plan)
                })
                .collect::<Vec<_>>())
        })
        .await;
    match planned {
        Ok(planned) => jobs.extend(planned),
        Err(e) => {
            tracing::warn!(error = %e, "a batch of emails could not be planned together; planning each alone");
            jobs.extend(emails.into_iter().map(Job::Row));
        }
    }
    jobs
}

/// Delivers one claimed row and records the outcome; a failure is retried on the schedule,
/// one the receiver refused for good is not. A sent email is returned instead, for
/// [`record_sent`].
async fn deliver(worker: &Delivering, row: OutboxRow) -> Option<OutboxRow> {
    let state = &worker.state;
    let clock = state.clock;
    let result = match (row.channel, &worker.mailer) {
        (Channel::InApp, _) => {
            let row = row.clone();
            worker
                .db
                .write(move |conn| deliver_in_app(conn, &row, clock.now()))
                .await
                .map(|()| None)
                .map_err(|e| SendError::Transient(e.to_string()))
        }
        (Channel::Email, Some(mailer)) => deliver_email(state, &worker.db, mailer, &row).await,
        (Channel::Email, None) => Err(SendError::Transient(
            "email is not configured on this instance".into(),
        )),
        (Channel::Webhook, _) => match &worker.poster {
            Some(poster) => webhook::deliver(state, &worker.db, poster, &row)
                .await
                .map(|()| None),
            None => Err(SendError::Transient(
                "webhooks cannot be sent from this instance".into(),
            )),
        },
    };
    settle(worker, row, result).await
}

/// Records a delivery's failure (retried on the schedule, or not when the receiver refused for
/// good); a sent email is returned instead, for [`record_sent`].
async fn settle(
    worker: &Delivering,
    row: OutboxRow,
    result: Result<Option<OutboxRow>, SendError>,
) -> Option<OutboxRow> {
    let clock = worker.state.clock;
    let id = row.id.clone();
    let attempts = row.attempts;
    let error = match result {
        Ok(sent) => return sent,
        Err(error) => error,
    };
    let (error, retry) = match error {
        SendError::Transient(e) => (e, true),
        SendError::Permanent(e) => (e, false),
    };
    tracing::warn!(notification = %id, attempts, error = %error, "a notification was not delivered");
    let at = clock.now();
    let outcome = Outcome::Failed {
        error,
        retry_at: retry
            .then(|| retry_after(attempts))
            .flatten()
            .map(|d| at + d),
    };
    let recorded = worker
        .db
        .write(move |conn| outbox::finish(conn, &row, at, &outcome))
        .await;
    if let Err(e) = recorded {
        tracing::warn!(notification = %id, error = %e, "a failed delivery could not be recorded; its lease will run out");
    }
    None
}

/// In-app, one row alone: rendered for the recipient as they are now, put in their inbox and marked
/// sent in one transaction, only while the claim holds.
fn deliver_in_app(conn: &mut DbConnection, row: &OutboxRow, at: NaiveDateTime) -> AppResult<()> {
    let recipients = Recipients::load(conn, std::slice::from_ref(row))?;
    let plan = plan_in_app(conn, row, &recipients, at)?;
    record_in_app(conn, row, at, plan)
}

/// What to do with a claimed in-app notification, decided from the database as it is now.
enum InAppPlan {
    Drop(String),
    Deliver(Rendered),
}

fn plan_in_app(
    conn: &mut DbConnection,
    row: &OutboxRow,
    recipients: &Recipients,
    at: NaiveDateTime,
) -> AppResult<InAppPlan> {
    let member_id = row
        .member_id
        .as_deref()
        .ok_or(AppError::bug("an in-app notification without a member"))?;
    let drop = |why: &str| Ok(InAppPlan::Drop(why.to_string()));
    let Some((member, prefs)) = recipients.get(member_id) else {
        return drop("the recipient's account is gone");
    };
    if !prefs.wants(Channel::InApp, row.event) {
        return drop("the recipient switched this event off");
    }
    match render::render(conn, row, member, at)? {
        Some(rendered) => Ok(InAppPlan::Deliver(rendered)),
        None => drop("the recipient may no longer see what it is about"),
    }
}

/// Carries out an in-app plan: the inbox row is written only if the claim still holds, in the
/// transaction that marks the row sent.
fn record_in_app(
    conn: &mut DbConnection,
    row: &OutboxRow,
    at: NaiveDateTime,
    plan: InAppPlan,
) -> AppResult<()> {
    match plan {
        InAppPlan::Deliver(rendered) => {
            if outbox::finish(conn, row, at, &Outcome::Sent)? {
                inbox::deliver(conn, row, rendered)?;
            }
        }
        InAppPlan::Drop(why) => {
            outbox::finish(conn, row, at, &Outcome::Dropped(why))?;
        }
    }
    Ok(())
}

/// What to do with a claimed email, decided from the database as it is now.
pub(super) enum EmailPlan {
    Drop(String),
    /// The recipient's quiet hours: wait until they end.
    Postpone(NaiveDateTime),
    Send(Box<Letter>),
}

/// Events whose email does not wait for the end of quiet hours (api.md).
fn breaks_quiet_hours(event: Event) -> bool {
    matches!(event, Event::RequestUrgent | Event::WatchReminder)
}

/// Email: decided and composed from a read of the database, sent outside any transaction over
/// the pooled SMTP connections; a sent one is returned, to be recorded with its batch while the
/// claim holds ([`record_sent`]). A message the relay took but whose outcome was not recorded
/// (the instance died) goes again, with the same `Message-ID`.
async fn deliver_email(
    state: &web::Data<AppState>,
    db: &Db,
    mailer: &Mailer,
    row: &OutboxRow,
) -> Result<Option<OutboxRow>, SendError> {
    let transient = |e: AppError| SendError::Transient(e.to_string());
    let planned = {
        let account = AccountMail::of(row.event);
        let row = row.clone();
        let shared = state.clone();
        let plan = move |conn: &mut DbConnection| match account {
            Some(mail) => mail.plan(conn, &shared, &row),
            None => {
                let recipients = Recipients::load(conn, std::slice::from_ref(&row))?;
                plan_email(conn, &shared, &row, &recipients)
            }
        };
        if account.is_some_and(AccountMail::writes) {
            db.write(plan).await
        } else {
            db.read(plan).await
        }
        .map_err(transient)?
    };
    carry_out(state, db, mailer, row, planned).await
}

/// Does what an email's plan says: drops or postpones the row, or sends the letter (a sent row
/// is returned, to be recorded with its batch).
async fn carry_out(
    state: &web::Data<AppState>,
    db: &Db,
    mailer: &Mailer,
    row: &OutboxRow,
    planned: EmailPlan,
) -> Result<Option<OutboxRow>, SendError> {
    let transient = |e: AppError| SendError::Transient(e.to_string());
    let at = state.clock.now();
    let row = row.clone();
    match planned {
        EmailPlan::Drop(why) => {
            db.write(move |conn| outbox::finish(conn, &row, at, &Outcome::Dropped(why)))
                .await
                .map_err(transient)?;
        }
        EmailPlan::Postpone(until) => {
            db.write(move |conn| outbox::postpone(conn, &row, until))
                .await
                .map_err(transient)?;
        }
        EmailPlan::Send(letter) => {
            let message = mailer.compose(*letter).map_err(transient)?;
            mailer.send(message).await?;
            return Ok(Some(row));
        }
    }
    Ok(None)
}

fn plan_email(
    conn: &mut DbConnection,
    state: &AppState,
    row: &OutboxRow,
    recipients: &Recipients,
) -> AppResult<EmailPlan> {
    let clock = state.clock;
    let drop = |why: &str| Ok(EmailPlan::Drop(why.to_string()));
    let member_id = row
        .member_id
        .as_deref()
        .ok_or(AppError::bug("an email notification without a member"))?;
    let Some((member, prefs)) = recipients.get(member_id) else {
        return drop("the recipient's account is gone");
    };
    if !prefs.wants(Channel::Email, row.event) {
        return drop("the recipient switched this event's email off");
    }
    if !breaks_quiet_hours(row.event) {
        let tz = member.timezone.parse().unwrap_or(chrono_tz::UTC);
        if let Some(until) = prefs.quiet_until(tz, clock.now()) {
            return Ok(EmailPlan::Postpone(until));
        }
    }
    let Some(rendered) = render::render(conn, row, member, state.clock.now())? else {
        return drop("the recipient may no longer see what it is about");
    };
    let Some(to) = mailbox(Some(member.display_name.clone()), &member.email) else {
        return drop("the recipient's address is not one SMTP takes");
    };
    Ok(EmailPlan::Send(Box::new(Letter {
        id: row.id.clone(),
        to,
        rendered,
        discreet: prefs.discreet,
        unsubscribe_token: Some(state.unsubscribes.token(member_id, row.event)),
    })))
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
