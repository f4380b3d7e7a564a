//! Emails about one's account: an invitation (to an address, not yet a member), a password
//! reset link, and the notice that a password changed. They go by email only, whatever the
//! preferences and quiet hours, with no unsubscribe link; their links are made again from the
//! salt their outbox row holds ([`crate::auth::links`]).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::email::{mailbox, Letter};
use super::render::Rendered;
use super::worker::EmailPlan;
use crate::accounts::password_reset;
use crate::accounts::store as members;
use crate::auth::{links, Role};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::invitations::store::{self as invitations, InvitationStatus};
use crate::outbox::{Event, OutboxRow};
use crate::state::AppState;
use crate::teams::store as teams;

/// The account emails, each planned by its own function below, not by the worker's planner of
/// emails about requests, watches and fasts. The one place an event is classed so: the batch
/// planner leaves these out and `deliver_email` picks their planner from it, so the two cannot
/// disagree (a kind added here and not planned there fails to compile).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AccountMail {
    Invitation,
    PasswordReset,
    PasswordChanged,
}

impl AccountMail {
    /// Which account email `event` is; `None` for the others.
    pub(super) fn of(event: Event) -> Option<Self> {
        match event {
            Event::Invitation => Some(Self::Invitation),
            Event::PasswordReset => Some(Self::PasswordReset),
            Event::PasswordChanged => Some(Self::PasswordChanged),
            _ => None,
        }
    }

    /// Whether planning it writes: a reset link is stored when its email is written.
    pub(super) fn writes(self) -> bool {
        self == Self::PasswordReset
    }

    /// Decides and composes it from the database.
    pub(super) fn plan(
        self,
        conn: &mut DbConnection,
        state: &AppState,
        row: &OutboxRow,
    ) -> AppResult<EmailPlan> {
        match self {
            Self::Invitation => invitation(conn, state, row),
            Self::PasswordReset => password_reset(conn, state, row),
            Self::PasswordChanged => password_changed(conn, row),
        }
    }
}

fn field<'a>(data: &'a Value, key: &str) -> AppResult<&'a str> {
    data.get(key)
        .and_then(Value::as_str)
        .ok_or(AppError::bug("an account email without its data"))
}

fn drop(why: &str) -> AppResult<EmailPlan> {
    Ok(EmailPlan::Drop(why.to_string()))
}

fn utc(at: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(at, Utc)
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

fn letter(row: &OutboxRow, to: lettre::message::Mailbox, rendered: Rendered) -> EmailPlan {
    EmailPlan::Send(Box::new(Letter {
        id: row.id.clone(),
        to,
        rendered,
        discreet: false,
        unsubscribe_token: None,
    }))
}

/// `invitation`: to the invited address, while the invitation is pending.
fn invitation(conn: &mut DbConnection, state: &AppState, row: &OutboxRow) -> AppResult<EmailPlan> {
    let clock = state.clock;
    let data: Value = serde_json::from_str(&row.data).map_err(AppError::internal)?;
    let Some(invitation) = invitations::find(conn, field(&data, "invitation_id")?)? else {
        return drop("the invitation is gone");
    };
    if invitation.status_at(clock.now()) != InvitationStatus::Pending {
        return drop("the invitation is no longer pending");
    }
    let Some(token) = state.links.token_for(field(&data, "salt")?) else {
        return drop("the link cannot be made");
    };
    if links::hash(&token) != invitation.token_hash {
        return drop("the link cannot be made again (the service's secret changed)");
    }
    let Some(to) = mailbox(None, &invitation.email) else {
        return drop("the address is not one SMTP takes");
    };
    let by = match &invitation.invited_by {
        Some(id) => members::find(conn, id)?.map(|m| m.display_name),
        None => None,
    }
    .unwrap_or_else(|| "A leader".into());
    let team = match &invitation.team_id {
        Some(id) => teams::find_live(conn, id).ok().map(|t| t.name),
        None => None,
    };
    let role = match invitation.role {
        Role::Leader => " as a leader",
        _ => "",
    };
    let team = team
        .map(|t| format!(", in the team {t}"))
        .unwrap_or_default();
    let body = format!(
        "{by} invited you to join the intercession ministry{role}{team}. Follow the link to \
         choose your name and password; it works until {}.",
        utc(invitation.expires_at)
    );
    Ok(letter(
        row,
        to,
        Rendered {
            title: "You are invited to pray with us".into(),
            body,
            link: Some(format!("/api/v1/invitations/{token}")),
        },
    ))
}

/// `password.reset`: to the member whose address it names (nothing for a stranger's), with a
/// link that works for an hour from the request.
fn password_reset(
    conn: &mut DbConnection,
    state: &AppState,
    row: &OutboxRow,
) -> AppResult<EmailPlan> {
    let clock = state.clock;
    let data: Value = serde_json::from_str(&row.data).map_err(AppError::internal)?;
    let email = field(&data, "email")?;
    let salt = field(&data, "salt")?;
    let Some((member, token)) =
        password_reset::prepare(conn, &state.links, email, salt, row.created_at, clock.now())?
    else {
        return drop("no link to send: not an active member's address, or the hour is over");
    };
    let Some(to) = mailbox(Some(member.display_name.clone()), &member.email) else {
        return drop("the address is not one SMTP takes");
    };
    Ok(letter(
        row,
        to,
        Rendered {
            title: "Reset your password".into(),
            body: format!(
                "Someone (we hope you) asked to reset the password of your account. Follow the \
                 link to choose a new one; it works until {}, once. If it was not you, ignore \
                 this email: your password stays as it is.",
                utc(row.created_at + password_reset::LINK_LIFETIME)
            ),
            link: Some(format!("/api/v1/auth/password-reset/{token}")),
        },
    ))
}

/// `password.changed`: to the member, after any change of their password.
fn password_changed(conn: &mut DbConnection, row: &OutboxRow) -> AppResult<EmailPlan> {
    let member_id = row
        .member_id
        .as_deref()
        .ok_or(AppError::bug("password.changed without a member"))?;
    let Some(member) = members::find(conn, member_id)? else {
        return drop("the recipient's account is gone");
    };
    let Some(to) = mailbox(Some(member.display_name.clone()), &member.email) else {
        return drop("the address is not one SMTP takes");
    };
    Ok(letter(
        row,
        to,
        Rendered {
            title: "Your password was changed".into(),
            body: format!(
                "The password of your account was changed at {}, and every device was signed \
                 out. If you did not do this, reset your password at once and tell a leader.",
                utc(row.created_at)
            ),
            link: None,
        },
    ))
}
