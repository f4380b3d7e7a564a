//! `GET /me/export`: everything the service holds about the caller, as one JSON document.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::accounts::model::Member;
use crate::db::schema::{
    assignments, calendar_tokens, fast_check_ins, fast_commitments, fast_participants,
    prayer_requests, prayers, request_comments, request_updates, team_members, watch_check_ins,
    watch_signup_slots, watch_signups,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::prayer_requests::model::{PrayerRequest, RequestRow};
use crate::prayer_requests::views::Context;
use crate::prayer_requests::visibility::Viewer;
use crate::time::to_utc;

/// Everything held about a member.
#[derive(Debug, Serialize, ToSchema)]
pub struct Export {
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub exported_at: DateTime<Utc>,
    pub member: Member,
    /// Requests the member asked for.
    pub prayer_requests: Vec<PrayerRequest>,
    /// Every "I prayed" the member logged, with notes.
    #[schema(value_type = Vec<Object>)]
    pub prayers: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub updates: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub comments: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub assignments: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub team_memberships: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub watch_signups: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub watch_check_ins: Vec<Value>,
    /// Fast commitments, with the member's private check-in notes.
    #[schema(value_type = Vec<Object>)]
    pub fasts: Vec<Value>,
    /// Whether a calendar feed URL exists (the secret itself is stored only as a hash).
    pub has_calendar_feed: bool,
}

fn ts(t: NaiveDateTime) -> String {
    to_utc(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn export(conn: &mut DbConnection, member: Member, leader: bool) -> AppResult<Export> {
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
    let ctx = Context::load(conn, &viewer, Utc::now().date_naive(), [Some(me.clone())])?
        .with_categories(conn, own.iter().map(|r| &r.category_id))?;
    let requests = own.into_iter().map(|r| ctx.request(r)).collect();

    let prayers = prayers::table
        .filter(prayers::member_id.eq(&me))
        .select((
            prayers::request_id,
            prayers::note,
            prayers::anonymous,
            prayers::created_at,
        ))
        .order(prayers::id.asc())
        .load::<(String, Option<String>, bool, NaiveDateTime)>(conn)?
        .into_iter()
        .map(
            |(r, n, a, t)| json!({"request_id": r, "note": n, "anonymous": a, "created_at": ts(t)}),
        )
        .collect();
    let updates = request_updates::table
        .filter(request_updates::author_id.eq(&me))
        .select((
            request_updates::request_id,
            request_updates::body,
            request_updates::created_at,
        ))
        .order(request_updates::id.asc())
        .load::<(String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(r, b, t)| json!({"request_id": r, "body": b, "created_at": ts(t)}))
        .collect();
    let comments = request_comments::table
        .filter(request_comments::author_id.eq(&me))
        .select((
            request_comments::request_id,
            request_comments::body,
            request_comments::created_at,
        ))
        .order(request_comments::id.asc())
        .load::<(String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(r, b, t)| json!({"request_id": r, "body": b, "created_at": ts(t)}))
        .collect();
    let assignments = assignments::table
        .filter(assignments::member_id.eq(&me))
        .select((assignments::id, assignments::request_id, assignments::team_id, assignments::status, assignments::reason, assignments::created_at))
        .order(assignments::id.asc())
        .load::<(String, String, Option<String>, String, Option<String>, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, r, team, s, reason, t)| {
            json!({"id": id, "request_id": r, "team_id": team, "status": s, "reason": reason, "created_at": ts(t)})
        })
        .collect();
    let team_memberships = team_members::table
        .filter(team_members::member_id.eq(&me))
        .select((
            team_members::team_id,
            team_members::team_role,
            team_members::joined_at,
        ))
        .load::<(String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(team, role, t)| json!({"team_id": team, "team_role": role, "joined_at": ts(t)}))
        .collect();
    let mut watch_signups_out = Vec::new();
    for (id, watch, start, weekly, until) in watch_signups::table
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
        let slots: Vec<String> = watch_signup_slots::table
            .filter(watch_signup_slots::signup_id.eq(&id))
            .select(watch_signup_slots::slot_start)
            .order(watch_signup_slots::slot_start.asc())
            .load::<NaiveDateTime>(conn)?
            .into_iter()
            .map(ts)
            .collect();
        watch_signups_out.push(json!({"id": id, "watch_id": watch, "slot_start": ts(start),
            "repeat_weekly": weekly, "until": until, "slots": slots}));
    }
    let watch_check_ins_out = watch_check_ins::table
        .filter(watch_check_ins::member_id.eq(&me))
        .select((
            watch_check_ins::watch_id,
            watch_check_ins::slot_start,
            watch_check_ins::note,
        ))
        .load::<(String, NaiveDateTime, Option<String>)>(conn)?
        .into_iter()
        .map(|(w, s, n)| json!({"watch_id": w, "slot_start": ts(s), "note": n}))
        .collect();
    let mut fasts_out = Vec::new();
    for (fast, fast_type, joined) in fast_participants::table
        .filter(fast_participants::member_id.eq(&me))
        .select((
            fast_participants::fast_id,
            fast_participants::fast_type,
            fast_participants::joined_at,
        ))
        .load::<(String, String, NaiveDateTime)>(conn)?
    {
        let days: Vec<i32> = fast_commitments::table
            .filter(fast_commitments::fast_id.eq(&fast))
            .filter(fast_commitments::member_id.eq(&me))
            .select(fast_commitments::day)
            .order(fast_commitments::day.asc())
            .load(conn)?;
        let check_ins: Vec<Value> = fast_check_ins::table
            .filter(fast_check_ins::fast_id.eq(&fast))
            .filter(fast_check_ins::member_id.eq(&me))
            .select((
                fast_check_ins::day,
                fast_check_ins::kept,
                fast_check_ins::note,
            ))
            .order(fast_check_ins::day.asc())
            .load::<(i32, String, Option<String>)>(conn)?
            .into_iter()
            .map(|(d, k, n)| json!({"day": d, "kept": k, "note": n}))
            .collect();
        fasts_out.push(
            json!({"fast_id": fast, "fast_type": fast_type, "joined_at": ts(joined),
            "days": days, "check_ins": check_ins}),
        );
    }
    let has_calendar_feed = calendar_tokens::table
        .find(&me)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    Ok(Export {
        exported_at: Utc::now(),
        member,
        prayer_requests: requests,
        prayers,
        updates,
        comments,
        assignments,
        team_memberships,
        watch_signups: watch_signups_out,
        watch_check_ins: watch_check_ins_out,
        fasts: fasts_out,
        has_calendar_feed,
    })
}
