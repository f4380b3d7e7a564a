//! Who hears of a request's news (api.md, "Notifications"), as outbox notices written in the
//! change's own transaction: everyone who prayed for it and its current assignees (named, and the
//! members of teams it is assigned to), except the author. Whether each may still see the request
//! is decided again when the notice is delivered.

use diesel::prelude::*;
use serde_json::json;

use crate::assignment_status::live_status;
use crate::db::schema::{assignments, request_intercessors, team_members};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{Event, Notice};

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
) -> AppResult<Vec<Notice>> {
    Ok(followers(conn, request_id)?
        .into_iter()
        .filter(|m| m != author)
        .map(|member_id| Notice {
            event,
            member_id,
            data: data.clone(),
            key: key.clone(),
        })
        .collect())
}

/// `request.update`: a new update `update_id` by `author`.
pub fn update(
    conn: &mut DbConnection,
    request_id: &str,
    update_id: &str,
    author: &str,
) -> AppResult<Vec<Notice>> {
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
) -> AppResult<Vec<Notice>> {
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
