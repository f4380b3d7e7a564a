//! What a notification says, decided when it is delivered, for the recipient as they are then.
//!
//! The rules (api.md, "Notifications"): a recipient who may not see the request gets nothing;
//! a request's title appears only where its visibility is `congregation` or `team` (the recipient
//! may read it, or they would get nothing); a `leaders` request is always "a confidential
//! request"; never a request's body, an update's text, or an anonymous requester's name.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::Value;

use crate::accounts::model::MemberRow;
use crate::assignments::nudges;
use crate::auth::member::find_profile;
use crate::auth::AuthUser;
use crate::db::schema::{members, teams};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::outbox::{Event, OutboxRow};
use crate::prayer_requests::model::Visibility;
use crate::prayer_requests::store as requests;
use crate::prayer_requests::visibility::Viewer;
use crate::teams::access::require_sees_owned;
use crate::watches::reminders::Due;
use crate::{fasts, watches};

/// A notification as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub title: String,
    pub body: String,
    /// A path of the API the app can open.
    pub link: Option<String>,
}

/// What `row` says to `recipient`, or `None` when they may not be told (deactivated, or no
/// longer allowed to see the request).
pub fn render(
    conn: &mut DbConnection,
    row: &OutboxRow,
    recipient: &MemberRow,
    now: NaiveDateTime,
) -> AppResult<Option<Rendered>> {
    if !recipient.active {
        return Ok(None);
    }
    let data: Value = serde_json::from_str(&row.data).map_err(AppError::internal)?;
    match row.event {
        Event::WatchReminder => return watch_reminder(conn, &data, recipient, now),
        Event::FastCheckInReminder => return fast_reminder(conn, &data, recipient, now),
        Event::RequestPrayedDigest => return Ok(Some(prayed_digest(&data))),
        Event::WatchGapsDigest => return gaps_digest(conn, &data, recipient),
        Event::WatchSlotOpen | Event::ReplacementFilled | Event::ReplacementUnfilled => {
            return replacement_notice(conn, row.event, &data, recipient, now)
        }
        _ => {}
    }
    let id = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
    let Some(request_id) = id("request_id") else {
        return Err(AppError::bug("a request notification without request_id"));
    };
    let viewer = Viewer {
        id: recipient.id.clone(),
        leader: recipient.role.is_leader(),
    };
    let Some(request) = found(requests::find_visible(conn, &viewer, &request_id))? else {
        return Ok(None);
    };
    let what = match request.visibility {
        Visibility::Leaders => "a confidential request".to_string(),
        Visibility::Congregation | Visibility::Team => format!("\u{201c}{}\u{201d}", request.title),
    };
    let link = Some(format!("/api/v1/prayer-requests/{}", request.id));
    let (title, body) = match row.event {
        Event::AssignmentCreated => match id("team_id") {
            Some(team_id) if id("member_id").is_none() => {
                let team: Option<String> = teams::table
                    .find(&team_id)
                    .select(teams::name)
                    .first(conn)
                    .optional()?;
                let team = team.unwrap_or_else(|| "your team".into());
                (
                    "New assignment".to_string(),
                    format!("{team} was asked to pray for {what}."),
                )
            }
            _ => (
                "New assignment".to_string(),
                format!("You were asked to pray for {what}."),
            ),
        },
        Event::AssignmentDeclined => {
            let by = match id("actor_id") {
                Some(actor) => members::table
                    .find(&actor)
                    .select(members::display_name)
                    .first::<String>(conn)
                    .optional()?,
                None => None,
            };
            let by = by.unwrap_or_else(|| "An intercessor".into());
            (
                "Assignment declined".to_string(),
                format!("{by} declined the assignment of {what}."),
            )
        }
        Event::RequestUrgent => (
            "Urgent prayer request".to_string(),
            format!("Please pray now for {what}."),
        ),
        Event::RequestUnprayed => {
            let assignment = id("assignment_id").unwrap_or_default();
            let number = |k: &str| data.get(k).and_then(Value::as_i64).unwrap_or(0);
            let period = chrono::Duration::hours(number("period_hours"));
            if !nudges::stands(conn, &assignment, number("anchor"), now, period)? {
                return Ok(None);
            }
            let hours = number("hours");
            let body = match (data.get("stage").and_then(Value::as_str), id("member_id")) {
                (Some("assignee"), _) => format!(
                    "No prayer has been logged for {what} in {hours} hours since it was given to you. Will you pray for it today?"
                ),
                (_, Some(member)) => {
                    let name: Option<String> = members::table
                        .find(&member)
                        .select(members::display_name)
                        .first(conn)
                        .optional()?;
                    let name = name.unwrap_or_else(|| "The intercessor".into());
                    format!("{name} has not logged a prayer for {what} in {hours} hours.")
                }
                _ => {
                    let team: Option<String> = match id("team_id") {
                        Some(t) => teams::table
                            .find(&t)
                            .select(teams::name)
                            .first(conn)
                            .optional()?,
                        None => None,
                    };
                    let team = team.unwrap_or_else(|| "the team".into());
                    format!("No one in {team} has logged a prayer for {what} in {hours} hours.")
                }
            };
            ("Unprayed for".to_string(), body)
        }
        Event::RequestUpdate => (
            "New update".to_string(),
            format!("There is an update on {what}."),
        ),
        Event::RequestCreated
        | Event::PrayerLogged
        | Event::SignupCreated
        | Event::SignupCancelled
        | Event::FastCheckIn
        | Event::WebhookPing => {
            return Err(AppError::bug("a webhook-only event addressed to a member"))
        }
        Event::Invitation | Event::PasswordReset | Event::PasswordChanged => {
            return Err(AppError::bug("an account email rendered as a request's"))
        }
        Event::WatchReminder
        | Event::FastCheckInReminder
        | Event::RequestPrayedDigest
        | Event::WatchGapsDigest
        | Event::WatchSlotOpen
        | Event::ReplacementFilled
        | Event::ReplacementUnfilled => {
            return Err(AppError::bug("a reminder rendered as a request's"))
        }
        Event::RequestAnswered => (
            "Prayer answered".to_string(),
            format!(
                "{} was answered. Thank you for praying.",
                capitalized(&what)
            ),
        ),
    };
    Ok(Some(Rendered { title, body, link }))
}

