//! The outbox's statements: enqueue in the caller's transaction, claim under a lease, finish.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};

use super::{Channel, DeliveryState, Event};
use crate::db::schema::{members, notifications, outbox, outbox_news, webhooks};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// What a change announces to one member: the event, the ids it is about (`data`), and a key
/// naming this occurrence of the event (`assignment.created:{assignment_id}`), which makes
/// enqueueing it again a no-op.
#[derive(Debug, Clone)]
pub struct Notice {
    pub event: Event,
    pub member_id: String,
    pub data: serde_json::Value,
    pub key: String,
    /// When it is due; `None`: at once. Time-driven notices (a watch reminder) are written ahead
    /// with the time they go.
    pub due: Option<NaiveDateTime>,
}

/// What one change tells: the event, the key of this occurrence
/// (`assignment.created:{assignment_id}`), the ids it is about, and the members who hear of it
/// (none for a webhook-only event). The church's webhooks subscribed to the event hear of it too.
#[derive(Debug, Clone)]
pub struct News {
    pub event: Event,
    pub key: String,
    pub data: serde_json::Value,
    pub members: Vec<String>,
}

impl News {
    /// News for no member (the webhook-only events).
    pub fn for_webhooks(event: Event, key: String, data: serde_json::Value) -> Self {
        News {
            event,
            key,
            data,
            members: Vec::new(),
        }
    }
}

/// Writes `news` in the caller's transaction: one `outbox_news` row for each news told to
/// members on `channels` (all of them in one statement, whatever the size of their audiences),
/// which a worker later [`address`]es to each member and channel; and a delivery to each webhook
/// subscribed to each event.
///
/// Addressing is left to the worker so that a change costs the same for a team of 200 as for one
/// intercessor: inline, the 400 outbox rows of a team of 200 made an update 9-15 times slower
/// (docs/benchmarks.md, "#18"). Who hears of it is still decided here, from what the change saw.
pub fn tell(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    channels: &[Channel],
    news: &[News],
) -> AppResult<()> {
    let told: Vec<NewsRow> = news
        .iter()
        .filter(|n| !n.members.is_empty() && !channels.is_empty())
        .map(|n| NewsRow {
            id: uuid::Uuid::now_v7().to_string(),
            event: n.event,
            dedupe_key: n.key.clone(),
            request_id: request_of(&n.data),
            data: n.data.to_string(),
            members: serde_json::to_string(&n.members).unwrap_or_default(),
            channels: serde_json::to_string(channels).unwrap_or_default(),
            created_at: at,
        })
        .collect();
    if !told.is_empty() {
        match conn {
            DbConnection::Postgresql(pg) => diesel::insert_into(outbox_news::table)
                .values(&told)
                .execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_into(outbox_news::table)
                .values(&told)
                .execute(lite)?,
        };
    }
    for n in news {
        announce(conn, at, n.event, &n.key, &n.data, None)?;
    }
    Ok(())
}

/// News told to members, not yet addressed to each of them (see [`tell`]).
#[derive(Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = outbox_news)]
struct NewsRow {
    id: String,
    event: Event,
    dedupe_key: String,
    request_id: Option<String>,
    data: String,
    members: String,
    channels: String,
    created_at: NaiveDateTime,
}

