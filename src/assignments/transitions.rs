//! Who may move an assignment where. Pure, so each rule is tested without a database.

use super::model::AssignmentStatus::{self, *};
use crate::error::{AppError, ProblemType};

/// How the caller stands to an assignment.
#[derive(Debug, Default, Clone, Copy)]
pub struct Standing {
    /// The intercessor assigned by name, or for a team assignment one of that team's leaders.
    pub assignee: bool,
    /// The member who made the assignment.
    pub assigner: bool,
    /// A church-wide leader.
    pub leader: bool,
}

/// Checks the caller may move an assignment from `from` to `to`: 403 when the move is not theirs
/// to make, 409 when the assignment's state does not allow it.
pub fn check(from: AssignmentStatus, to: AssignmentStatus, who: Standing) -> Result<(), AppError> {
    let (rightful, allowed_from): (bool, &[AssignmentStatus]) = match to {
        Accepted | Declined => (who.assignee, &[Assigned]),
        Completed => (who.assignee, &[Accepted]),
        Released => (who.assigner || who.leader, &[Assigned, Accepted]),
        Assigned => (who.assignee || who.assigner || who.leader, &[]),
    };
    if !rightful {
        return Err(AppError::Forbidden(match to {
            Released => "Only the assigner or a leader may release an assignment.".into(),
            _ => "Only the assignee may accept, decline or complete an assignment.".into(),
        }));
    }
    if !allowed_from.contains(&from) {
        return Err(AppError::conflict(
            ProblemType::InvalidTransition,
            format!(
                "An assignment that is {} cannot become {}.",
                from.as_str(),
                to.as_str()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSIGNEE: Standing = Standing {
        assignee: true,
        assigner: false,
        leader: false,
    };
    const ASSIGNER: Standing = Standing {
        assignee: false,
        assigner: true,
        leader: false,
    };
    const LEADER: Standing = Standing {
        assignee: false,
        assigner: false,
        leader: true,
    };
    const NOBODY: Standing = Standing {
        assignee: false,
        assigner: false,
        leader: false,
    };

    fn status(r: Result<(), AppError>) -> u16 {
        use actix_web::ResponseError;
        match r {
            Ok(()) => 200,
            Err(e) => e.status_code().as_u16(),
        }
    }

    #[test]
    fn the_assignee_accepts_declines_and_completes() {
        assert_eq!(status(check(Assigned, Accepted, ASSIGNEE)), 200);
        assert_eq!(status(check(Assigned, Declined, ASSIGNEE)), 200);
        assert_eq!(status(check(Accepted, Completed, ASSIGNEE)), 200);
        assert_eq!(status(check(Assigned, Completed, ASSIGNEE)), 409);
        assert_eq!(status(check(Accepted, Declined, ASSIGNEE)), 409);
        assert_eq!(status(check(Declined, Accepted, ASSIGNEE)), 409);
        assert_eq!(status(check(Completed, Accepted, ASSIGNEE)), 409);
    }

    #[test]
    fn only_the_assignee_makes_the_assignees_moves() {
        for who in [ASSIGNER, LEADER, NOBODY] {
            assert_eq!(status(check(Assigned, Accepted, who)), 403);
            assert_eq!(status(check(Assigned, Declined, who)), 403);
            assert_eq!(status(check(Accepted, Completed, who)), 403);
        }
    }

    #[test]
    fn the_assigner_or_a_leader_releases_live_assignments() {
        for who in [ASSIGNER, LEADER] {
            assert_eq!(status(check(Assigned, Released, who)), 200);
            assert_eq!(status(check(Accepted, Released, who)), 200);
            assert_eq!(status(check(Declined, Released, who)), 409);
            assert_eq!(status(check(Completed, Released, who)), 409);
            assert_eq!(status(check(Released, Released, who)), 409);
        }
        assert_eq!(status(check(Assigned, Released, ASSIGNEE)), 403);
    }

    #[test]
    fn nothing_goes_back_to_assigned() {
        for from in AssignmentStatus::ALL {
            assert_eq!(status(check(*from, Assigned, LEADER)), 409);
        }
    }
}
