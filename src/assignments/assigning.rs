//! Putting a request in someone's hands: by name or to a team, and auto-assignment to the team
//! members who carry least. Both check the request is still assignable and the member's limit with
//! their row locked.

use std::collections::HashSet;

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDateTime;

use super::access;
use super::model::{
    Assignment, AssignmentRow, AssignmentStatus, AutoAssignInput, AutoAssigned,
    CreateAssignmentInput,
};
use super::notices;
use super::routes::render;
use super::store;
use crate::accounts::store as members;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::Json;
use crate::outbox;
use crate::prayer_requests::model::{RequestRow, Status};
use crate::prayer_requests::store as requests;
use crate::prayer_requests::visibility::Viewer;
use crate::state::AppState;
use crate::teams::store as teams;

/// A request can be put in someone's hands while it is still being prayed for (or awaiting
/// approval).
fn require_assignable(request: &RequestRow, at: NaiveDateTime) -> AppResult<()> {
    match request.status_on(at.date()) {
        Status::Pending | Status::Active => Ok(()),
        other => Err(AppError::conflict(
            ProblemType::InvalidState,
            format!(
                "The request is {}: only pending or active requests are assigned.",
                other.as_str()
            ),
        )),
    }
}

/// The member's limit, checked with their row locked: 409 when they are already at it.
fn require_room(conn: &mut DbConnection, member_id: &str) -> AppResult<()> {
    store::lock_members(conn, &[member_id.to_string()])?;
    let member = members::find(conn, member_id)?.ok_or(AppError::NotFound)?;
    if let Some(max) = member.max_active_assignments {
        let live = store::live_counts(conn, &[member_id.to_string()])?
            .get(member_id)
            .copied()
            .unwrap_or(0);
        if live >= i64::from(max) {
            return Err(AppError::conflict(
                ProblemType::AtLimit,
                format!(
                    "{} already carries {live} assignment(s), their limit.",
                    member.display_name
                ),
            ));
        }
    }
    Ok(())
}

fn new_row(
    request_id: &str,
    team_id: Option<String>,
    member_id: Option<String>,
    by: &str,
    at: NaiveDateTime,
) -> AssignmentRow {
    AssignmentRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: request_id.to_string(),
        team_id,
        member_id,
        status: AssignmentStatus::Assigned,
        reason: None,
        assigned_by: Some(by.to_string()),
        created_at: at,
        updated_at: at,
    }
}

