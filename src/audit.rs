//! The audit log's writer: append-only records of sensitive reads and changes, kept below every
//! feature so that any of them can record without depending on another (the log is read through
//! `privacy`). Records hold ids and kinds, never the text of a prayer request.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::error::AppResult;

crate::text_enum! {
    /// What happened.
    pub enum AuditKind {
        /// A `leaders`-visibility prayer request was read (alone or in a list).
        RequestRead => "request.read",
        RoleChanged => "member.role_changed",
        Deactivated => "member.deactivated",
        Reactivated => "member.reactivated",
        Exported => "account.exported",
        Erased => "account.erased",
        Purged => "requests.purged",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub kind: AuditKind,
    pub actor_id: Option<String>,
    pub subject_type: String,
    pub subject_id: String,
    pub detail: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Records events; several at once (a list page of confidential requests) in one statement each.
pub fn record(
    conn: &mut DbConnection,
    kind: AuditKind,
    actor: Option<&str>,
    subject_type: &str,
    subject_ids: &[String],
    detail: Option<String>,
    at: NaiveDateTime,
) -> AppResult<()> {
    for subject in subject_ids {
        diesel::insert_into(audit_events::table)
            .values(&AuditRow {
                id: uuid::Uuid::now_v7().to_string(),
                kind,
                actor_id: actor.map(str::to_string),
                subject_type: subject_type.into(),
                subject_id: subject.clone(),
                detail: detail.clone(),
                created_at: at,
            })
            .execute(conn)?;
    }
    Ok(())
}
