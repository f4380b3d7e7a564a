//! Who sees and who manages a watch: the rules for anything a team may own.

use super::model::WatchRow;
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::teams::access::{manages_owned, require_manages_owned, require_sees_owned};

/// A church watch is seen by every member; a team's watch by that team and leaders. Others get 404.
pub fn require_visible(
    conn: &mut DbConnection,
    user: &AuthUser,
    watch: &WatchRow,
) -> AppResult<()> {
    require_sees_owned(conn, user, watch.team_id.as_deref())
}

/// True for leaders, and for a team watch's team leaders.
pub fn manages(conn: &mut DbConnection, user: &AuthUser, watch: &WatchRow) -> AppResult<bool> {
    manages_owned(conn, user, watch.team_id.as_deref())
}

pub fn require_manage(conn: &mut DbConnection, user: &AuthUser, watch: &WatchRow) -> AppResult<()> {
    require_manages_owned(conn, user, watch.team_id.as_deref())
}
