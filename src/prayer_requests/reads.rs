//! Confidential reads recorded in the audit log: who read a `leaders` request, alone or in a list.

use super::model::{PrayerRequest, Visibility};
use crate::audit::{self, AuditKind};
use crate::error::AppResult;

/// Records that `actor` read these requests, keeping those of `leaders` visibility (the
/// confidential tier). One write, only when there is something to record.
pub async fn confidential_reads<'a>(
    db: &crate::db::Db,
    actor: &str,
    read: impl IntoIterator<Item = &'a PrayerRequest>,
    at: chrono::NaiveDateTime,
) -> AppResult<()> {
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
        audit::record(
            conn,
            AuditKind::RequestRead,
            Some(&actor),
            "prayer_request",
            &ids,
            None,
            at,
        )
    })
    .await
}
