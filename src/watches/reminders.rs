//! Watch reminders (`watch.reminder`): `reminder_lead_minutes` before each held slot, computed
//! from the slot's true UTC start (stored with each held occurrence), so they are right on both
//! sides of a daylight-saving change and for members in any zone.
//!
//! Never a year of rows: reminders are enqueued over a rolling [`WINDOW`], by the signup itself
//! (in its transaction) for what falls inside it now, and by a periodic task for what enters it
//! later. Each is written with its `run_at` and re-checked when due (`notify::render`): the slot
//! still held, the occurrence not released, the preference unchanged.

use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde_json::json;

use super::blockouts::not_blocked_out;
use crate::db::schema::{notification_preferences as prefs, watch_signup_slots, watch_signups};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{self, Channel, Event, Notice};

/// How far ahead reminders are enqueued: more than the longest lead (24 h), so every reminder is
/// written at least a day before it is due, whatever the periodic task's pace.
pub const WINDOW: Duration = Duration::hours(48);

/// A reminder found due later than this (the service was down) is dropped, not sent when the
/// slot has begun or is about to.
pub const LATE: Duration = Duration::minutes(15);

/// The lead when a member has not chosen one (api.md: 60).
pub const DEFAULT_LEAD_MINUTES: i32 = 60;

/// The outbox key of one reminder: its occurrence and the lead it was computed with, so a member
/// who changes their lead gets the reminder at the new time (the old one is dropped when due).
pub fn key(signup_id: &str, slot_start: NaiveDateTime, lead_minutes: i32) -> String {
    format!(
        "watch.reminder:{signup_id}:{}:{lead_minutes}",
        slot_start.and_utc().timestamp()
    )
}

/// Enqueues the reminders of the held slots that start within [`WINDOW`] of `now` (only those of
/// `signup_id`, when given), due `lead` before each start. A reminder whose time was before its
/// signup was made (a slot taken at the last minute) is not written, nor one more than [`LATE`]
/// overdue. Already-enqueued reminders are skipped by their key. Returns how many were due to be
/// written (before the skip).
pub fn enqueue(
    conn: &mut DbConnection,
    channels: &[Channel],
    now: NaiveDateTime,
    signup_id: Option<&str>,
) -> AppResult<usize> {
    let mut query = watch_signup_slots::table
        .inner_join(watch_signups::table.on(watch_signups::id.eq(watch_signup_slots::signup_id)))
        .left_join(prefs::table.on(prefs::member_id.eq(watch_signup_slots::member_id)))
        .filter(watch_signup_slots::slot_start.gt(now))
        .filter(watch_signup_slots::slot_start.le(now + WINDOW))
        .filter(not_blocked_out())
        .select((
            watch_signup_slots::signup_id,
            watch_signup_slots::watch_id,
            watch_signup_slots::member_id,
            watch_signup_slots::slot_start,
            watch_signups::created_at,
            prefs::reminder_lead_minutes.nullable(),
        ))
        .into_boxed();
    if let Some(id) = signup_id {
        query = query.filter(watch_signup_slots::signup_id.eq(id));
    }
    type Held = (
        String,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<i32>,
    );
    let held: Vec<Held> = query.load(conn)?;
    let notices: Vec<Notice> = held
        .into_iter()
        .filter_map(|(signup, watch, member, start, created, lead)| {
            let lead = lead.unwrap_or(DEFAULT_LEAD_MINUTES);
            let due = start - Duration::minutes(i64::from(lead));
            (created <= due && due >= now - LATE).then(|| Notice {
                event: Event::WatchReminder,
                key: key(&signup, start, lead),
                data: json!({
                    "watch_id": watch,
                    "member_id": member,
                    "signup_id": signup,
                    "slot_start": instant(start),
                    "lead_minutes": lead,
                }),
                member_id: member,
                due: Some(due),
            })
        })
        .collect();
    outbox::schedule(conn, now, channels, &notices)?;
    Ok(notices.len())
}

fn instant(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What a reminder's `data` says, read back when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub watch_id: String,
    pub signup_id: String,
    pub slot_start: NaiveDateTime,
    pub lead_minutes: i32,
}

impl Due {
    pub fn from_data(data: &serde_json::Value) -> Option<Self> {
        let text = |k: &str| data.get(k).and_then(serde_json::Value::as_str);
        Some(Due {
            watch_id: text("watch_id")?.to_string(),
            signup_id: text("signup_id")?.to_string(),
            slot_start: DateTime::parse_from_rfc3339(text("slot_start")?)
                .ok()?
                .naive_utc(),
            lead_minutes: i32::try_from(data.get("lead_minutes")?.as_i64()?).ok()?,
        })
    }

    /// Whether the reminder still stands at `now`: the member still holds the occurrence
    /// through this signup, their lead is still the one it was computed with, and it is not
    /// more than [`LATE`] overdue.
    pub fn stands(
        &self,
        conn: &mut DbConnection,
        member_id: &str,
        now: NaiveDateTime,
    ) -> AppResult<bool> {
        let due = self.slot_start - Duration::minutes(i64::from(self.lead_minutes));
        if now > due + LATE || now >= self.slot_start {
            return Ok(false);
        }
        let held: i64 = watch_signup_slots::table
            .filter(watch_signup_slots::signup_id.eq(&self.signup_id))
            .filter(watch_signup_slots::slot_start.eq(self.slot_start))
            .filter(watch_signup_slots::member_id.eq(member_id))
            .filter(not_blocked_out())
            .count()
            .get_result(conn)?;
        if held == 0 {
            return Ok(false);
        }
        let lead: Option<i32> = prefs::table
            .find(member_id)
            .select(prefs::reminder_lead_minutes)
            .first(conn)
            .optional()?;
        Ok(lead.unwrap_or(DEFAULT_LEAD_MINUTES) == self.lead_minutes)
    }
}