/// Assign a request to a team, or to a named intercessor.
///
/// A leader assigns any request to any team or member. A team leader assigns requests they can
/// see, to their own team or its members. Assigning a member already at their
/// `max_active_assignments`, or a target that already holds the request, is 409.
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = CreateAssignmentInput,
    responses(
        (status = 201, description = "The assignment", body = Assignment),
        (status = 403, description = "Not a leader, or not a team leader of this team or member"),
        (status = 409, description = "At the member's limit, already assigned, or the request is over"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<CreateAssignmentInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    if input.team_id.is_none() && input.member_id.is_none() {
        return Err(AppError::invalid(
            "team_id",
            "give a team_id, a member_id, or both",
        ));
    }
    let viewer = Viewer::from(&user);
    let channels = state.channels;
    let assignment = state
        .db
        .write(move |conn| {
            let request = requests::find_visible(conn, &viewer, &id)?;
            let at = clock.now();
            // Who and what is targeted, and whether this caller may target it.
            let team_id = match &input.team_id {
                Some(t) => Some(
                    teams::find_live(conn, t)
                        .map_err(|_| AppError::invalid("team_id", "there is no such team"))?
                        .id,
                ),
                None => None,
            };
            let member =
                match &input.member_id {
                    Some(m) => Some(members::find(conn, m)?.filter(|m| m.active).ok_or_else(
                        || AppError::invalid("member_id", "there is no such active member"),
                    )?),
                    None => None,
                };
            let team_id = match (&member, team_id) {
                (Some(m), Some(t)) => {
                    if teams::membership(conn, &t, &m.id)?.is_none() {
                        return Err(AppError::invalid(
                            "member_id",
                            "is not a member of that team",
                        ));
                    }
                    Some(t)
                }
                (Some(m), None) if !user.role.is_leader() => {
                    // A team leader assigns their own team's members: find the team they share.
                    let mine = teams::roles_of(conn, &user.id)?;
                    let theirs = teams::roles_of(conn, &m.id)?;
                    let mut shared: Vec<&String> = mine
                        .iter()
                        .filter(|(t, r)| {
                            **r == crate::teams::model::TeamRole::Leader && theirs.contains_key(*t)
                        })
                        .map(|(t, _)| t)
                        .collect();
                    shared.sort();
                    shared.first().map(|t| (*t).clone())
                }
                (_, t) => t,
            };
            access::require_may_assign(conn, &user, team_id.as_deref())?;
            require_assignable(&request, at)?;
            store::lock_request(conn, &request.id)?;
            match &member {
                Some(m) => {
                    let (live, _) = store::members_on_request(conn, &request.id)?;
                    if live.contains(&m.id) {
                        return Err(AppError::conflict(
                            ProblemType::AlreadyAssigned,
                            "This member already holds this request.",
                        ));
                    }
                    require_room(conn, &m.id)?;
                }
                None => {
                    let t = team_id.as_deref().expect("a team when no member");
                    if store::team_holds(conn, &request.id, t)? {
                        return Err(AppError::conflict(
                            ProblemType::AlreadyAssigned,
                            "This team already holds this request.",
                        ));
                    }
                }
            }
            let row = new_row(&request.id, team_id, member.map(|m| m.id), &user.id, at);
            store::insert(conn, &row)?;
            let news = notices::created(conn, &row)?;
            outbox::tell(conn, at, channels, &[news])?;
            render(row, &viewer)
        })
        .await?;
    Ok(HttpResponse::Created().json(assignment))
}

/// Assign a request to the team members who carry least (a leader, or that team's team leader).
///
/// Picks `count` active members of the team with the fewest live assignments, least recently
/// assigned first on a tie; skips members at their limit, members already holding the request and
/// members who declined it. All or nothing: when the team cannot take `count`, 409 says how many it
/// could (`available`).
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = AutoAssignInput,
    responses(
        (status = 201, description = "The new assignments", body = AutoAssigned),
        (status = 403, description = "Neither a leader nor this team's team leader"),
        (status = 409, description = "The team cannot take that many; `available` says how many it can"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/assignments/auto")]
pub async fn auto_assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<AutoAssignInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    if !(1..=100).contains(&input.count) {
        return Err(AppError::invalid("count", "must be from 1 to 100"));
    }
    let viewer = Viewer::from(&user);
    let channels = state.channels;
    let placed = state
        .db
        .write(move |conn| {
            let request = requests::find_visible(conn, &viewer, &id)?;
            let team = teams::find_live(conn, &input.team_id)
                .map_err(|_| AppError::invalid("team_id", "there is no such team"))?;
            access::require_lead(conn, &user, &team.id)?;
            let at = clock.now();
            require_assignable(&request, at)?;
            store::lock_request(conn, &request.id)?;
            let team_members = teams::member_ids(conn, &team.id)?;
            store::lock_members(conn, &team_members)?;
            let (holding, declined) = store::members_on_request(conn, &request.id)?;
            let skip: HashSet<String> = holding.into_iter().chain(declined).collect();
            let live = store::live_counts(conn, &team_members)?;
            let last = store::last_assigned(conn, &team_members)?;
            let mut candidates = Vec::new();
            for member_id in team_members.iter().filter(|m| !skip.contains(*m)) {
                let Some(member) = members::find(conn, member_id)?.filter(|m| m.active) else {
                    continue;
                };
                let carrying = live.get(member_id).copied().unwrap_or(0);
                if member
                    .max_active_assignments
                    .is_some_and(|max| carrying >= i64::from(max))
                {
                    continue;
                }
                candidates.push((carrying, last.get(member_id).copied(), member.id));
            }
            // Fewest live assignments; then least recently assigned (never assigned first); then id.
            candidates.sort();
            let wanted = input.count as usize;
            if candidates.len() < wanted {
                return Err(AppError::NotEnough {
                    detail: format!(
                        "The team can take {} more intercessor(s) for this request, not {wanted}.",
                        candidates.len()
                    ),
                    available: candidates.len() as i64,
                });
            }
            let mut placed = Vec::with_capacity(wanted);
            let mut announced = Vec::with_capacity(wanted);
            for (_, _, member_id) in candidates.into_iter().take(wanted) {
                let row = new_row(
                    &request.id,
                    Some(team.id.clone()),
                    Some(member_id),
                    &user.id,
                    at,
                );
                store::insert(conn, &row)?;
                announced.push(notices::created(conn, &row)?);
                placed.push(render(row, &viewer)?);
            }
            outbox::tell(conn, at, channels, &announced)?;
            Ok(placed)
        })
        .await?;
    Ok(HttpResponse::Created().json(AutoAssigned { items: placed }))
}
