//! Per-team permission checks: who leads a team, who belongs to it.

use super::model::TeamRole;
use super::store;
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// The caller's role in the team, if any.
pub fn role_in(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: &str,
) -> AppResult<Option<TeamRole>> {
    store::membership(conn, team_id, &user.id)?
        .map(|m| TeamRole::from_db(&m.team_role))
        .transpose()
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
