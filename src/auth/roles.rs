//! Church-wide roles and the small named checks handlers call before doing anything else.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AuthUser;
use crate::error::AppError;

/// A member's church-wide role. A leader moderates and assigns; an admin may do everything a leader
/// may, and also manages members' roles and accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Leader,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Member => "member",
        }
    }

    /// Reads a stored role; anything else in the database is a bug, not user input.
    pub fn from_db(value: &str) -> Result<Self, AppError> {
        match value {
            "admin" => Ok(Role::Admin),
            "leader" => Ok(Role::Leader),
            "member" => Ok(Role::Member),
            other => Err(AppError::Internal(format!(
                "unknown role in database: {other}"
            ))),
        }
    }

    /// Leaders and admins: "leader" in api.md.
    pub fn is_leader(self) -> bool {
        matches!(self, Role::Leader | Role::Admin)
    }
}

/// Leaders (and admins) only.
pub fn require_leader(user: &AuthUser) -> Result<(), AppError> {
    if user.role.is_leader() {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only leaders may do this.".into()))
    }
}

/// Admins only.
pub fn require_admin(user: &AuthUser) -> Result<(), AppError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("Only admins may do this.".into()))
    }
}

/// The member themself, or a leader.
pub fn require_self_or_leader(user: &AuthUser, member_id: &str) -> Result<(), AppError> {
    if user.id == member_id || user.role.is_leader() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only the member or a leader may do this.".into(),
        ))
    }
}