/// Addresses up to `limit` news, oldest first, in the caller's transaction: one outbox row per
/// member still in the church and channel, due when the news was told, exactly as [`enqueue`]
/// writes them (so addressing one twice, or a notice enqueued before, makes no second row), then
/// deletes the news. Returns how many it addressed.
///
/// On PostgreSQL the news are taken `FOR UPDATE SKIP LOCKED`, so workers of several instances
/// address each once, and their members are read `FOR KEY SHARE`, so a member erased meanwhile
/// either goes first (and gets no row) or waits for this to commit (and takes the rows with
/// them). A transaction that fails leaves the news as they were, to be addressed on the next turn.
pub fn address(conn: &mut DbConnection, limit: i64) -> AppResult<usize> {
    let oldest = || outbox_news::table.order(outbox_news::id.asc()).limit(limit);
    let news: Vec<NewsRow> = match conn {
        DbConnection::Postgresql(pg) => oldest()
            .select(NewsRow::as_select())
            .for_update()
            .skip_locked()
            .load(pg)?,
        DbConnection::Sqlite(_) => oldest().select(NewsRow::as_select()).load(conn)?,
    };
    if news.is_empty() {
        return Ok(0);
    }
    let parsed: Vec<(&NewsRow, Vec<String>, Vec<Channel>, serde_json::Value)> = news
        .iter()
        .map(|n| {
            let members: Vec<String> = serde_json::from_str(&n.members).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("news {} names no members: {e}", n.id))
            })?;
            let channels: Vec<Channel> = serde_json::from_str(&n.channels).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("news {} names no channels: {e}", n.id))
            })?;
            let data = serde_json::from_str(&n.data).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("news {} has no data: {e}", n.id))
            })?;
            Ok((n, members, channels, data))
        })
        .collect::<AppResult<_>>()?;
    let mut wanted: Vec<&str> = parsed
        .iter()
        .flat_map(|(_, m, _, _)| m.iter().map(String::as_str))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut present = std::collections::HashSet::new();
    for chunk in wanted.chunks(ROWS_PER_INSERT) {
        let still = || {
            members::table
                .filter(members::id.eq_any(chunk))
                .select(members::id)
        };
        let ids: Vec<String> = match conn {
            DbConnection::Postgresql(pg) => still().for_key_share().load(pg)?,
            DbConnection::Sqlite(lite) => still().load(lite)?,
        };
        present.extend(ids);
    }
    let mut rows = Vec::new();
    for (n, members, channels, data) in &parsed {
        let notices: Vec<Notice> = members
            .iter()
            .filter(|m| present.contains(*m))
            .map(|member_id| Notice {
                event: n.event,
                member_id: member_id.clone(),
                data: data.clone(),
                key: n.dedupe_key.clone(),
                due: None,
            })
            .collect();
        rows.extend(rows_for(n.created_at, channels, &notices));
    }
    insert(conn, &rows)?;
    let ids: Vec<&str> = news.iter().map(|n| n.id.as_str()).collect();
    diesel::delete(outbox_news::table.filter(outbox_news::id.eq_any(ids))).execute(conn)?;
    Ok(news.len())
}

/// The request a notice is about (`data.request_id`), kept as a column.
fn request_of(data: &serde_json::Value) -> Option<String> {
    data.get("request_id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
#[diesel(treat_none_as_default_value = false)]
struct NewRow {
    id: String,
    notification_id: String,
    dedupe_key: String,
    event: Event,
    channel: Channel,
    member_id: Option<String>,
    request_id: Option<String>,
    data: String,
    state: DeliveryState,
    attempts: i32,
    run_at: NaiveDateTime,
    lease_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
    webhook_id: Option<String>,
    priority: i32,
}

/// A claimed row, as a worker delivers it.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub notification_id: String,
    pub dedupe_key: String,
    pub event: Event,
    pub channel: Channel,
    pub member_id: Option<String>,
    /// The request it is about (`data.request_id`), kept as a column so that deleting the
    /// request deletes what was said of it.
    pub request_id: Option<String>,
    pub data: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub run_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The webhook a `webhook` row goes to.
    pub webhook_id: Option<String>,
}

/// Writes `notices` to the outbox in the caller's transaction, due at `at`: one row per notice
/// and channel of `channels` (the channels this service delivers: [`AppState::channels`]), in
/// one multi-row statement; notices already enqueued (same key, member and channel) are skipped.
/// The rows of one notice share its `notification_id`. The member who caused the change is left
/// out by the caller.
///
/// [`AppState::channels`]: crate::state::AppState::channels
pub fn enqueue(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    channels: &[Channel],
    notices: &[Notice],
) -> AppResult<()> {
    if notices.is_empty() {
        return Ok(());
    }
    insert(conn, &rows_for(at, channels, notices))
}

/// The outbox rows of `notices` on `channels`, written at `at` (see [`enqueue`]).
fn rows_for(at: NaiveDateTime, channels: &[Channel], notices: &[Notice]) -> Vec<NewRow> {
    notices
        .iter()
        .flat_map(|n| {
            let notification_id = uuid::Uuid::now_v7().to_string();
            channels
                .iter()
                .map(move |c| (n, *c, notification_id.clone()))
        })
        .map(|(n, channel, notification_id)| NewRow {
            id: uuid::Uuid::now_v7().to_string(),
            notification_id,
            dedupe_key: format!("{}:{}:{}", n.key, n.member_id, channel.as_str()),
            event: n.event,
            channel,
            member_id: Some(n.member_id.clone()),
            request_id: request_of(&n.data),
            data: n.data.to_string(),
            state: DeliveryState::Pending,
            attempts: 0,
            run_at: n.due.unwrap_or(at),
            lease_until: None,
            last_error: None,
            created_at: at,
            sent_at: None,
            webhook_id: None,
            priority: n.event.priority(),
        })
        .collect()
}

/// An email about one's account (an invitation, a password reset or change), which goes by
/// email only and whatever the preferences; written only when email is among `channels`.
/// `member_id` is `None` when the recipient is an address, not (yet) a member: `data` names
/// it.
pub fn enqueue_mail(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    channels: &[Channel],
    event: Event,
    key: &str,
    member_id: Option<&str>,
    data: &serde_json::Value,
) -> AppResult<()> {
    if !channels.contains(&Channel::Email) {
        return Ok(());
    }
    let row = NewRow {
        id: uuid::Uuid::now_v7().to_string(),
        notification_id: uuid::Uuid::now_v7().to_string(),
        dedupe_key: format!("{key}:{}", Channel::Email.as_str()),
        event,
        channel: Channel::Email,
        member_id: member_id.map(str::to_string),
        request_id: None,
        data: data.to_string(),
        state: DeliveryState::Pending,
        attempts: 0,
        run_at: at,
        lease_until: None,
        last_error: None,
        created_at: at,
        sent_at: None,
        webhook_id: None,
        priority: event.priority(),
    };
    insert(conn, &[row])
}

/// Rows per insert statement: 16 columns each stay under SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 1_000;

/// Multi-row inserts (one for up to [`ROWS_PER_INSERT`] rows); rows whose `dedupe_key` is
/// already there are skipped.
fn insert(conn: &mut DbConnection, rows: &[NewRow]) -> AppResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        match conn {
            DbConnection::Postgresql(pg) => diesel::insert_into(outbox::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_or_ignore_into(outbox::table)
                .values(chunk)
                .execute(lite)?,
        };
    }
    Ok(())
}

