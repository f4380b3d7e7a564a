//! The statuses of an assignment. Shared by the assignments feature and the visibility rule of
//! prayer requests (a live assignment opens a request to its intercessor), so it sits below both.

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
