//! `GET /me/export`: everything the service holds about the caller, as one JSON document, one
//! typed section per kind of record so the OpenAPI document describes each.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::model::Member;
use crate::assignment_status::AssignmentStatus;
use crate::db::schema::{
    assignments, calendar_tokens, fast_check_ins, fast_commitments, fast_participants,
    notification_preferences, notifications, prayer_requests, prayers, request_comments,
    request_updates, team_members, watch_check_ins, watch_signup_slots, watch_signups,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::fasts::model::{FastType, Kept};
use crate::prayer_requests::model::{PrayerRequest, RequestRow};
use crate::prayer_requests::views::Context;
use crate::prayer_requests::visibility::Viewer;
use crate::teams::model::TeamRole;

/// Everything held about a member.
#[derive(Debug, Serialize, ToSchema)]
pub struct Export {
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub exported_at: DateTime<Utc>,
    pub member: Member,
    /// Requests the member asked for.
    pub prayer_requests: Vec<PrayerRequest>,
    /// Every "I prayed" the member logged, with notes.
    pub prayers: Vec<ExportedPrayer>,
    /// Updates the member posted on requests.
    pub updates: Vec<ExportedText>,
    /// Comments the member wrote.
    pub comments: Vec<ExportedText>,
    /// Every assignment made to the member by name, in any status.
    pub assignments: Vec<ExportedAssignment>,
    pub team_memberships: Vec<ExportedTeamMembership>,
    /// Watch signups, each with the slots it holds.
    pub watch_signups: Vec<ExportedSignup>,
    pub watch_check_ins: Vec<ExportedWatchCheckIn>,
    /// Fast commitments, with the member's private check-in notes.
    pub fasts: Vec<ExportedFast>,
    /// The in-app notifications delivered to the member.
    pub notifications: Vec<ExportedNotification>,
    /// The member's notification preferences as stored; `null` when they never set any (the
    /// defaults apply).
    pub notification_preferences: Option<ExportedPreferences>,
    /// Whether a calendar feed URL exists (the secret itself is stored only as a hash).
    pub has_calendar_feed: bool,
}

/// Notification preferences as stored: the events set on each channel, and the rest.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedPreferences {
    /// Event name to on/off, as set.
    #[schema(value_type = Object)]
    pub email: serde_json::Value,
    /// Event name to on/off, as set.
    #[schema(value_type = Object)]
    pub in_app: serde_json::Value,
    pub reminder_lead_minutes: i32,
    pub fast_reminder_time: String,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub discreet: bool,
}

/// A notification in the member's inbox.
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct ExportedNotification {
    pub id: String,
    /// The event's name (`assignment.created`...).
    pub event: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::time::stored_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<NaiveDateTime>,
}

/// One logged prayer.
#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = prayers)]
pub struct ExportedPrayer {
    pub request_id: String,
    pub note: Option<String>,
    pub anonymous: bool,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

/// An update or a comment the member wrote.
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct ExportedText {
    pub request_id: String,
    pub body: String,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = assignments)]
pub struct ExportedAssignment {
    pub id: String,
    pub request_id: String,
    /// The team it came through, if any.
    pub team_id: Option<String>,
    /// As stored: `assigned`, `accepted`, `declined`, `completed` or `released`.
    pub status: AssignmentStatus,
    /// The reason given with a decline or a release.
    pub reason: Option<String>,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = team_members)]
pub struct ExportedTeamMembership {
    pub team_id: String,
    pub team_role: TeamRole,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedSignup {
    pub id: String,
    pub watch_id: String,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub slot_start: NaiveDateTime,
    pub repeat_weekly: bool,
    pub until: Option<NaiveDate>,
    /// The start of every slot the signup holds.
    #[serde(serialize_with = "crate::time::stored_list")]
    #[schema(value_type = Vec<DateTime<Utc>>)]
    pub slots: Vec<NaiveDateTime>,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = watch_check_ins)]
pub struct ExportedWatchCheckIn {
    pub watch_id: String,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub slot_start: NaiveDateTime,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedFast {
    pub fast_id: String,
    pub fast_type: FastType,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: NaiveDateTime,
    /// The days (1-based) the member committed to.
    pub days: Vec<i32>,
    pub check_ins: Vec<ExportedFastCheckIn>,
}

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = fast_check_ins)]
pub struct ExportedFastCheckIn {
    pub day: i32,
    pub kept: Kept,
    /// Private to the member.
    pub note: Option<String>,
}

