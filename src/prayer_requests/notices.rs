//! Who hears of a request's news (api.md, "Notifications"), as outbox notices written in the
//! change's own transaction: everyone who prayed for it and its current assignees (named, and the
//! members of teams it is assigned to), except the author. Whether each may still see the request
//! is decided again when the notice is delivered.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::model::{RequestRow, Status, Visibility};
use crate::assignment_status::live_status;
use crate::auth::Role;
use crate::db::schema::{
    assignments, members, request_intercessors, team_members, watch_signup_slots, watches,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{self, Channel, Event, News};
use crate::teams::model::TeamRole;

/// Everyone who prayed for `request_id` or carries it now.
fn followers(conn: &mut DbConnection, request_id: &str) -> AppResult<Vec<String>> {
    let mut ids: Vec<String> = request_intercessors::table
        .filter(request_intercessors::request_id.eq(request_id))
        .select(request_intercessors::member_id)
        .load(conn)?;
    let live = assignments::table
        .filter(assignments::request_id.eq(request_id))
        .filter(live_status());
    ids.extend(
        live.filter(assignments::member_id.is_not_null())
            .select(assignments::member_id.assume_not_null())
            .load::<String>(conn)?,
    );
    let teams: Vec<String> = live
        .filter(assignments::member_id.is_null())
        .filter(assignments::team_id.is_not_null())
        .select(assignments::team_id.assume_not_null())
        .load(conn)?;
    if !teams.is_empty() {
        ids.extend(
            team_members::table
                .filter(team_members::team_id.eq_any(&teams))
                .select(team_members::member_id)
                .load::<String>(conn)?,
        );
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn to_followers(
    conn: &mut DbConnection,
    event: Event,
    request_id: &str,
    author: &str,
    key: String,
    data: serde_json::Value,
) -> AppResult<News> {
    let mut members = followers(conn, request_id)?;
    members.retain(|m| m != author);
    Ok(News {
        event,
        key,
        data,
        members,
    })
}

/// `request.update`: a new update `update_id` by `author`.
pub fn update(
    conn: &mut DbConnection,
    request_id: &str,
    update_id: &str,
    author: &str,
) -> AppResult<News> {
    to_followers(
        conn,
        Event::RequestUpdate,
        request_id,
        author,
        format!("request.update:{update_id}"),
        json!({"request_id": request_id, "update_id": update_id}),
    )
}

/// `request.answered`: marked answered by `author` at `answered_at` (a request reopened and
/// answered again is news again).
pub fn answered(
    conn: &mut DbConnection,
    request_id: &str,
    author: &str,
    answered_at: chrono::NaiveDateTime,
) -> AppResult<News> {
    to_followers(
        conn,
        Event::RequestAnswered,
        request_id,
        author,
        format!(
            "request.answered:{request_id}:{}",
            answered_at.and_utc().timestamp_micros()
        ),
        json!({"request_id": request_id}),
    )
}

/// Teams `request_id` is live-assigned to as a team.
fn assigned_teams(conn: &mut DbConnection, request_id: &str) -> AppResult<Vec<String>> {
    Ok(assignments::table
        .filter(assignments::request_id.eq(request_id))
        .filter(live_status())
        .filter(assignments::team_id.is_not_null())
        .select(assignments::team_id.assume_not_null())
        .distinct()
        .load(conn)?)
}

/// `request.urgent`, to whoever should pray at once: the church's leaders, the team leaders of the
/// teams it is assigned to, and whoever holds a watch slot under way now in a watch that can see
/// it (any watch for a `congregation` request; a watch of a team it is assigned to for a `team`
/// request; none for a `leaders` one). Not its author.
fn urgent(
    conn: &mut DbConnection,
    request: &RequestRow,
    author: &str,
    at: NaiveDateTime,
) -> AppResult<News> {
    let mut to: Vec<String> = members::table
        .filter(members::active.eq(true))
        .filter(
            members::role
                .eq(Role::Leader)
                .or(members::role.eq(Role::Admin)),
        )
        .select(members::id)
        .load(conn)?;
    let teams = assigned_teams(conn, &request.id)?;
    if !teams.is_empty() {
        to.extend(
            team_members::table
                .filter(team_members::team_id.eq_any(&teams))
                .filter(team_members::team_role.eq(TeamRole::Leader))
                .select(team_members::member_id)
                .load::<String>(conn)?,
        );
    }
    let holding_now = watch_signup_slots::table
        .inner_join(watches::table.on(watches::id.eq(watch_signup_slots::watch_id)))
        .filter(watch_signup_slots::slot_start.le(at))
        .filter(watch_signup_slots::slot_end.gt(at))
        .filter(crate::held_slots::not_blocked_out())
        .select(watch_signup_slots::member_id);
    match request.visibility {
        Visibility::Congregation => to.extend(holding_now.load::<String>(conn)?),
        Visibility::Team if !teams.is_empty() => to.extend(
            holding_now
                .filter(watches::team_id.eq_any(&teams))
                .load::<String>(conn)?,
        ),
        Visibility::Team | Visibility::Leaders => {}
    }
    to.sort();
    to.dedup();
    let key = format!(
        "request.urgent:{}:{}",
        request.id,
        at.and_utc().timestamp_micros()
    );
    to.retain(|m| m != author);
    Ok(News {
        event: Event::RequestUrgent,
        key,
        data: json!({"request_id": request.id}),
        members: to,
    })
}

/// `request.created` (webhooks only): a request was submitted, by a member or through the public
/// form. Its ids only: never who asked, since a request may be anonymous.
pub fn created(request: &RequestRow) -> News {
    News::for_webhooks(
        Event::RequestCreated,
        format!("request.created:{}", request.id),
        json!({"request_id": request.id}),
    )
}

/// `prayer.logged` (webhooks only): someone prayed for `request_id`; `member_id` is who, unless
/// they prayed anonymously (`None`).
pub fn prayed(request_id: &str, prayer_id: &str, member_id: Option<&str>) -> News {
    News::for_webhooks(
        Event::PrayerLogged,
        format!("prayer.logged:{prayer_id}"),
        json!({"request_id": request_id, "prayer_id": prayer_id, "member_id": member_id}),
    )
}

/// Announces `after` as urgent when this change made it an urgent, active request (created so,
/// approved, reopened, or marked urgent while active); `before` is the request as it was (`None`
/// for a new one).
pub fn if_now_urgent(
    conn: &mut DbConnection,
    channels: &[Channel],
    before: Option<&RequestRow>,
    after: &RequestRow,
    author: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    let today = at.date();
    let urgent_active = |r: &RequestRow| r.urgent && r.status_on(today) == Status::Active;
    if urgent_active(after) && !before.is_some_and(urgent_active) {
        let news = urgent(conn, after, author, at)?;
        outbox::tell(conn, at, channels, &[news])?;
    }
    Ok(())
}
