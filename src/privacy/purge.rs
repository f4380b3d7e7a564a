//! Retention: `intercede purge` deletes answered, closed and expired prayer requests older than a
//! given age, with their prayers, updates, comments, assignments and notifications; the
//! notification deliveries and the invitations that ended before that age; and every expired
//! password reset link.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::audit::{self, AuditKind};
use crate::db::schema::prayer_requests;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::prayer_requests::model::Status;

/// Deletes requests that ended more than `days` days before `now`; returns how many.
///
/// Answered and closed requests count from their last change; active requests past their expiry
/// count from `expires_on`. Pending and live requests are never purged.
pub fn purge(conn: &mut DbConnection, days: i64, now: NaiveDateTime) -> AppResult<usize> {
    let cutoff = now - Duration::days(days);
    let ended = prayer_requests::status
        .eq_any([Status::Answered, Status::Closed])
        .and(prayer_requests::updated_at.lt(cutoff));
    let expired = prayer_requests::status
        .eq(Status::Active)
        .and(prayer_requests::expires_on.lt(cutoff.date()));
    let ids: Vec<String> = prayer_requests::table
        .filter(ended.or(expired))
        .select(prayer_requests::id)
        .load(conn)?;
    for chunk in ids.chunks(500) {
        diesel::delete(prayer_requests::table.filter(prayer_requests::id.eq_any(chunk)))
            .execute(conn)?;
    }
    crate::outbox::forget_requests(conn, &ids)?;
    crate::outbox::forget_finished_before(conn, cutoff)?;
    crate::invitations::store::forget_ended_before(conn, cutoff)?;
    crate::accounts::password_reset::forget_expired(conn, now)?;
    audit::record(
        conn,
        AuditKind::Purged,
        None,
        "prayer_request",
        &[format!("{} requests", ids.len())],
        Some(format!("ended more than {days} days ago")),
        now,
    )?;
    Ok(ids.len())
}