/// A watch reminder, when it still stands (see [`Due::stands`]) and the recipient may still see
/// the watch: the watch's name and the slot's start in the recipient's own zone.
fn watch_reminder(
    conn: &mut DbConnection,
    data: &Value,
    recipient: &MemberRow,
    now: NaiveDateTime,
) -> AppResult<Option<Rendered>> {
    let due = Due::from_data(data).ok_or(AppError::bug("a watch reminder without its slot"))?;
    let Some(watch) = found(watches::store::find(conn, &due.watch_id))? else {
        return Ok(None);
    };
    let Some(user) = as_caller(conn, recipient)? else {
        return Ok(None);
    };
    if found(watches::access::require_visible(conn, &user, &watch))?.is_none() {
        return Ok(None);
    }
    if !due.stands(conn, &recipient.id, now)? {
        return Ok(None);
    }
    let zone: Tz = recipient.timezone.parse().unwrap_or(chrono_tz::UTC);
    let start = due.slot_start.and_utc().with_timezone(&zone);
    Ok(Some(Rendered {
        title: "Your prayer watch slot begins soon".into(),
        body: format!(
            "Your slot in {} begins at {} on {} ({}).",
            watch.name,
            start.format("%H:%M"),
            start.format("%A %-d %B"),
            zone.name(),
        ),
        link: Some(format!("/api/v1/watches/{}", watch.id)),
    }))
}

/// The requester's daily digest: counts only.
fn prayed_digest(data: &Value) -> Rendered {
    let number = |k: &str| data.get(k).and_then(Value::as_i64).unwrap_or(0);
    let times = match number("times") {
        1 => "once".to_string(),
        n => format!("{n} times"),
    };
    let by = match number("intercessors") {
        0 => String::new(),
        1 => " by 1 intercessor".to_string(),
        n => format!(" by {n} intercessors"),
    };
    Rendered {
        title: "You were prayed for".into(),
        body: format!("Since yesterday morning your requests were prayed for {times}{by}."),
        link: Some("/api/v1/prayer-requests?mine=true".into()),
    }
}

