//! The `webhooks` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{outbox, webhooks};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::Event;

/// How long the secret before a rotation still signs deliveries.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = webhooks)]
#[diesel(treat_none_as_default_value = false)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    /// JSON array of event names.
    pub events: String,
    pub description: Option<String>,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    /// The events it subscribes to (names this service no longer sends are left out).
    pub fn events(&self) -> Vec<Event> {
        serde_json::from_str::<Vec<String>>(&self.events)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| Event::parse(e))
            .collect()
    }

    /// The secrets that sign a delivery at `at`: the current one, and the previous one during
    /// the day after a rotation.
    pub fn signing_secrets(&self, at: NaiveDateTime) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until) {
            if at < until {
                secrets.push(previous);
            }
        }
        secrets
    }
}

pub fn events_json(events: &[Event]) -> String {
    serde_json::to_string(&events.iter().map(|e| e.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<WebhookRow>> {
    Ok(webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &WebhookRow) -> AppResult<()> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// What a PATCH or a rotation changes.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<String>,
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
    pub secret: Option<String>,
    pub previous_secret: Option<Option<String>>,
    pub previous_secret_until: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Applies `changes` and returns the webhook as changed; `None` when there is no such webhook.
pub fn update(
    conn: &mut DbConnection,
    id: &str,
    changes: &WebhookChanges,
) -> AppResult<Option<WebhookRow>> {
    let changed = diesel::update(webhooks::table.find(id))
        .set(changes)
        .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Deletes the webhook and its whole delivery log.
pub fn delete(conn: &mut DbConnection, id: &str) -> AppResult<bool> {
    diesel::delete(outbox::table.filter(outbox::webhook_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(webhooks::table.find(id)).execute(conn)? == 1)
}