/// What a change tells the church's webhooks: `event`, the ids it is about (`data`), and the
/// key of this occurrence (`request.created:{id}`), written in the caller's transaction as one
/// row per active webhook subscribed to `event` (or only to `only`, a ping). The body is built
/// when it is delivered, under the privacy rules of that moment.
pub fn announce(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    event: Event,
    key: &str,
    data: &serde_json::Value,
    only: Option<&str>,
) -> AppResult<()> {
    let hooks = subscribed(conn, only)?;
    let rows = webhook_rows(&hooks, event, key, data, at, at, only.is_some());
    insert(conn, &rows)
}

/// Writes `notices` (time-driven ones, each with its own due time) to the outbox: their
/// members' rows on `channels`, and for each occurrence (key) of an event webhooks may subscribe
/// to, one delivery per subscribed webhook, due when the notice is. The webhook's `data` is the
/// first notice's of that key, with its `member_id` when the key is one member's. The webhooks
/// are read once for all the notices.
pub fn schedule(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    channels: &[Channel],
    notices: &[Notice],
) -> AppResult<()> {
    enqueue(conn, at, channels, notices)?;
    if !notices
        .iter()
        .any(|n| Event::FOR_WEBHOOKS.contains(&n.event))
    {
        return Ok(());
    }
    let hooks = subscribed(conn, None)?;
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<NewRow> = notices
        .iter()
        .filter(|n| Event::FOR_WEBHOOKS.contains(&n.event) && seen.insert(n.key.as_str()))
        .flat_map(|n| {
            webhook_rows(
                &hooks,
                n.event,
                &n.key,
                &n.data,
                at,
                n.due.unwrap_or(at),
                false,
            )
        })
        .collect();
    insert(conn, &rows)
}

/// The active webhooks (`only` that one), with the events each subscribes to.
fn subscribed(conn: &mut DbConnection, only: Option<&str>) -> AppResult<Vec<(String, String)>> {
    let mut query = webhooks::table
        .filter(webhooks::active.eq(true))
        .select((webhooks::id, webhooks::events))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(webhooks::id.eq(id));
    }
    Ok(query.load(conn)?)
}