/// A watch's gaps in the next 72 hours, for a recipient who may still see the watch; the first
/// gap's start in the recipient's own zone.
fn gaps_digest(
    conn: &mut DbConnection,
    data: &Value,
    recipient: &MemberRow,
) -> AppResult<Option<Rendered>> {
    let watch_id = data
        .get("watch_id")
        .and_then(Value::as_str)
        .ok_or(AppError::bug("a gaps digest without its watch"))?;
    let Some(watch) = found(watches::store::find(conn, watch_id))? else {
        return Ok(None);
    };
    let Some(user) = as_caller(conn, recipient)? else {
        return Ok(None);
    };
    if !watches::access::manages(conn, &user, &watch)? {
        return Ok(None);
    }
    let zone: Tz = recipient.timezone.parse().unwrap_or(chrono_tz::UTC);
    let open = data.get("open_slots").and_then(Value::as_i64).unwrap_or(0);
    let first = data
        .get("gaps")
        .and_then(|g| g.get(0))
        .and_then(|g| g.get("start"))
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&zone));
    let slots = if open == 1 { "slot" } else { "slots" };
    let body = match first {
        Some(t) => format!(
            "{}: {open} {slots} in the next 72 hours still need someone; the first gap begins at {} on {} ({}).",
            watch.name,
            t.format("%H:%M"),
            t.format("%A %-d %B"),
            zone.name()
        ),
        None => format!("{}: {open} {slots} in the next 72 hours still need someone.", watch.name),
    };
    Ok(Some(Rendered {
        title: "Gaps in the prayer watch".into(),
        body,
        link: Some(format!("/api/v1/watches/{}/coverage", watch.id)),
    }))
}

/// A replacement's news: a slot open for the recipient to take (while the offer stands), taken,
/// or still open 12 hours before. The slot's start in the recipient's own zone; never the
/// asker's note.
fn replacement_notice(
    conn: &mut DbConnection,
    event: Event,
    data: &Value,
    recipient: &MemberRow,
    now: NaiveDateTime,
) -> AppResult<Option<Rendered>> {
    let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(watch_id), Some(replacement_id), Some(start)) =
        (text("watch_id"), text("replacement_id"), text("slot_start"))
    else {
        return Err(AppError::bug("a replacement notice without its slot"));
    };
    let Some(watch) = found(watches::store::find(conn, &watch_id))? else {
        return Ok(None);
    };
    let Some(user) = as_caller(conn, recipient)? else {
        return Ok(None);
    };
    if found(watches::access::require_visible(conn, &user, &watch))?.is_none() {
        return Ok(None);
    }
    let zone: Tz = recipient.timezone.parse().unwrap_or(chrono_tz::UTC);
    let Ok(start) = chrono::DateTime::parse_from_rfc3339(&start) else {
        return Err(AppError::bug("a replacement notice with a bad slot"));
    };
    let local = start.with_timezone(&zone);
    let when = format!(
        "{} on {} ({})",
        local.format("%H:%M"),
        local.format("%A %-d %B"),
        zone.name()
    );
    let link = Some(format!(
        "/api/v1/watches/{}/replacements?status=open",
        watch.id
    ));
    let (title, body) = match event {
        Event::WatchSlotOpen => {
            if !watches::replacements::offer_stands(conn, &replacement_id, &recipient.id, now)? {
                return Ok(None);
            }
            (
                "A prayer watch slot needs someone".to_string(),
                format!(
                    "{}: the slot at {when} needs someone. Can you take it?",
                    watch.name
                ),
            )
        }
        Event::ReplacementFilled => {
            let by: Option<String> = match text("member_id") {
                Some(m) => members::table
                    .find(&m)
                    .select(members::display_name)
                    .first(conn)
                    .optional()?,
                None => None,
            };
            let by = by.unwrap_or_else(|| "Someone".into());
            (
                "A replacement was found".to_string(),
                format!("{by} will keep the slot at {when} in {}.", watch.name),
            )
        }
        _ => {
            if !watches::replacements::is_open(conn, &replacement_id, now)? {
                return Ok(None);
            }
            (
                "A slot still needs someone".to_string(),
                format!("{}: nobody has taken the slot at {when} yet.", watch.name),
            )
        }
    };
    Ok(Some(Rendered { title, body, link }))
}

