//! The life of a request: which actions each status allows. Pure, so every transition is tested
//! here without a database.
//!
//! ```text
//! pending --approve--> active --answer--> answered --reopen--> active
//!    |                   |  \--(expires_on passes)--> expired --reopen--> active
//!    \--reject--> closed \--reject--> closed --reopen (not after a rejection)--> active
//! ```

use super::model::Status;
use crate::error::{AppError, ProblemType};

fn refuse(detail: String) -> AppError {
    AppError::conflict(ProblemType::InvalidState, detail)
}

/// "I prayed" is for requests still being prayed for.
pub fn can_pray(status: Status) -> Result<(), AppError> {
    match status {
        Status::Active => Ok(()),
        other => Err(refuse(format!(
            "The request is {}: prayers are logged on active requests.",
            other.as_str()
        ))),
    }
}

/// A leader approves a pending request, or a flagged one to release it again.
pub fn can_approve(status: Status, flagged: bool, rejected: bool) -> Result<(), AppError> {
    if status == Status::Pending || flagged || rejected {
        Ok(())
    } else {
        Err(refuse(
            "There is nothing to approve: the request is neither pending, flagged nor rejected."
                .into(),
        ))
    }
}

/// A leader rejects a request that is not already over.
pub fn can_reject(status: Status) -> Result<(), AppError> {
    match status {
        Status::Pending | Status::Active | Status::Expired => Ok(()),
        other => Err(refuse(format!(
            "The request is already {}.",
            other.as_str()
        ))),
    }
}

/// Any request not already answered may be marked answered.
pub fn can_answer(status: Status) -> Result<(), AppError> {
    match status {
        Status::Answered => Err(refuse("The request is already answered.".into())),
        Status::Pending => Err(refuse(
            "The request is still pending a leader's approval.".into(),
        )),
        _ => Ok(()),
    }
}

/// Answered, closed and expired requests can be reopened; a rejected one only by a leader, so
/// that reopening cannot undo moderation.
pub fn can_reopen(status: Status, rejected: bool, by_leader: bool) -> Result<(), AppError> {
    match status {
        Status::Answered | Status::Expired => Ok(()),
        Status::Closed if rejected && !by_leader => Err(refuse(
            "A leader closed this request; ask a leader to reopen it.".into(),
        )),
        Status::Closed => Ok(()),
        other => Err(refuse(format!(
            "The request is {}: only answered, closed or expired requests reopen.",
            other.as_str()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn prayers_are_logged_on_active_requests_only() {
        assert!(can_pray(Active).is_ok());
        for s in [Pending, Answered, Closed, Expired] {
            assert!(can_pray(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn approval_needs_something_to_approve() {
        assert!(can_approve(Pending, false, false).is_ok());
        assert!(can_approve(Active, true, false).is_ok());
        assert!(can_approve(Closed, false, true).is_ok());
        assert!(can_approve(Active, false, false).is_err());
        assert!(can_approve(Answered, false, false).is_err());
    }

    #[test]
    fn rejection_applies_to_requests_not_yet_over() {
        for s in [Pending, Active, Expired] {
            assert!(can_reject(s).is_ok(), "{s:?}");
        }
        for s in [Answered, Closed] {
            assert!(can_reject(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn answering_twice_is_a_conflict() {
        assert!(can_answer(Active).is_ok());
        assert!(can_answer(Expired).is_ok());
        assert!(can_answer(Closed).is_ok());
        assert!(can_answer(Answered).is_err());
        assert!(can_answer(Pending).is_err());
    }

    #[test]
    fn reopening_needs_an_ended_request_and_respects_rejection() {
        for s in [Answered, Closed, Expired] {
            assert!(can_reopen(s, false, false).is_ok(), "{s:?}");
        }
        for s in [Pending, Active] {
            assert!(can_reopen(s, false, true).is_err(), "{s:?}");
        }
        assert!(can_reopen(Closed, true, false).is_err());
        assert!(can_reopen(Closed, true, true).is_ok());
    }
}
