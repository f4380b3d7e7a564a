//! Per-team permission checks: who leads a team, who belongs to it.

use super::model::TeamRole;
use super::store;
use crate::auth::AuthUser;
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

/// Something a team may own (a watch, a fast): `None` is the whole church's. The church's is seen by
/// every member; a team's by that team and leaders, and anyone else gets 404.
pub fn require_sees_owned(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: Option<&str>,
) -> AppResult<()> {
    match team_id {
        None => Ok(()),
        Some(_) if user.role.is_leader() => Ok(()),
        Some(team) if role_in(conn, user, team)?.is_some() => Ok(()),
        Some(_) => Err(AppError::NotFound),
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
