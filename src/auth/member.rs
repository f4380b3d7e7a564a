//! The member behind an access token, read for every authenticated request. It lives here, below
//! the features, so that the extractor does not reach into `accounts`; `accounts` builds the
//! API's member view from it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Role;
use crate::db::schema::members;
use crate::db::DbConnection;
use crate::error::AppResult;

/// A member as a request's caller is read: the row without its password hash and search key.
///
/// Every authenticated request reads its caller (see `auth::extractor`); leaving out the two
/// columns no handler needs from it saves decoding them on every request and keeps the password
/// hash out of every request's memory. The two endpoints that check a password read the hash
/// themselves (`accounts::store::password_hash`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = members)]
pub struct MemberProfile {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub timezone: String,
    pub max_active_assignments: Option<i32>,
    pub created_at: NaiveDateTime,
}

/// The member with this id, without password hash or search key.
pub fn find_profile(conn: &mut DbConnection, id: &str) -> AppResult<Option<MemberProfile>> {
    Ok(members::table
        .find(id)
        .select(MemberProfile::as_select())
        .first(conn)
        .optional()?)
}
