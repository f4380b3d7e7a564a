//! Per-team permission checks: who leads a team, who belongs to it.

use diesel::expression::Expression;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use super::model::TeamRole;
use super::store;
use crate::auth::AuthUser;
use crate::db::schema::team_members;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};

/// The caller's role in the team, if any.
pub fn role_in(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: &str,
) -> AppResult<Option<TeamRole>> {
    Ok(store::membership(conn, team_id, &user.id)?.map(|m| m.team_role))
}

/// True for church-wide leaders and for this team's team leaders.
pub fn leads(conn: &mut DbConnection, user: &AuthUser, team_id: &str) -> AppResult<bool> {
    Ok(user.role.is_leader() || role_in(conn, user, team_id)? == Some(TeamRole::Leader))
}

/// A church-wide leader, or a team leader of this team.
pub fn require_lead(conn: &mut DbConnection, user: &AuthUser, team_id: &str) -> AppResult<()> {
    if leads(conn, user, team_id)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only a leader or this team's team leader may do this.".into(),
        ))
    }
}

/// A church-wide leader, or any member of this team.
pub fn require_member_or_leader(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: &str,
) -> AppResult<()> {
    if user.role.is_leader() || role_in(conn, user, team_id)?.is_some() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only this team's members and leaders may see this.".into(),
        ))
    }
}

/// The teams `member_id` belongs to, as a subquery.
pub type MemberTeams = diesel::dsl::Select<
    diesel::dsl::Filter<team_members::table, diesel::dsl::Eq<team_members::member_id, String>>,
    diesel::dsl::Nullable<team_members::team_id>,
>;

/// The one rule for what a team may own (a watch, a fast), for a member who is not a church-wide
/// leader (leaders see everything): the church's own (`team_id` null) or one of the member's
/// teams'. `team_id` is the owner: a column when listing (`watches::team_id`), a bound value when
/// checking one row ([`require_sees_owned`]), so lists and single reads apply the same SQL.
pub fn owned_visible_to<E>(
    team_id: E,
    member_id: &str,
) -> diesel::dsl::Or<diesel::dsl::IsNull<E>, diesel::dsl::EqAny<E, MemberTeams>>
where
    E: Expression<SqlType = Nullable<Text>> + Clone,
{
    let my_teams: MemberTeams = team_members::table
        .filter(team_members::member_id.eq(member_id.to_string()))
        .select(team_members::team_id.nullable());
    team_id.clone().is_null().or(team_id.eq_any(my_teams))
}

/// Something a team may own (a watch, a fast): `None` is the whole church's. The church's is seen by
/// every member; a team's by that team and leaders ([`owned_visible_to`]), and anyone else gets 404.
pub fn require_sees_owned(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: Option<&str>,
) -> AppResult<()> {
    if user.role.is_leader() || team_id.is_none() {
        return Ok(());
    }
    let owner = team_id.map(str::to_string).into_sql::<Nullable<Text>>();
    let seen: Option<bool> = diesel::select(owned_visible_to(owner, &user.id)).get_result(conn)?;
    if seen == Some(true) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Managed by leaders, and for a team's, by its team leaders too.
pub fn manages_owned(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: Option<&str>,
) -> AppResult<bool> {
    match team_id {
        None => Ok(user.role.is_leader()),
        Some(team) => leads(conn, user, team),
    }
}

pub fn require_manages_owned(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: Option<&str>,
) -> AppResult<()> {
    if manages_owned(conn, user, team_id)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only a leader, or the team leader of the team it belongs to, may do this.".into(),
        ))
    }
}

/// Checks that `user` may create something a team may own (a watch, a fast): a church-wide one
/// takes a leader, a team's one that team's team leader or a leader. An unknown team is a field
/// error, added to `errors` so that a 422 lists it with the rest.
pub fn check_create_owned(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    match team_id {
        Some(team) => {
            if crate::teams::store::find_live(conn, team).is_err() {
                errors.push(FieldError::new("team_id", "there is no such team"));
            } else if errors.is_empty() && !leads(conn, user, team)? {
                return Err(AppError::Forbidden(
                    "Only a leader or this team's team leader may do this for the team.".into(),
                ));
            }
        }
        None if !user.role.is_leader() => {
            return Err(AppError::Forbidden(
                "Only leaders do this for the whole church; team leaders do it for their team."
                    .into(),
            ))
        }
        None => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(std::mem::take(errors)))
    }
}
