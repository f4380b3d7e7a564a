//! Queries on teams and memberships.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{TeamChanges, TeamMemberRow, TeamRole, TeamRow};
use crate::db::schema::{members, team_members, teams};
use crate::db::DbConnection;
use crate::error::{is_unique_violation, AppError, AppResult, ProblemType};

fn name_taken(e: diesel::result::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::conflict(
            ProblemType::Duplicate,
            "A team with this name already exists.",
        )
    } else {
        e.into()
    }
}

pub fn insert(conn: &mut DbConnection, row: &TeamRow) -> AppResult<()> {
    diesel::insert_into(teams::table)
        .values(row)
        .execute(conn)
        .map_err(name_taken)?;
    Ok(())
}

/// A team that exists and is not deleted.
pub fn find_live(conn: &mut DbConnection, id: &str) -> AppResult<TeamRow> {
    teams::table
        .find(id)
        .filter(teams::deleted_at.is_null())
        .select(TeamRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn list(conn: &mut DbConnection, after: Option<&str>, fetch: i64) -> AppResult<Vec<TeamRow>> {
    let mut query = teams::table
        .filter(teams::deleted_at.is_null())
        .select(TeamRow::as_select())
        .order(teams::name_key.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(teams::name_key.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &TeamChanges) -> AppResult<TeamRow> {
    diesel::update(teams::table.find(id))
        .set(changes)
        .execute(conn)
        .map_err(name_taken)?;
    find_live(conn, id)
}

pub fn mark_deleted(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> AppResult<()> {
    diesel::update(teams::table.find(id))
        .set((teams::deleted_at.eq(at), teams::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// How many members each of `team_ids` has, in one query.
pub fn member_counts(
    conn: &mut DbConnection,
    team_ids: &[String],
) -> AppResult<HashMap<String, i64>> {
    Ok(team_members::table
        .filter(team_members::team_id.eq_any(team_ids))
        .group_by(team_members::team_id)
        .select((team_members::team_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// `member_id`'s role in each team they belong to.
pub fn roles_of(conn: &mut DbConnection, member_id: &str) -> AppResult<HashMap<String, TeamRole>> {
    Ok(team_members::table
        .filter(team_members::member_id.eq(member_id))
        .select((team_members::team_id, team_members::team_role))
        .load::<(String, TeamRole)>(conn)?
        .into_iter()
        .collect())
}

pub fn membership(
    conn: &mut DbConnection,
    team_id: &str,
    member_id: &str,
) -> AppResult<Option<TeamMemberRow>> {
    Ok(team_members::table
        .find((team_id, member_id))
        .select(TeamMemberRow::as_select())
        .first(conn)
        .optional()?)
}

/// Members of a team, with display names, in member-id order after the cursor.
pub fn list_members(
    conn: &mut DbConnection,
    team_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<(TeamMemberRow, String)>> {
    let mut query = team_members::table
        .inner_join(members::table.on(members::id.eq(team_members::member_id)))
        .filter(team_members::team_id.eq(team_id))
        .select((TeamMemberRow::as_select(), members::display_name))
        .order(team_members::member_id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(team_members::member_id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Adds a member or changes their role; true when the member was added.
pub fn put_member(conn: &mut DbConnection, row: &TeamMemberRow) -> AppResult<bool> {
    let updated = diesel::update(team_members::table.find((&row.team_id, &row.member_id)))
        .set(team_members::team_role.eq(&row.team_role))
        .execute(conn)?;
    if updated == 1 {
        return Ok(false);
    }
    diesel::insert_into(team_members::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn remove_member(conn: &mut DbConnection, team_id: &str, member_id: &str) -> AppResult<bool> {
    Ok(diesel::delete(team_members::table.find((team_id, member_id))).execute(conn)? == 1)
}

/// Ids of a team's team leaders.
pub fn leader_ids(conn: &mut DbConnection, team_id: &str) -> AppResult<Vec<String>> {
    Ok(team_members::table
        .filter(team_members::team_id.eq(team_id))
        .filter(team_members::team_role.eq(TeamRole::Leader))
        .select(team_members::member_id)
        .load(conn)?)
}

/// Ids of a team's members.
pub fn member_ids(conn: &mut DbConnection, team_id: &str) -> AppResult<Vec<String>> {
    Ok(team_members::table
        .filter(team_members::team_id.eq(team_id))
        .select(team_members::member_id)
        .load(conn)?)
}
