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
use crate::auth::member::find_profile;
use crate::auth::AuthUser;
use crate::db::schema::{members, teams};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::outbox::{Event, OutboxRow};
use crate::prayer_requests::model::Visibility;
use crate::prayer_requests::store as requests;
use crate::prayer_requests::visibility::Viewer;
use crate::watches;
use crate::watches::reminders::Due;

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
    if row.event == Event::WatchReminder {
        return watch_reminder(conn, &data, recipient, now);
    }
    let id = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
    let Some(request_id) = id("request_id") else {
        return Err(AppError::bug("a request notification without request_id"));
    };
    let viewer = Viewer {
        id: recipient.id.clone(),
        leader: recipient.role.is_leader(),
    };
    let request = match requests::find_visible(conn, &viewer, &request_id) {
        Ok(request) => request,
        Err(AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
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
        Event::WatchReminder => return Err(AppError::bug("a watch reminder as a request's")),
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
    let watch = match watches::store::find(conn, &due.watch_id) {
        Ok(watch) => watch,
        Err(AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(member) = find_profile(conn, &recipient.id)? else {
        return Ok(None);
    };
    let user = AuthUser {
        id: member.id.clone(),
        role: member.role,
        member,
    };
    match watches::access::require_visible(conn, &user, &watch) {
        Ok(()) => {}
        Err(AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
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

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
