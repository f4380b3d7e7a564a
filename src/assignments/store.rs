//! Queries on assignments, and the locks that keep limits exact under concurrency.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{AssignmentRow, AssignmentStatus};
use crate::db::schema::{assignments, members, prayer_requests};
use crate::db::DbConnection;
use crate::error::AppResult;

const LIVE: [AssignmentStatus; 2] = AssignmentStatus::LIVE;

pub fn insert(conn: &mut DbConnection, row: &AssignmentRow) -> AppResult<()> {
    diesel::insert_into(assignments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<AssignmentRow>> {
    Ok(assignments::table
        .find(id)
        .select(AssignmentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    status: AssignmentStatus,
    reason: Option<String>,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::update(assignments::table.find(id))
        .set((
            assignments::status.eq(status),
            assignments::reason.eq(reason),
            assignments::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Locks the request's row until the transaction ends (PostgreSQL; SQLite's writer lock already
/// serializes), so two assignments of one request cannot both pass the duplicate check.
pub fn lock_request(conn: &mut DbConnection, request_id: &str) -> AppResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        prayer_requests::table
            .find(request_id)
            .select(prayer_requests::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Locks members' rows in id order (a fixed order, so two transactions cannot deadlock), so that
/// counting their live assignments and adding one is atomic.
pub fn lock_members(conn: &mut DbConnection, member_ids: &[String]) -> AppResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        members::table
            .filter(members::id.eq_any(member_ids))
            .select(members::id)
            .order(members::id.asc())
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// Live assignments per member, for the given members.
pub fn live_counts(
    conn: &mut DbConnection,
    member_ids: &[String],
) -> AppResult<HashMap<String, i64>> {
    Ok(assignments::table
        .filter(assignments::member_id.eq_any(member_ids))
        .filter(assignments::status.eq_any(LIVE))
        .group_by(assignments::member_id)
        .select((
            assignments::member_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// When each of the given members was last assigned anything, for fair tie-breaking.
pub fn last_assigned(
    conn: &mut DbConnection,
    member_ids: &[String],
) -> AppResult<HashMap<String, NaiveDateTime>> {
    Ok(assignments::table
        .filter(assignments::member_id.eq_any(member_ids))
        .group_by(assignments::member_id)
        .select((
            assignments::member_id.assume_not_null(),
            diesel::dsl::max(assignments::created_at).assume_not_null(),
        ))
        .load::<(String, NaiveDateTime)>(conn)?
        .into_iter()
        .collect())
}

/// Members with a live assignment to the request, and members who declined it.
pub fn members_on_request(
    conn: &mut DbConnection,
    request_id: &str,
) -> AppResult<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, AssignmentStatus)> = assignments::table
        .filter(assignments::request_id.eq(request_id))
        .filter(assignments::member_id.is_not_null())
        .filter(assignments::status.eq_any([
            AssignmentStatus::Assigned,
            AssignmentStatus::Accepted,
            AssignmentStatus::Declined,
        ]))
        .select((
            assignments::member_id.assume_not_null(),
            assignments::status,
        ))
        .load(conn)?;
    let (declined, live): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|(_, s)| *s == AssignmentStatus::Declined);
    Ok((
        live.into_iter().map(|(m, _)| m).collect(),
        declined.into_iter().map(|(m, _)| m).collect(),
    ))
}

/// True when the request already has a live assignment to this team as a whole.
pub fn team_holds(conn: &mut DbConnection, request_id: &str, team_id: &str) -> AppResult<bool> {
    let n: i64 = assignments::table
        .filter(assignments::request_id.eq(request_id))
        .filter(assignments::team_id.eq(team_id))
        .filter(assignments::member_id.is_null())
        .filter(assignments::status.eq_any(LIVE))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn list_for_request(
    conn: &mut DbConnection,
    request_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<AssignmentRow>> {
    let mut query = assignments::table
        .filter(assignments::request_id.eq(request_id))
        .select(AssignmentRow::as_select())
        .order(assignments::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(assignments::id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

pub fn list_for_member(
    conn: &mut DbConnection,
    member_id: &str,
    status: Option<AssignmentStatus>,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<AssignmentRow>> {
    let mut query = assignments::table
        .filter(assignments::member_id.eq(member_id))
        .select(AssignmentRow::as_select())
        .order(assignments::id.desc())
        .limit(fetch)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(assignments::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(assignments::id.lt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Live assignments to a team or to any of its members.
pub fn live_for_team(
    conn: &mut DbConnection,
    team_id: &str,
    member_ids: &[String],
) -> AppResult<Vec<AssignmentRow>> {
    Ok(assignments::table
        .filter(assignments::status.eq_any(LIVE))
        .filter(
            assignments::team_id
                .eq(team_id)
                .or(assignments::member_id.eq_any(member_ids)),
        )
        .select(AssignmentRow::as_select())
        .order(assignments::id.asc())
        .load(conn)?)
}

/// Ends a deleted team's live assignments, keeping them as history.
pub fn release_for_team(
    conn: &mut DbConnection,
    team_id: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::update(
        assignments::table
            .filter(assignments::team_id.eq(team_id))
            .filter(assignments::status.eq_any(LIVE)),
    )
    .set((
        assignments::status.eq(AssignmentStatus::Released),
        assignments::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}
