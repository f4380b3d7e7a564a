//! The audit log as leaders read it (`GET /audit-events`); the writer is `crate::audit`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::audit::{record, AuditKind, AuditRow};
use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::error::AppResult;

/// An audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    pub kind: AuditKind,
    /// Who did it; `null` for the command line.
    pub actor_id: Option<String>,
    /// `prayer_request` or `member`.
    pub subject_type: String,
    pub subject_id: String,
    /// What changed, when it is not the subject's content (`role: member -> leader`).
    pub detail: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub kind: Option<AuditKind>,
    pub actor_id: Option<String>,
    /// Only events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this instant.
    pub to: Option<DateTime<Utc>>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Newest first.
pub fn list(
    conn: &mut DbConnection,
    query: &AuditQuery,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<AuditRow>> {
    let mut q = audit_events::table
        .select(AuditRow::as_select())
        .order(audit_events::id.desc())
        .limit(fetch)
        .into_boxed();
    if let Some(kind) = query.kind {
        q = q.filter(audit_events::kind.eq(kind));
    }
    if let Some(actor) = &query.actor_id {
        q = q.filter(audit_events::actor_id.eq(actor.clone()));
    }
    if let Some(from) = query.from {
        q = q.filter(audit_events::created_at.ge(from.naive_utc()));
    }
    if let Some(to) = query.to {
        q = q.filter(audit_events::created_at.lt(to.naive_utc()));
    }
    if let Some(after) = after {
        q = q.filter(audit_events::id.lt(after.to_string()));
    }
    Ok(q.load(conn)?)
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = crate::error::AppError;
    fn try_from(r: AuditRow) -> Result<Self, Self::Error> {
        Ok(AuditEvent {
            kind: r.kind,
            id: r.id,
            actor_id: r.actor_id,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            detail: r.detail,
            created_at: crate::time::to_utc(r.created_at),
        })
    }
}
