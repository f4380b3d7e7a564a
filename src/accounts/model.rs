//! Members and sessions: rows as stored, and the shapes the API reads and writes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Role;
use crate::db::schema::{members, refresh_tokens};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = members)]
#[diesel(treat_none_as_default_value = false)]
pub struct MemberRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub search_key: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub timezone: String,
    pub max_active_assignments: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub use crate::auth::member::MemberProfile;

/// What search matches against: name and email, lower-cased in Rust so that every script folds
/// the same way on SQLite (whose `lower()` knows only ASCII) and PostgreSQL.
pub fn search_key(display_name: &str, email: &str) -> String {
    format!("{} {}", display_name.to_lowercase(), email.to_lowercase())
}

/// A member as others see them: beside what they wrote, in a team, on an assignment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub display_name: String,
}

/// A member of the church, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// False once an admin deactivates the account: it can no longer sign in.
    pub active: bool,
    /// IANA time zone the member's times are shown in.
    pub timezone: String,
    /// How many assignments the member will carry at once; `null` means no limit.
    pub max_active_assignments: Option<i32>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl TryFrom<MemberRow> for Member {
    type Error = AppError;
    fn try_from(row: MemberRow) -> Result<Self, AppError> {
        Member::try_from(MemberProfile {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
            active: row.active,
            timezone: row.timezone,
            max_active_assignments: row.max_active_assignments,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<MemberProfile> for Member {
    type Error = AppError;
    fn try_from(row: MemberProfile) -> Result<Self, AppError> {
        Ok(Member {
            role: row.role,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            active: row.active,
            timezone: row.timezone,
            max_active_assignments: row.max_active_assignments,
            created_at: crate::time::to_utc(row.created_at),
        })
    }
}

#[derive(Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(treat_none_as_default_value = false)]
pub struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub member_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Used to sign in; stored lower-cased.
    #[schema(example = "anna@example.org")]
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    /// 1 to 80 characters.
    #[schema(example = "Anna")]
    pub display_name: String,
    /// IANA time zone; `UTC` when omitted.
    #[schema(example = "America/New_York")]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    /// The refresh token from the last login or refresh. It is single-use.
    pub refresh_token: String,
}

/// Tokens for a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Trade for a new pair at `POST /auth/refresh`; single-use.
    pub refresh_token: String,
}

/// Changes to one's own profile; omitted fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeInput {
    pub display_name: Option<String>,
    pub timezone: Option<String>,
    /// 0 to 1000, or `null` for no limit.
    #[serde(default, deserialize_with = "crate::http::validate::present")]
    #[schema(value_type = Option<i32>)]
    pub max_active_assignments: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordInput {
    pub current_password: String,
    /// 8 to 128 characters.
    pub new_password: String,
}

/// An admin's changes to a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberInput {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MemberListQuery {
    /// Matches display name or email, case-insensitively.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = members)]
pub struct MemberChanges {
    pub display_name: Option<String>,
    pub search_key: Option<String>,
    pub timezone: Option<String>,
    pub max_active_assignments: Option<Option<i32>>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}