pub fn export(
    conn: &mut DbConnection,
    member: Member,
    leader: bool,
    at: DateTime<Utc>,
) -> AppResult<Export> {
    let me = member.id.clone();
    let viewer = Viewer {
        id: me.clone(),
        leader,
    };
    let own: Vec<RequestRow> = prayer_requests::table
        .filter(prayer_requests::requester_id.eq(&me))
        .select(RequestRow::as_select())
        .order(prayer_requests::id.asc())
        .load(conn)?;
    let ctx = Context::load(conn, &viewer, at.date_naive(), [Some(me.clone())])?
        .with_categories(conn, own.iter().map(|r| &r.category_id))?;
    let requests = own.into_iter().map(|r| ctx.request(r)).collect();

    let prayers = prayers::table
        .filter(prayers::member_id.eq(&me))
        .select(ExportedPrayer::as_select())
        .order(prayers::id.asc())
        .load(conn)?;
    let updates = request_updates::table
        .filter(request_updates::author_id.eq(&me))
        .select((
            request_updates::request_id,
            request_updates::body,
            request_updates::created_at,
        ))
        .order(request_updates::id.asc())
        .load::<ExportedText>(conn)?;
    let comments = request_comments::table
        .filter(request_comments::author_id.eq(&me))
        .select((
            request_comments::request_id,
            request_comments::body,
            request_comments::created_at,
        ))
        .order(request_comments::id.asc())
        .load::<ExportedText>(conn)?;
    let assignments = assignments::table
        .filter(assignments::member_id.eq(&me))
        .select(ExportedAssignment::as_select())
        .order(assignments::id.asc())
        .load(conn)?;
    let team_memberships = team_members::table
        .filter(team_members::member_id.eq(&me))
        .select(ExportedTeamMembership::as_select())
        .order(team_members::team_id.asc())
        .load(conn)?;
    let mut watch_signups_out = Vec::new();
    for (id, watch_id, slot_start, repeat_weekly, until) in watch_signups::table
        .filter(watch_signups::member_id.eq(&me))
        .select((
            watch_signups::id,
            watch_signups::watch_id,
            watch_signups::slot_start,
            watch_signups::repeat_weekly,
            watch_signups::until,
        ))
        .order(watch_signups::id.asc())
        .load::<(String, String, NaiveDateTime, bool, Option<NaiveDate>)>(conn)?
    {
        let slots = watch_signup_slots::table
            .filter(watch_signup_slots::signup_id.eq(&id))
            .select(watch_signup_slots::slot_start)
            .order(watch_signup_slots::slot_start.asc())
            .load(conn)?;
        watch_signups_out.push(ExportedSignup {
            id,
            watch_id,
            slot_start,
            repeat_weekly,
            until,
            slots,
        });
    }
    let watch_check_ins = watch_check_ins::table
        .filter(watch_check_ins::member_id.eq(&me))
        .select(ExportedWatchCheckIn::as_select())
        .order((
            watch_check_ins::watch_id.asc(),
            watch_check_ins::slot_start.asc(),
        ))
        .load(conn)?;
    let mut fasts = Vec::new();
    for (fast_id, fast_type, joined_at) in fast_participants::table
        .filter(fast_participants::member_id.eq(&me))
        .select((
            fast_participants::fast_id,
            fast_participants::fast_type,
            fast_participants::joined_at,
        ))
        .order(fast_participants::fast_id.asc())
        .load::<(String, FastType, NaiveDateTime)>(conn)?
    {
        let days = fast_commitments::table
            .filter(fast_commitments::fast_id.eq(&fast_id))
            .filter(fast_commitments::member_id.eq(&me))
            .select(fast_commitments::day)
            .order(fast_commitments::day.asc())
            .load(conn)?;
        let check_ins = fast_check_ins::table
            .filter(fast_check_ins::fast_id.eq(&fast_id))
            .filter(fast_check_ins::member_id.eq(&me))
            .select(ExportedFastCheckIn::as_select())
            .order(fast_check_ins::day.asc())
            .load(conn)?;
        fasts.push(ExportedFast {
            fast_id,
            fast_type,
            joined_at,
            days,
            check_ins,
        });
    }
    let notifications = notifications::table
        .filter(notifications::member_id.eq(&me))
        .select(ExportedNotification::as_select())
        .order(notifications::id.asc())
        .load(conn)?;
    let notification_preferences = notification_preferences::table
        .find(&me)
        .select((
            notification_preferences::email,
            notification_preferences::in_app,
            notification_preferences::reminder_lead_minutes,
            notification_preferences::fast_reminder_time,
            notification_preferences::quiet_start,
            notification_preferences::quiet_end,
            notification_preferences::discreet,
        ))
        .first::<(
            String,
            String,
            i32,
            String,
            Option<String>,
            Option<String>,
            bool,
        )>(conn)
        .optional()?
        .map(
            |(email, in_app, lead, fast, quiet_start, quiet_end, discreet)| ExportedPreferences {
                email: serde_json::from_str(&email).unwrap_or_default(),
                in_app: serde_json::from_str(&in_app).unwrap_or_default(),
                reminder_lead_minutes: lead,
                fast_reminder_time: fast,
                quiet_start,
                quiet_end,
                discreet,
            },
        );
    let has_calendar_feed = calendar_tokens::table
        .find(&me)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    Ok(Export {
        exported_at: at,
        member,
        prayer_requests: requests,
        prayers,
        updates,
        comments,
        assignments,
        team_memberships,
        watch_signups: watch_signups_out,
        watch_check_ins,
        fasts,
        notifications,
        notification_preferences,
        has_calendar_feed,
    })
}
