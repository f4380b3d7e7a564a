//! Unprayed-for nudges (`request.unprayed`): a live assignment with no prayer logged for its
//! request in `UNPRAYED_NUDGE_HOURS` (48) since it was made or since the last prayer (by the
//! named intercessor, or by anyone in the assigned team) is noticed, once per period: after one
//! period the named intercessor is nudged; from the second, the assigner (for a named
//! assignment) or the team's leaders (for a team assignment) are told too. It ends when the
//! assignment ends or a prayer is logged: a prayer moves the anchor, and a nudge whose anchor
//! moved is dropped when due.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::assignment_status::live_status;
use crate::db::schema::{assignments, prayers, team_members};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{self, Channel, Event, Notice};
use crate::teams::store as teams;

/// A live assignment as nudges read it.
#[derive(Debug, Queryable)]
struct Live {
    id: String,
    request_id: String,
    team_id: Option<String>,
    member_id: Option<String>,
    assigned_by: Option<String>,
    created_at: NaiveDateTime,
}

/// Who a nudge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The named intercessor.
    Assignee,
    /// The assigner, or the team's leaders.
    Escalation,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Assignee => "assignee",
            Stage::Escalation => "escalation",
        }
    }
}

/// The last prayer that counts for `a`: by its named intercessor, or by any member of its team.
fn last_prayer(
    a: &Live,
    prayed: &HashMap<(String, String), NaiveDateTime>,
    team: &HashMap<String, Vec<String>>,
) -> Option<NaiveDateTime> {
    let by = |member: &String| prayed.get(&(a.request_id.clone(), member.clone())).copied();
    match (&a.member_id, &a.team_id) {
        (Some(member), _) => by(member),
        (None, Some(t)) => team.get(t).into_iter().flatten().filter_map(by).max(),
        (None, None) => None,
    }
}

/// Reads the live assignments older than one period with what their anchors are now: the later
/// of their making and the last prayer that counts.
fn anchored(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: Duration,
    only: Option<&str>,
) -> AppResult<Vec<(Live, NaiveDateTime)>> {
    let mut query = assignments::table
        .filter(live_status())
        .filter(assignments::created_at.le(now - period))
        .select((
            assignments::id,
            assignments::request_id,
            assignments::team_id,
            assignments::member_id,
            assignments::assigned_by,
            assignments::created_at,
        ))
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(assignments::id.eq(id));
    }
    let live: Vec<Live> = query.load(conn)?;
    let mut request_ids: Vec<String> = live.iter().map(|a| a.request_id.clone()).collect();
    request_ids.sort();
    request_ids.dedup();
    let mut prayed: HashMap<(String, String), NaiveDateTime> = HashMap::new();
    for chunk in request_ids.chunks(500) {
        let rows: Vec<(String, Option<String>, Option<NaiveDateTime>)> = prayers::table
            .filter(prayers::request_id.eq_any(chunk))
            .group_by((prayers::request_id, prayers::member_id))
            .select((
                prayers::request_id,
                prayers::member_id,
                diesel::dsl::max(prayers::created_at),
            ))
            .load(conn)?;
        prayed.extend(
            rows.into_iter()
                .filter_map(|(r, m, at)| Some(((r, m?), at?))),
        );
    }
    let mut team_ids: Vec<String> = live.iter().filter_map(|a| a.team_id.clone()).collect();
    team_ids.sort();
    team_ids.dedup();
    let mut team: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in team_ids.chunks(500) {
        let rows: Vec<(String, String)> = team_members::table
            .filter(team_members::team_id.eq_any(chunk))
            .select((team_members::team_id, team_members::member_id))
            .load(conn)?;
        for (t, m) in rows {
            team.entry(t).or_default().push(m);
        }
    }
    Ok(live
        .into_iter()
        .map(|a| {
            let anchor =
                last_prayer(&a, &prayed, &team).map_or(a.created_at, |p| p.max(a.created_at));
            (a, anchor)
        })
        .collect())
}

/// Enqueues the nudges owed at `now`: for each live assignment a whole period or more past its
/// anchor, this period's nudge to the named intercessor and, from the second period, to the
/// assigner or the team's leaders. Keyed by assignment, anchor, period and stage: each once.
pub fn enqueue(
    conn: &mut DbConnection,
    channels: &[Channel],
    now: NaiveDateTime,
    period: Duration,
) -> AppResult<usize> {
    let mut notices = Vec::new();
    for (a, anchor) in anchored(conn, now, period, None)? {
        let periods = (now - anchor).num_seconds() / period.num_seconds().max(1);
        if periods < 1 {
            continue;
        }
        let mut owed: Vec<(Stage, Vec<String>)> = Vec::new();
        if let Some(member) = &a.member_id {
            owed.push((Stage::Assignee, vec![member.clone()]));
        }
        if periods >= 2 {
            let to = match (&a.member_id, &a.team_id) {
                (None, Some(team)) => teams::leader_ids(conn, team)?,
                _ => a.assigned_by.clone().into_iter().collect(),
            };
            owed.push((Stage::Escalation, to));
        }
        for (stage, to) in owed {
            for member_id in to {
                notices.push(Notice {
                    event: Event::RequestUnprayed,
                    key: format!(
                        "request.unprayed:{}:{}:{periods}:{}",
                        a.id,
                        anchor.and_utc().timestamp(),
                        stage.as_str()
                    ),
                    data: json!({
                        "request_id": a.request_id,
                        "assignment_id": a.id,
                        "team_id": a.team_id,
                        "member_id": a.member_id,
                        "stage": stage.as_str(),
                        "anchor": anchor.and_utc().timestamp(),
                        "period_hours": period.num_hours(),
                        "hours": (now - anchor).num_hours(),
                    }),
                    member_id,
                    due: None,
                });
            }
        }
    }
    outbox::schedule(conn, now, channels, &notices)?;
    Ok(notices.len())
}

/// Whether a nudge written for `assignment_id` at `anchor` (Unix seconds) still stands: the
/// assignment is still live and no prayer that counts was logged since.
pub fn stands(
    conn: &mut DbConnection,
    assignment_id: &str,
    anchor: i64,
    now: NaiveDateTime,
    period: Duration,
) -> AppResult<bool> {
    Ok(anchored(conn, now, period, Some(assignment_id))?
        .first()
        .is_some_and(|(_, a)| a.and_utc().timestamp() == anchor))
}