/// One delivery of `event` (this occurrence, `key`) to each of `hooks` subscribed to it (to every
/// one of them when `all`, a ping), due at `due`.
fn webhook_rows(
    hooks: &[(String, String)],
    event: Event,
    key: &str,
    data: &serde_json::Value,
    at: NaiveDateTime,
    due: NaiveDateTime,
    all: bool,
) -> Vec<NewRow> {
    let name = serde_json::Value::from(event.as_str());
    hooks
        .iter()
        .filter(|(_, events)| {
            all || serde_json::from_str::<Vec<serde_json::Value>>(events)
                .is_ok_and(|events| events.contains(&name))
        })
        .map(|(webhook_id, _)| NewRow {
            id: uuid::Uuid::now_v7().to_string(),
            notification_id: uuid::Uuid::now_v7().to_string(),
            dedupe_key: format!("{key}:{webhook_id}:{}", Channel::Webhook.as_str()),
            event,
            channel: Channel::Webhook,
            member_id: None,
            request_id: request_of(data),
            data: data.to_string(),
            state: DeliveryState::Pending,
            attempts: 0,
            run_at: due,
            lease_until: None,
            last_error: None,
            created_at: at,
            sent_at: None,
            webhook_id: Some(webhook_id.clone()),
            priority: event.priority(),
        })
        .collect()
}

/// Records the receiver's HTTP status for a webhook delivery's latest attempt.
pub fn note_response(conn: &mut DbConnection, id: &str, status: Option<i32>) -> AppResult<()> {
    diesel::update(outbox::table.find(id))
        .set(outbox::response_status.eq(status))
        .execute(conn)?;
    Ok(())
}

