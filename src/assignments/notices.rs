//! Who hears of an assignment (api.md, "Notifications"), as outbox news written in the
//! assignment's own transaction (its members, and the webhooks subscribed to the event). Whether each may still see the request is decided again when the
//! notice is delivered.

use serde_json::json;

use super::model::AssignmentRow;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{Event, News};
use crate::teams::store as teams;

fn data(row: &AssignmentRow) -> serde_json::Value {
    json!({
        "request_id": row.request_id,
        "assignment_id": row.id,
        "team_id": row.team_id,
        "member_id": row.member_id,
    })
}

fn news(event: Event, row: &AssignmentRow, mut to: Vec<String>, not: &[&str]) -> News {
    to.sort();
    to.dedup();
    to.retain(|m| !not.contains(&m.as_str()));
    News {
        event,
        key: format!("{}:{}", event.as_str(), row.id),
        data: data(row),
        members: to,
    }
}

/// `assignment.created`: the member assigned by name; for a team assignment, the team's members.
/// Not the assigner.
pub fn created(conn: &mut DbConnection, row: &AssignmentRow) -> AppResult<News> {
    let to = match (&row.member_id, &row.team_id) {
        (Some(member), _) => vec![member.clone()],
        (None, Some(team)) => teams::member_ids(conn, team)?,
        (None, None) => Vec::new(),
    };
    let by = row.assigned_by.as_deref().unwrap_or_default();
    Ok(news(Event::AssignmentCreated, row, to, &[by]))
}

/// `assignment.declined`: the assigner and the team's leaders. Not the one who declined.
pub fn declined(conn: &mut DbConnection, row: &AssignmentRow, by: &str) -> AppResult<News> {
    let mut to: Vec<String> = row.assigned_by.iter().cloned().collect();
    if let Some(team) = &row.team_id {
        to.extend(teams::leader_ids(conn, team)?);
    }
    let mut news = news(Event::AssignmentDeclined, row, to, &[by]);
    news.data["actor_id"] = json!(by);
    Ok(news)
}
