//! Who may do what with a prayer request they can see. Seeing it at all is the visibility rule
//! (`visibility`, in SQL: a request one may not see is a 404); these are the rules after that,
//! each called first in its handler, before any work.

use super::model::RequestRow;
use crate::auth::{AuthUser, Role};
use crate::error::AppError;

/// What a caller who can see a request asks to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Change its fields (`PATCH`), answer it, reopen it.
    Change,
    /// See who prayed and when.
    SeePrayers,
    /// Post an update on it.
    PostUpdate,
    /// Delete it.
    Delete,
}

/// Why the caller may not: typed, so handlers and tests tell the cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    RequesterOrLeaderOnly(Action),
    RequesterOrAdminOnly,
    LeaderOnly,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        let message = match refusal {
            Refusal::RequesterOrLeaderOnly(Action::SeePrayers) => {
                "Only the requester or a leader may see who prayed."
            }
            Refusal::RequesterOrLeaderOnly(Action::PostUpdate) => {
                "Only the requester or a leader may post updates."
            }
            Refusal::RequesterOrLeaderOnly(_) => "Only the requester or a leader may do this.",
            Refusal::RequesterOrAdminOnly => "Only the requester or an admin may delete a request.",
            Refusal::LeaderOnly => "Only leaders may do this.",
        };
        AppError::Forbidden(message.into())
    }
}

/// May `user` do `action` with `row` (which they can see)?
pub fn check(user: &AuthUser, row: &RequestRow, action: Action) -> Result<(), Refusal> {
    let requester = row.is_requester(&user.id);
    let allowed = match action {
        Action::Change | Action::SeePrayers | Action::PostUpdate => {
            requester || user.role.is_leader()
        }
        Action::Delete => requester || user.role == Role::Admin,
    };
    match (allowed, action) {
        (true, _) => Ok(()),
        (false, Action::Delete) => Err(Refusal::RequesterOrAdminOnly),
        (false, action) => Err(Refusal::RequesterOrLeaderOnly(action)),
    }
}

/// Approving and rejecting (moderation) is for leaders, whatever the request: checked before it
/// is read.
pub fn require_moderator(user: &AuthUser) -> Result<(), AppError> {
    if user.role.is_leader() {
        Ok(())
    } else {
        Err(Refusal::LeaderOnly.into())
    }
}

/// [`check`], as the handler's error.
pub fn require(user: &AuthUser, row: &RequestRow, action: Action) -> Result<(), AppError> {
    check(user, row, action).map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::member::MemberProfile;
    use crate::prayer_requests::model::{Kind, Status, Visibility};

    fn user(id: &str, role: Role) -> AuthUser {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        AuthUser {
            id: id.into(),
            role,
            member: MemberProfile {
                id: id.into(),
                email: format!("{id}@example.org"),
                display_name: id.into(),
                role,
                active: true,
                timezone: "UTC".into(),
                max_active_assignments: None,
                created_at: at,
            },
        }
    }

    fn request_by(requester: &str) -> RequestRow {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        RequestRow {
            id: "r".into(),
            title: "t".into(),
            body: "b".into(),
            category_id: "c".into(),
            kind: Kind::Prayer,
            on_behalf_of: None,
            visibility: Visibility::Congregation,
            urgent: false,
            anonymous: false,
            allow_comments: false,
            status: Status::Active,
            expires_on: at.date(),
            prayer_count: 0,
            intercessor_count: 0,
            last_prayed_at: None,
            requester_id: Some(requester.into()),
            submitter_name: None,
            submitter_email: None,
            flagged: false,
            flag_reason: None,
            flagged_at: None,
            rejection_reason: None,
            answered_at: None,
            testimony: None,
            share_testimony: false,
            created_at: at,
            updated_at: at,
        }
    }

    /// Each rule's audience, and the typed reason for everyone else.
    #[test]
    fn the_requester_leaders_and_admins_each_get_what_is_theirs() {
        let row = request_by("rita");
        let rita = user("rita", Role::Member);
        let other = user("omar", Role::Member);
        let leader = user("lea", Role::Leader);
        let admin = user("ada", Role::Admin);
        for action in [Action::Change, Action::SeePrayers, Action::PostUpdate] {
            assert_eq!(check(&rita, &row, action), Ok(()));
            assert_eq!(check(&leader, &row, action), Ok(()));
            assert_eq!(check(&admin, &row, action), Ok(()));
            assert_eq!(
                check(&other, &row, action),
                Err(Refusal::RequesterOrLeaderOnly(action))
            );
        }
        assert_eq!(check(&rita, &row, Action::Delete), Ok(()));
        assert_eq!(check(&admin, &row, Action::Delete), Ok(()));
        assert_eq!(
            check(&leader, &row, Action::Delete),
            Err(Refusal::RequesterOrAdminOnly)
        );
        assert_eq!(
            check(&other, &row, Action::Delete),
            Err(Refusal::RequesterOrAdminOnly)
        );
        assert!(require_moderator(&leader).is_ok());
        assert!(require_moderator(&rita).is_err());
    }
}
