//! HTTP handlers for assignments of one request: list them and move one along. Making them is in
//! `assigning`, the overviews (mine, a team's) in `overviews`.

use actix_web::{get, patch, web};
use utoipa::OpenApi;

use super::access;
use super::model::{Assignment, AssignmentRow, AssignmentStatus, UpdateAssignmentInput};
use super::notices;
use super::store;
use super::transitions;
use super::{assigning, overviews};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::http::validate;
use crate::http::{Json, Page, PageParams, PageQuery};
use crate::outbox;
use crate::prayer_requests::model::REASON_MAX;
use crate::prayer_requests::store as requests;
use crate::prayer_requests::visibility::Viewer;
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(
    assigning::create_assignment,
    assigning::auto_assign,
    list_request_assignments,
    update_assignment,
    overviews::my_assignments,
    overviews::team_dashboard
))]
pub struct AssignmentsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(assigning::auto_assign)
        .service(assigning::create_assignment)
        .service(list_request_assignments)
        .service(update_assignment)
        .service(overviews::my_assignments)
        .service(overviews::team_dashboard);
}

/// Renders an assignment for `viewer`: a decline's reason is for the assigner, the assignee and
/// leaders.
pub(super) fn render(row: AssignmentRow, viewer: &Viewer) -> AppResult<Assignment> {
    let involved = viewer.leader
        || row.member_id.as_deref() == Some(&viewer.id)
        || row.assigned_by.as_deref() == Some(&viewer.id);
    Ok(Assignment {
        status: row.status,
        reason: if involved { row.reason } else { None },
        id: row.id,
        request_id: row.request_id,
        team_id: row.team_id,
        member_id: row.member_id,
        assigned_by: row.assigned_by,
        created_at: to_utc(row.created_at),
        updated_at: to_utc(row.updated_at),
    })
}

/// The assignments of a request, in the order they were made (anyone who can see the request).
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Prayer request id"), PageQuery),
    responses((status = 200, description = "A page of assignments", body = Page<Assignment>)),
    security(("bearer" = []))
)]
#[get("/prayer-requests/{id}/assignments")]
pub async fn list_request_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Assignment>>> {
    let user = caller.member(&state.db).await?;
    let viewer = Viewer::from(&user);
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db
        .read(move |conn| {
            let request = requests::find_visible(conn, &viewer, &id)?;
            let rows = store::list_for_request(conn, &request.id, after.as_deref(), fetch)?;
            rows.into_iter()
                .map(|r| Ok((r.id.clone(), render(r, &viewer)?)))
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(page.page(rows, |(id, _)| id.clone(), |(_, a)| a)))
}

/// Move an assignment along: the assignee accepts, declines (with a reason) or completes; the
/// assigner or a leader releases. Any other move is 409.
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Assignment id")),
    request_body = UpdateAssignmentInput,
    responses(
        (status = 200, description = "The updated assignment", body = Assignment),
        (status = 403, description = "Not this move's rightful actor"),
        (status = 409, description = "The assignment's state does not allow this move"),
    ),
    security(("bearer" = []))
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateAssignmentInput>,
) -> AppResult<web::Json<Assignment>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let reason = match input.reason.as_deref() {
        Some(r) => Some(
            validate::text("reason", r, 1, REASON_MAX)
                .map_err(|e| AppError::Validation(vec![e]))?,
        ),
        None => None,
    };
    if input.status == AssignmentStatus::Declined && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "is required to decline: the assigner reads it",
        ));
    }
    let viewer = Viewer::from(&user);
    let channels = state.channels;
    let assignment = state
        .db
        .write(move |conn| {
            let row = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            let who = access::standing(conn, &user, &row)?;
            let from = row.status;
            transitions::check(from, input.status, who)?;
            let reason = match input.status {
                AssignmentStatus::Declined => reason,
                _ => row.reason.clone(),
            };
            let at = clock.now();
            store::set_status(conn, &row.id, input.status, reason, at)?;
            let row = store::find(conn, &row.id)?.ok_or(AppError::NotFound)?;
            if row.status == AssignmentStatus::Declined {
                let news = notices::declined(conn, &row, &user.id)?;
                outbox::tell(conn, at, channels, &[news])?;
            }
            render(row, &viewer)
        })
        .await?;
    Ok(web::Json(assignment))
}
