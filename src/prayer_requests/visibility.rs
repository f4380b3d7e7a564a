//! Who may see a prayer request: the one rule, written once as SQL and used by every query that
//! reads requests (one, a list, a search), so a request the caller may not see is simply not
//! found: never listed, never counted, never a 403.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::auth::AuthUser;
use crate::db::schema::prayer_requests;
use crate::db::MultiBackend;

/// The caller, as far as visibility cares.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: String,
    pub leader: bool,
}

impl From<&AuthUser> for Viewer {
    fn from(user: &AuthUser) -> Self {
        Viewer {
            id: user.id.clone(),
            leader: user.role.is_leader(),
        }
    }
}

pub type Condition =
    Box<dyn BoxableExpression<prayer_requests::table, MultiBackend, SqlType = Bool>>;

/// True for the requests `viewer` may see:
/// - leaders see every request;
/// - requesters see their own, whatever their state;
/// - anyone else sees a request only once it is released (not pending, not flagged, not rejected)
///   and only if it is for their audience: `congregation` for every member, `team` for members of
///   an assigned team, `leaders` for intercessors assigned by name.
pub fn visible_to(viewer: &Viewer) -> Condition {
    if viewer.leader {
        return Box::new(sql::<Bool>("1 = 1"));
    }
    let own = prayer_requests::requester_id
        .assume_not_null()
        .eq(viewer.id.clone());
    let released = prayer_requests::status
        .ne("pending")
        .and(prayer_requests::flagged.eq(false))
        .and(prayer_requests::rejection_reason.is_null());
    let audience = prayer_requests::visibility
        .eq("congregation")
        .or(through_team(viewer))
        .or(through_assignment(viewer));
    Box::new(own.or(released.and(audience)))
}

/// `team` requests reach the members of the teams they are assigned to. Teams and assignments
/// arrive with the teams feature; until then no team holds any request.
fn through_team(_viewer: &Viewer) -> Condition {
    Box::new(sql::<Bool>("1 = 0"))
}

/// Any request reaches an intercessor assigned to it by name while the assignment is live.
/// Assignments arrive with the teams feature; until then there are none.
fn through_assignment(_viewer: &Viewer) -> Condition {
    Box::new(sql::<Bool>("1 = 0"))
}
