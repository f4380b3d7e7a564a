//! Assignments: rows and API shapes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::model::PersonRef;
use crate::db::schema::assignments;
use crate::prayer_requests::model::PrayerRequest;

pub use crate::assignment_status::{live_status, AssignmentStatus};

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
