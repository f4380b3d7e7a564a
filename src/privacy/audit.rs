//! The audit log: append-only records of sensitive reads and changes. Records hold ids and kinds,
//! never the text of a prayer request.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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
) -> AppResult<()> {
    let at = crate::time::now();
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

/// Records that `actor` read these requests, keeping those of `leaders` visibility (the
/// confidential tier). One write, only when there is something to record.
pub async fn confidential_reads<'a>(
    db: &crate::db::Db,
    actor: &str,
    read: impl IntoIterator<Item = &'a crate::prayer_requests::model::PrayerRequest>,
) -> AppResult<()> {
    use crate::prayer_requests::model::Visibility;
    let ids: Vec<String> = read
        .into_iter()
        .filter(|r| r.visibility == Visibility::Leaders)
        .map(|r| r.id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let actor = actor.to_string();
    db.write(move |conn| {
        record(
            conn,
            AuditKind::RequestRead,
            Some(&actor),
            "prayer_request",
            &ids,
            None,
        )
    })
    .await
}

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
