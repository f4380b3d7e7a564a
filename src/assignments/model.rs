//! Assignments: rows and API shapes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::model::PersonRef;
use crate::db::schema::assignments;
use crate::prayer_requests::model::PrayerRequest;

crate::text_enum! {
    /// `assigned` → `accepted` | `declined`; `accepted` → `completed`; `assigned` or `accepted`
    /// → `released` (by the assigner or a leader). `assigned` and `accepted` are live: they count
    /// against the intercessor's limit and let a named intercessor read the request.
    pub enum AssignmentStatus {
        Assigned => "assigned",
        Accepted => "accepted",
        Declined => "declined",
        Completed => "completed",
        Released => "released",
    }
}

/// `assignments.status` is live (`assigned` or `accepted`), written as two comparisons rather
/// than `IN (?, ?)`: diesel does not cache a prepared statement that holds an `IN` list on SQLite,
/// and the visibility rule, which holds this, is part of every read of a request.
pub fn live_status() -> diesel::dsl::Or<
    diesel::dsl::Eq<crate::db::schema::assignments::status, AssignmentStatus>,
    diesel::dsl::Eq<crate::db::schema::assignments::status, AssignmentStatus>,
> {
    use crate::db::schema::assignments::status;
    use diesel::{BoolExpressionMethods, ExpressionMethods};
    status
        .eq(AssignmentStatus::Assigned)
        .or(status.eq(AssignmentStatus::Accepted))
}

impl AssignmentStatus {
    pub const LIVE: [AssignmentStatus; 2] =
        [AssignmentStatus::Assigned, AssignmentStatus::Accepted];

    pub fn is_live(self) -> bool {
        matches!(
            self,
            AssignmentStatus::Assigned | AssignmentStatus::Accepted
        )
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignments)]
#[diesel(treat_none_as_default_value = false)]
pub struct AssignmentRow {
    pub id: String,
    pub request_id: String,
    pub team_id: Option<String>,
    pub member_id: Option<String>,
    pub status: AssignmentStatus,
    pub reason: Option<String>,
    pub assigned_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A request in someone's hands.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    pub id: String,
    pub request_id: String,
    /// The team it is assigned to, or the team an intercessor was assigned for.
    pub team_id: Option<String>,
    /// The intercessor it is assigned to by name; `null` for a team assignment.
    pub member_id: Option<String>,
    pub status: AssignmentStatus,
    /// Why it was declined (the assigner, the assignee and leaders read it).
    pub reason: Option<String>,
    /// Who assigned it.
    pub assigned_by: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// One of my assignments, with its request when I may still read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyAssignment {
    #[serde(flatten)]
    pub assignment: Assignment,
    /// The request, while the caller may read it; `null` after losing access.
    pub request: Option<PrayerRequest>,
}

/// Assign to a team or to a named intercessor.
///
/// Conditional fields: at least one of `team_id` and `member_id` is required; neither is a 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentInput {
    /// The team. With `member_id` too: the intercessor is assigned for this team.
    pub team_id: Option<String>,
    /// The intercessor.
    pub member_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoAssignInput {
    pub team_id: String,
    /// How many intercessors to assign, 1 to 100.
    pub count: i64,
}

/// The intercessors auto-assign placed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutoAssigned {
    pub items: Vec<Assignment>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssignmentInput {
    pub status: AssignmentStatus,
    /// Required when declining; up to 1000 characters.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MyAssignmentsQuery {
    pub status: Option<AssignmentStatus>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An assignee of a request on the team dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assignee {
    pub assignment_id: String,
    pub team_id: Option<String>,
    /// The intercessor; `null` for the assignment to the team as a whole.
    pub member: Option<PersonRef>,
    pub status: AssignmentStatus,
}

/// One request on the team dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardItem {
    pub request: PrayerRequest,
    pub assignees: Vec<Assignee>,
    /// Prayers logged for the request in the last 7 days.
    pub prayer_count: i64,
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub last_prayed_at: Option<DateTime<Utc>>,
    /// Nobody has prayed for it in the last 3 days: these come first.
    pub needs_attention: bool,
}
