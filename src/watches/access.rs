//! Who sees and who manages a watch.

use super::model::WatchRow;
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::teams::access::{leads, role_in};

/// A church watch is seen by every member; a team's watch by that team and leaders. Others get 404.
pub fn require_visible(
    conn: &mut DbConnection,
    user: &AuthUser,
    watch: &WatchRow,
) -> AppResult<()> {
    match &watch.team_id {
        None => Ok(()),
        Some(_) if user.role.is_leader() => Ok(()),
        Some(team) if role_in(conn, user, team)?.is_some() => Ok(()),
        Some(_) => Err(AppError::NotFound),
    }
}

/// True for leaders, and for a team watch's team leaders.
pub fn manages(conn: &mut DbConnection, user: &AuthUser, watch: &WatchRow) -> AppResult<bool> {
    match &watch.team_id {
        None => Ok(user.role.is_leader()),
        Some(team) => leads(conn, user, team),
    }
}

pub fn require_manage(conn: &mut DbConnection, user: &AuthUser, watch: &WatchRow) -> AppResult<()> {
    if manages(conn, user, watch)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only a leader, or the team leader of a team's watch, may do this.".into(),
        ))
    }
}
