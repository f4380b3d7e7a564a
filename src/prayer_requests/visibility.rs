//! Who may see a prayer request: the one rule, written once as SQL and used by every query that
//! reads requests (one, a list, a search), so a request the caller may not see is simply not
//! found: never listed, never counted, never a 403.

use diesel::dsl::exists;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::query_source::{AppearsInFromClause, Once};
use diesel::sql_types::Bool;

use super::model::{Status, Visibility};
use crate::assignment_status::live_status;
use crate::auth::AuthUser;
use crate::db::schema::{assignments, prayer_requests, team_members};
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
///   a team it is assigned to, and any visibility (`leaders` included) for an intercessor it is
///   assigned to by name, while that assignment is live (`assigned` or `accepted`).
pub fn visible_to(viewer: &Viewer) -> Condition {
    if viewer.leader {
        // Always true, and unlike a literal `1 = 1` it keeps the statement cacheable.
        return Box::new(prayer_requests::id.is_not_null());
    }
    member_condition(viewer)
}

/// [`visible_to`] for a member (not a leader), in a form whose statement diesel prepares once and
/// reuses: a boxed condition has no static query id, so diesel rebuilds its SQL text and hashes it
/// on every call. This one's SQL is the same for every member (only the bound id differs), which
/// [`MemberVisible`] declares and `member_condition_has_one_shape` tests.
pub fn visible_to_member(viewer: &Viewer) -> MemberVisible {
    debug_assert!(!viewer.leader);
    MemberVisible(member_condition(viewer))
}

fn member_condition(viewer: &Viewer) -> Condition {
    let own = prayer_requests::requester_id
        .assume_not_null()
        .eq(viewer.id.clone());
    let released = prayer_requests::status
        .ne(Status::Pending)
        .and(prayer_requests::flagged.eq(false))
        .and(prayer_requests::rejection_reason.is_null());
    let audience = prayer_requests::visibility
        .eq(Visibility::Congregation)
        .or(through_assignments(viewer));
    Box::new(own.or(released.and(audience)))
}

/// The member visibility condition, with a static query id of its own (see [`visible_to_member`]).
pub struct MemberVisible(Condition);

impl Expression for MemberVisible {
    type SqlType = Bool;
}

/// Like a column of `prayer_requests`: valid in any query whose FROM clause has that table once.
impl<QS> AppearsOnTable<QS> for MemberVisible where
    QS: AppearsInFromClause<prayer_requests::table, Count = Once>
{
}

impl ValidGrouping<()> for MemberVisible {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl QueryId for MemberVisible {
    type QueryId = MemberVisible;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<MultiBackend> for MemberVisible {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }
}

/// The two audiences an assignment opens, in one probe of the request's assignments:
/// - any request reaches an intercessor assigned to it by name, while the assignment is live;
/// - a `team` request reaches the members of the teams it is live-assigned to as a team (no
///   member named: an intercessor assigned "for" a team does not open it to their teammates).
///
/// One correlated subquery that seeks the request's own assignments (`assignments_request_idx`;
/// most requests have none) rather than one per audience, each seeking the caller's: a request
/// the caller may not see costs one index probe, not four or five. Most rows a member's list
/// passes over are such requests (`leaders`, other teams'), and their probes were about half of a
/// list page's time on SQLite (`scripts/bench.py`).
///
/// Written as `(SELECT ... LIMIT 1) IS NOT NULL`, not `EXISTS`: PostgreSQL turns an `EXISTS` under
/// `OR` into a "hashed subplan" that first collects every matching assignment of the church, a
/// set that grows with the church (docs/benchmarks.md has the figure at a million requests),
/// whereas the page needs only a few probes.
///
/// The caller's teams are an uncorrelated `IN (SELECT team_id ...)`, read once per statement (a
/// handful of rows), not a join inside the probe: with the join PostgreSQL took about half again
/// as long to plan the statement, and behind pgbouncer every statement is planned anew.
fn through_assignments(viewer: &Viewer) -> Condition {
    let by_name = assignments::member_id
        .assume_not_null()
        .eq(viewer.id.clone());
    let callers_teams = team_members::table
        .filter(team_members::member_id.eq(viewer.id.clone()))
        .select(team_members::team_id.nullable());
    let as_team = prayer_requests::visibility
        .eq(Visibility::Team)
        .and(assignments::member_id.is_null())
        .and(assignments::team_id.eq_any(callers_teams));
    Box::new(
        assignments::table
            .filter(assignments::request_id.eq(prayer_requests::id))
            .filter(live_status())
            .filter(by_name.or(as_team))
            .select(assignments::id)
            .limit(1)
            .single_value()
            .is_not_null(),
    )
}

/// Requests live-assigned to `member_id` by name.
pub fn assigned_to(member_id: &str) -> Condition {
    Box::new(exists(
        assignments::table
            .filter(assignments::request_id.eq(prayer_requests::id))
            .filter(assignments::member_id.eq(member_id.to_string()))
            .filter(live_status()),
    ))
}

/// Requests live-assigned to the team, or to an intercessor for the team.
pub fn assigned_to_team(team_id: &str) -> Condition {
    Box::new(exists(
        assignments::table
            .filter(assignments::request_id.eq(prayer_requests::id))
            .filter(assignments::team_id.eq(team_id.to_string()))
            .filter(live_status()),
    ))
}

#[cfg(test)]
mod tests {
    use crate::db::testing::statements_of;
    use crate::prayer_requests::store;

    use super::*;

    /// The SQL text of each statement `find_visible` runs for this member, on a fresh database.
    fn statements_for(member_id: &str) -> Vec<String> {
        let viewer = Viewer {
            id: member_id.into(),
            leader: false,
        };
        statements_of(|conn| {
            let found = store::find_visible(conn, &viewer, "no such request");
            assert!(matches!(found, Err(crate::error::AppError::NotFound)));
        })
    }

    /// `MemberVisible` claims one prepared statement fits every member: if the rule ever grew a
    /// shape that depends on the member, diesel would reuse the wrong statement.
    #[test]
    fn member_condition_has_one_shape() {
        let one = statements_for("01a00000-0000-7000-8000-000000000001");
        assert_eq!(one.len(), 1, "{one:?}");
        assert!(one[0].contains("assignments"), "{one:?}");
        assert_eq!(one, statements_for("someone else entirely"));
    }
}
