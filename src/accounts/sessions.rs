//! Sign-in sessions as chains of single-use refresh tokens.
//!
//! Each login starts a family. A refresh uses up its token and issues the next one in the family.
//! A token presented a second time means it was copied: the whole family is revoked, so the thief
//! and the rightful holder must both sign in again.

use chrono::{Duration, NaiveDateTime};

use super::model::RefreshTokenRow;
use super::store;
use crate::auth::tokens::{new_refresh_token, refresh_token_hash};
use crate::db::DbConnection;
use crate::error::AppResult;

pub enum Refresh {
    /// The token was good: here is its successor.
    Rotated {
        member_id: String,
        refresh_token: String,
    },
    /// Unknown, expired, reused, revoked, or its member is no longer active.
    Refused,
}

/// Starts a new family for `member_id`; returns the first refresh token.
pub fn start(
    conn: &mut DbConnection,
    member_id: &str,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> AppResult<String> {
    issue(
        conn,
        member_id,
        &uuid::Uuid::now_v7().to_string(),
        ttl_secs,
        now,
    )
}

fn issue(
    conn: &mut DbConnection,
    member_id: &str,
    family_id: &str,
    ttl_secs: i64,
    created_at: NaiveDateTime,
) -> AppResult<String> {
    let token = new_refresh_token();
    store::insert_refresh_token(
        conn,
        &RefreshTokenRow {
            id: uuid::Uuid::now_v7().to_string(),
            family_id: family_id.to_string(),
            member_id: member_id.to_string(),
            token_hash: refresh_token_hash(&token),
            created_at,
            expires_at: created_at + Duration::seconds(ttl_secs),
            used_at: None,
            revoked_at: None,
        },
    )?;
    Ok(token)
}

/// Trades `token` for its successor. Runs in the caller's write transaction; a refusal commits
/// too, since revoking a family on reuse must stick.
pub fn rotate(
    conn: &mut DbConnection,
    token: &str,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> AppResult<Refresh> {
    let Some(row) = store::find_refresh_token(conn, &refresh_token_hash(token))? else {
        return Ok(Refresh::Refused);
    };
    if row.used_at.is_some() || row.revoked_at.is_some() {
        store::revoke_family(conn, &row.family_id, now)?;
        return Ok(Refresh::Refused);
    }
    if row.expires_at <= now {
        return Ok(Refresh::Refused);
    }
    let active = store::find(conn, &row.member_id)?.is_some_and(|m| m.active);
    if !active || !store::use_refresh_token(conn, &row.id, now)? {
        // Not active any more, or a concurrent refresh used it a moment ago: both end the family.
        store::revoke_family(conn, &row.family_id, now)?;
        return Ok(Refresh::Refused);
    }
    let refresh_token = issue(conn, &row.member_id, &row.family_id, ttl_secs, now)?;
    Ok(Refresh::Rotated {
        member_id: row.member_id,
        refresh_token,
    })
}

/// Ends the session `token` belongs to. Unknown tokens are ignored: logging out twice is fine.
pub fn end(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> AppResult<()> {
    if let Some(row) = store::find_refresh_token(conn, &refresh_token_hash(token))? {
        store::revoke_family(conn, &row.family_id, now)?;
    }
    Ok(())
}