/// Claims up to `limit` due rows of `channels` (those the claiming instance can deliver) for
/// `lease`: pending ones whose `run_at` has come, and rows whose lease ran out (their worker
/// died). Each claimed row's `attempts` goes up by one and its
/// `lease_until` is its claim's mark. On PostgreSQL one statement, `FOR UPDATE SKIP LOCKED`, so
/// workers of several instances never claim the same row; on SQLite the writer serializes claims.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
    channels: &[Channel],
) -> AppResult<Vec<OutboxRow>> {
    let until = now + lease;
    match conn {
        DbConnection::Postgresql(pg) => Ok(diesel::sql_query(
            "UPDATE outbox SET state = $4, lease_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
               WHERE ((state = $5 AND run_at <= $2) OR (state = $4 AND lease_until < $2)) \
                 AND channel = ANY($6) \
               ORDER BY priority, run_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .bind::<Text, _>(DeliveryState::Sending)
        .bind::<Text, _>(DeliveryState::Pending)
        .bind::<Array<Text>, _>(channels)
        .load(pg)?),
        DbConnection::Sqlite(_) => {
            let due = outbox::state
                .eq(DeliveryState::Pending)
                .and(outbox::run_at.le(now))
                .or(outbox::state
                    .eq(DeliveryState::Sending)
                    .and(outbox::lease_until.lt(now)));
            let ids: Vec<String> = outbox::table
                .filter(due)
                .filter(outbox::channel.eq_any(channels))
                .order((outbox::priority.asc(), outbox::run_at.asc()))
                .limit(limit)
                .select(outbox::id)
                .load(conn)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                .set((
                    outbox::state.eq(DeliveryState::Sending),
                    outbox::lease_until.eq(until),
                    outbox::attempts.eq(outbox::attempts + 1),
                ))
                .execute(conn)?;
            Ok(outbox::table
                .filter(outbox::id.eq_any(&ids))
                .order((outbox::priority.asc(), outbox::run_at.asc()))
                .select(OutboxRow::as_select())
                .load(conn)?)
        }
    }
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Not delivered on purpose (the reason is kept in `last_error`).
    Dropped(String),
    /// Try again at `retry_at`, or give up (`None`).
    Failed {
        error: String,
        retry_at: Option<NaiveDateTime>,
    },
}

/// Records `outcome` for `row`, only while the caller's claim still holds (the row is still
/// `sending` with the lease it claimed). False when the lease was lost: another worker has
/// claimed the row since, and owns its outcome.
pub fn finish(
    conn: &mut DbConnection,
    row: &OutboxRow,
    now: NaiveDateTime,
    outcome: &Outcome,
) -> AppResult<bool> {
    let Some(lease) = row.lease_until else {
        return Ok(false);
    };
    let held = outbox::table
        .filter(outbox::id.eq(&row.id))
        .filter(outbox::state.eq(DeliveryState::Sending))
        .filter(outbox::lease_until.eq(lease));
    let changed = match outcome {
        Outcome::Sent => finish_sent(conn, std::slice::from_ref(row), now)?,
        Outcome::Dropped(why) => diesel::update(held)
            .set((
                outbox::state.eq(DeliveryState::Dropped),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(why),
            ))
            .execute(conn)?,
        Outcome::Failed { error, retry_at } => diesel::update(held)
            .set((
                outbox::state.eq(if retry_at.is_some() {
                    DeliveryState::Pending
                } else {
                    DeliveryState::Failed
                }),
                outbox::run_at.eq(retry_at.unwrap_or(row.run_at)),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Records `rows` as sent at `now`, each only while the caller's claim on it still holds (as
/// [`finish`] does): one statement per lease (rows claimed together share theirs), so a batch of
/// emails costs one transaction instead of one each. Returns how many were recorded.
pub fn finish_sent(
    conn: &mut DbConnection,
    rows: &[OutboxRow],
    now: NaiveDateTime,
) -> AppResult<usize> {
    let mut by_lease: Vec<(NaiveDateTime, Vec<&str>)> = Vec::new();
    for row in rows {
        let Some(lease) = row.lease_until else {
            continue;
        };
        match by_lease.iter_mut().find(|(l, _)| *l == lease) {
            Some((_, ids)) => ids.push(&row.id),
            None => by_lease.push((lease, vec![&row.id])),
        }
    }
    let mut recorded = 0;
    for (lease, ids) in by_lease {
        recorded += diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(ids))
                .filter(outbox::state.eq(DeliveryState::Sending))
                .filter(outbox::lease_until.eq(lease)),
        )
        .set((
            outbox::state.eq(DeliveryState::Sent),
            outbox::sent_at.eq(now),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    }
    Ok(recorded)
}

/// Hands claimed rows back undelivered (a worker stopping): due again at once, the attempt not
/// counted.
pub fn release(conn: &mut DbConnection, rows: &[OutboxRow]) -> AppResult<()> {
    for row in rows {
        postpone(conn, row, row.run_at)?;
    }
    Ok(())
}

/// Puts a claimed row off until `until` without counting the attempt (an email waiting for
/// the end of its recipient's quiet hours), only while the claim holds.
pub fn postpone(conn: &mut DbConnection, row: &OutboxRow, until: NaiveDateTime) -> AppResult<bool> {
    let Some(lease) = row.lease_until else {
        return Ok(false);
    };
    let changed = diesel::update(
        outbox::table
            .filter(outbox::id.eq(&row.id))
            .filter(outbox::state.eq(DeliveryState::Sending))
            .filter(outbox::lease_until.eq(lease)),
    )
    .set((
        outbox::state.eq(DeliveryState::Pending),
        outbox::run_at.eq(until),
        outbox::lease_until.eq(None::<NaiveDateTime>),
        outbox::attempts.eq(outbox::attempts - 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// When the oldest notice still owed was due: pending and due, or claimed by a worker whose
/// lease ran out. `None` when nothing is owed.
pub fn oldest_due(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<Option<NaiveDateTime>> {
    let pending: Option<NaiveDateTime> = outbox::table
        .filter(outbox::state.eq(DeliveryState::Pending))
        .filter(outbox::run_at.le(now))
        .select(diesel::dsl::min(outbox::run_at))
        .first(conn)?;
    let stalled: Option<NaiveDateTime> = outbox::table
        .filter(outbox::state.eq(DeliveryState::Sending))
        .filter(outbox::lease_until.lt(now))
        .select(diesel::dsl::min(outbox::run_at))
        .first(conn)?;
    // News not yet addressed are owed from when they were told.
    let unaddressed: Option<NaiveDateTime> = outbox_news::table
        .select(diesel::dsl::min(outbox_news::created_at))
        .first(conn)?;
    Ok([pending, stalled, unaddressed].into_iter().flatten().min())
}

/// Deletes every notice about `request_ids`, owed or delivered, and the in-app notifications
/// they became: a deleted or purged request leaves nothing said of it in anyone's inbox.
pub fn forget_requests(conn: &mut DbConnection, request_ids: &[String]) -> AppResult<()> {
    for chunk in request_ids.chunks(500) {
        diesel::delete(outbox::table.filter(outbox::request_id.eq_any(chunk))).execute(conn)?;
        diesel::delete(outbox_news::table.filter(outbox_news::request_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(notifications::table.filter(notifications::request_id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes deliveries that ended (`sent`, `dropped`, `failed`) and were written before `cutoff`:
/// the delivery log is kept as long as the retention period, not forever. The in-app
/// notifications they made stay in their members' inboxes.
pub fn forget_finished_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> AppResult<usize> {
    Ok(diesel::delete(
        outbox::table
            .filter(
                outbox::state
                    .eq(DeliveryState::Sent)
                    .or(outbox::state.eq(DeliveryState::Dropped))
                    .or(outbox::state.eq(DeliveryState::Failed)),
            )
            .filter(outbox::created_at.lt(cutoff)),
    )
    .execute(conn)?)
}
