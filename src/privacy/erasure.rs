//! Erasing an account. The member's row goes, and with it (by foreign keys) their sessions,
//! memberships, signups, check-ins and fast commitments. Their prayer requests stay for the
//! intercessors who carry them, with the requester removed; prayers, updates and comments they
//! wrote stay, unattributed.

use super::audit::{self, AuditKind};
use crate::accounts::store as members;
use crate::auth::Role;
use crate::db::schema::{calendar_tokens, members as members_table};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use diesel::prelude::*;

pub fn erase(
    conn: &mut DbConnection,
    member_id: &str,
    now: chrono::NaiveDateTime,
) -> AppResult<()> {
    let member = members::find(conn, member_id)?.ok_or(AppError::NotFound)?;
    if member.active && member.role == Role::Admin {
        let admins = members::lock_active_admins(conn)?;
        if !admins.iter().any(|a| a != member_id) {
            return Err(AppError::conflict(
                ProblemType::LastAdmin,
                "You are the last active admin: make another admin before erasing your account.",
            ));
        }
    }
    diesel::delete(calendar_tokens::table.find(member_id)).execute(conn)?;
    diesel::delete(members_table::table.find(member_id)).execute(conn)?;
    audit::record(
        conn,
        AuditKind::Erased,
        Some(member_id),
        "member",
        &[member_id.to_string()],
        None,
        now,
    )?;
    Ok(())
}
