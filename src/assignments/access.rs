//! Who may assign, change and see assignments: the rules of this feature, each called before the
//! work it guards. Seeing the request itself is the prayer requests' visibility rule.

use super::model::AssignmentRow;
use super::transitions::Standing;
use crate::auth::AuthUser;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::teams::access::leads;
use crate::teams::model::TeamRole;
use crate::teams::store as teams;

/// Why the caller may not assign: typed, so handlers and tests tell the cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A team leader targeting a team they do not lead, or a member of no team they lead.
    NotTheirTeam,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotTheirTeam => AppError::Forbidden(
                "Team leaders assign only to their own team and its members.".into(),
            ),
        }
    }
}

/// A leader assigns to any team or member; a team leader only for a team they lead (`team_id`,
/// the team the assignment is made to or for).
pub fn require_may_assign(
    conn: &mut DbConnection,
    user: &AuthUser,
    team_id: Option<&str>,
) -> AppResult<()> {
    if user.role.is_leader() {
        return Ok(());
    }
    let allowed = match team_id {
        Some(team) => leads(conn, user, team)?,
        None => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::NotTheirTeam.into())
    }
}

/// How the caller stands to an assignment: its assignee (the intercessor named, or for a team
/// assignment one of that team's leaders), its assigner, a church-wide leader. A stranger to it
/// gets 404: they learn nothing about it.
pub fn standing(
    conn: &mut DbConnection,
    user: &AuthUser,
    row: &AssignmentRow,
) -> AppResult<Standing> {
    let team_assignee = match (&row.member_id, &row.team_id) {
        (None, Some(team)) => teams::membership(conn, team, &user.id)?
            .is_some_and(|m| m.team_role == TeamRole::Leader),
        _ => false,
    };
    let who = Standing {
        assignee: row.member_id.as_deref() == Some(&user.id) || team_assignee,
        assigner: row.assigned_by.as_deref() == Some(&user.id),
        leader: user.role.is_leader(),
    };
    if who.assignee || who.assigner || who.leader {
        Ok(who)
    } else {
        Err(AppError::NotFound)
    }
}

/// Auto-assign and the team's dashboard: a leader, or a team leader of that team.
pub use crate::teams::access::require_lead;
