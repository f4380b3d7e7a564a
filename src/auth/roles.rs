//! Church-wide roles and the small named checks handlers call before doing anything else.

use super::AuthUser;
use crate::error::AppError;

crate::text_enum! {
    /// A member's church-wide role. A leader moderates and assigns; an admin may do everything a
    /// leader may, and also manages members' roles and accounts.
    pub enum Role {
        Admin => "admin",
        Leader => "leader",
        Member => "member",
    }
}

impl Role {
    /// The roles that lead: "leader" in api.md. SQL that asks whether a member leads reads it
    /// (`prayer_requests::store::find_visible_to_caller`), so the rule has one source.
    pub const LEADERS: [Role; 2] = [Role::Leader, Role::Admin];

    /// Leaders and admins: "leader" in api.md.
    pub fn is_leader(self) -> bool {
        Role::LEADERS.contains(&self)
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
