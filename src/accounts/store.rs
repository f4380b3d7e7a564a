//! Queries on members and refresh tokens. Every function takes a connection, so callers decide
//! what runs in one transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{MemberChanges, MemberRow, RefreshTokenRow};
use crate::auth::roles::Role;
use crate::db::schema::{members, refresh_tokens};
use crate::db::{in_ids, DbConnection};
use crate::error::{is_unique_violation, AppError, AppResult, ProblemType};

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<MemberRow>> {
    Ok(members::table
        .find(id)
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?)
}

/// The members of `ids` that exist, in no particular order, in one statement.
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> AppResult<Vec<MemberRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(members::table
        .filter(in_ids(members::id, ids))
        .select(MemberRow::as_select())
        .load(conn)?)
}

pub use crate::auth::member::find_profile;

/// The member's password hash, for the endpoints that confirm a password.
pub fn password_hash(conn: &mut DbConnection, id: &str) -> AppResult<String> {
    members::table
        .find(id)
        .select(members::password_hash)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> AppResult<Option<MemberRow>> {
    Ok(members::table
        .filter(members::email.eq(email))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &MemberRow) -> AppResult<()> {
    diesel::insert_into(members::table)
        .values(row)
        .execute(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::conflict(
                    ProblemType::EmailTaken,
                    "An account with this email already exists.",
                )
            } else {
                e.into()
            }
        })?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &MemberChanges) -> AppResult<MemberRow> {
    // RETURNING with a Selectable is not available through MultiConnection: read it back.
    diesel::update(members::table.find(id))
        .set(changes)
        .execute(conn)?;
    find(conn, id)?.ok_or(AppError::NotFound)
}

/// Display names of the given members, in one query (no query per row).
pub fn display_names(
    conn: &mut DbConnection,
    ids: &[String],
) -> AppResult<std::collections::HashMap<String, String>> {
    let query = members::table.select((members::id, members::display_name));
    let rows: Vec<(String, String)> = match ids {
        [] => return Ok(Default::default()),
        // One person (a request, its requester) is the common case: `=`, a plain index seek.
        [one] => query.filter(members::id.eq(one)).load(conn)?,
        many => query.filter(in_ids(members::id, many)).load(conn)?,
    };
    Ok(rows.into_iter().collect())
}

pub struct MemberFilter {
    /// Already lower-cased.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Members in join order (ids are time-ordered UUIDv7), after the cursor's id.
pub fn list(
    conn: &mut DbConnection,
    filter: &MemberFilter,
    after: Option<&str>,
    fetch: i64,
) -> AppResult<Vec<MemberRow>> {
    let mut query = members::table
        .select(MemberRow::as_select())
        .order(members::id.asc())
        .limit(fetch)
        .into_boxed();
    if let Some(q) = &filter.q {
        query = query.filter(members::search_key.like(like_pattern(q)).escape('\\'));
    }
    if let Some(role) = &filter.role {
        query = query.filter(members::role.eq(*role));
    }
    if let Some(active) = filter.active {
        query = query.filter(members::active.eq(active));
    }
    if let Some(after) = after {
        query = query.filter(members::id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// `%text%` with LIKE's wildcards in `text` taken literally.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Ids of the active admins, locked until the transaction ends (PostgreSQL; on SQLite the
/// writer lock already serializes), so two admins demoting each other cannot both succeed.
pub fn lock_active_admins(conn: &mut DbConnection) -> AppResult<Vec<String>> {
    let query = members::table
        .filter(members::role.eq(Role::Admin))
        .filter(members::active.eq(true))
        .select(members::id);
    Ok(match conn {
        DbConnection::Postgresql(pg) => query.for_update().load(pg)?,
        DbConnection::Sqlite(_) => query.load(conn)?,
    })
}

pub fn insert_refresh_token(conn: &mut DbConnection, row: &RefreshTokenRow) -> AppResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> AppResult<Option<RefreshTokenRow>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a token used if nobody has used or revoked it yet; false means someone got there first.
pub fn use_refresh_token(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> AppResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .find(id)
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

pub fn revoke_all_for_member(
    conn: &mut DbConnection,
    member_id: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::member_id.eq(member_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