/// Whether a time-driven notice still applies at `now`, whoever it is for (a webhook has no
/// recipient to judge by): the reminder's slot still held and its lead unchanged, the fast day
/// not checked in, the nudge's assignment live and unprayed-for since, the replacement open.
/// Every other event applies.
pub fn still_applies(
    conn: &mut DbConnection,
    event: Event,
    data: &Value,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let text = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    let number = |k: &str| data.get(k).and_then(Value::as_i64);
    match event {
        Event::WatchReminder => match (Due::from_data(data), text("member_id")) {
            (Some(due), Some(member)) => due.stands(conn, &member, now),
            _ => Ok(false),
        },
        Event::FastCheckInReminder => {
            let (Some(fast_id), Some(member), Some(day), Some(time)) = (
                text("fast_id"),
                text("member_id"),
                number("day").and_then(|d| i32::try_from(d).ok()),
                text("reminder_time"),
            ) else {
                return Ok(false);
            };
            let Some(fast) = found(fasts::store::find(conn, &fast_id))? else {
                return Ok(false);
            };
            let Some(profile) = find_profile(conn, &member)? else {
                return Ok(false);
            };
            let zone: Tz = profile.timezone.parse().unwrap_or(chrono_tz::UTC);
            fasts::reminders::stands(conn, &fast, &member, zone, day, &time, now)
        }
        Event::RequestUnprayed => {
            let period = chrono::Duration::hours(number("period_hours").unwrap_or(0));
            nudges::stands(
                conn,
                &text("assignment_id").unwrap_or_default(),
                number("anchor").unwrap_or(0),
                now,
                period,
            )
        }
        Event::WatchSlotOpen | Event::ReplacementUnfilled => {
            watches::replacements::is_open(conn, &text("replacement_id").unwrap_or_default(), now)
        }
        _ => Ok(true),
    }
}

/// `Ok(None)` for what is not found (or not visible): the caller then says nothing.
fn found<T>(result: AppResult<T>) -> AppResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The recipient as a signed-in caller, for the features' visibility rules.
fn as_caller(conn: &mut DbConnection, recipient: &MemberRow) -> AppResult<Option<AuthUser>> {
    Ok(find_profile(conn, &recipient.id)?.map(|member| AuthUser {
        id: member.id.clone(),
        role: member.role,
        member,
    }))
}

/// A fast check-in reminder, when it still stands (see [`fasts::reminders::stands`]) and the
/// recipient may still see the fast: the fast's name and the day; never anyone's note.
fn fast_reminder(
    conn: &mut DbConnection,
    data: &Value,
    recipient: &MemberRow,
    now: NaiveDateTime,
) -> AppResult<Option<Rendered>> {
    let fast_id = data.get("fast_id").and_then(Value::as_str);
    let day = data
        .get("day")
        .and_then(Value::as_i64)
        .and_then(|d| i32::try_from(d).ok());
    let time = data.get("reminder_time").and_then(Value::as_str);
    let (Some(fast_id), Some(day), Some(time)) = (fast_id, day, time) else {
        return Err(AppError::bug("a fast reminder without its day"));
    };
    let Some(fast) = found(fasts::store::find(conn, fast_id))? else {
        return Ok(None);
    };
    let Some(user) = as_caller(conn, recipient)? else {
        return Ok(None);
    };
    if found(require_sees_owned(conn, &user, fast.team_id.as_deref()))?.is_none() {
        return Ok(None);
    }
    let zone: Tz = recipient.timezone.parse().unwrap_or(chrono_tz::UTC);
    if !fasts::reminders::stands(conn, &fast, &recipient.id, zone, day, time, now)? {
        return Ok(None);
    }
    Ok(Some(Rendered {
        title: "How did your fast go today?".into(),
        body: format!(
            "Day {day} of {} is not checked in yet. Check in when you can.",
            fast.name
        ),
        link: Some(format!("/api/v1/fasts/{}/check-ins/me", fast.id)),
    }))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
