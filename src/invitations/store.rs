//! The `invitations` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::schema::invitations;
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::teams::model::TeamRole;

crate::text_enum! {
    /// Where an invitation stands. `expired` is never stored: a `pending` invitation past its
    /// `expires_at` reads as expired.
    pub enum InvitationStatus {
        Pending => "pending",
        Accepted => "accepted",
        Revoked => "revoked",
        Expired => "expired",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
#[diesel(treat_none_as_default_value = false)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub team_id: Option<String>,
    pub team_role: Option<TeamRole>,
    pub token_hash: String,
    pub status: InvitationStatus,
    pub invited_by: Option<String>,
    pub member_id: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl InvitationRow {
    /// Its status as of `at` (a pending one past its expiry is expired).
    pub fn status_at(&self, at: NaiveDateTime) -> InvitationStatus {
        match self.status {
            InvitationStatus::Pending if at >= self.expires_at => InvitationStatus::Expired,
            s => s,
        }
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<InvitationRow>> {
    Ok(invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_token_hash(conn: &mut DbConnection, hash: &str) -> AppResult<Option<InvitationRow>> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(hash))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &InvitationRow) -> AppResult<()> {
    diesel::insert_into(invitations::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Moves the invitation `id` from `pending` to `to`; false when it was not pending (another
/// request got there first).
pub fn leave_pending(
    conn: &mut DbConnection,
    id: &str,
    to: InvitationStatus,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let changed = diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::status.eq(InvitationStatus::Pending)),
    )
    .set((invitations::status.eq(to), invitations::updated_at.eq(at)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Records the member an accepted invitation made.
pub fn set_member(conn: &mut DbConnection, id: &str, member_id: &str) -> AppResult<()> {
    diesel::update(invitations::table.find(id))
        .set(invitations::member_id.eq(member_id))
        .execute(conn)?;
    Ok(())
}

/// Revokes the pending invitations of `email` (a new one replaces them).
pub fn revoke_pending_for(
    conn: &mut DbConnection,
    email: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::update(
        invitations::table
            .filter(invitations::email.eq(email))
            .filter(invitations::status.eq(InvitationStatus::Pending)),
    )
    .set((
        invitations::status.eq(InvitationStatus::Revoked),
        invitations::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

/// Deletes invitations that ended (accepted, revoked, or expired) before `cutoff`: the addresses
/// of people who never joined are not kept longer than the retention period.
pub fn forget_ended_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> AppResult<usize> {
    let ended = invitations::status
        .ne(InvitationStatus::Pending)
        .and(invitations::updated_at.lt(cutoff))
        .or(invitations::expires_at.lt(cutoff));
    Ok(diesel::delete(invitations::table.filter(ended)).execute(conn)?)
}
