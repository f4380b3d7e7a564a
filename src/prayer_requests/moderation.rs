//! Moderation: a leader approves or rejects a request, and anyone who can see one may flag it.

use actix_web::{post, web, HttpResponse};

use super::access;
use super::lifecycle;
use super::model::{PrayerRequest, ReasonInput, RequestChanges, RequestRow, Status, REASON_MAX};
use super::routes::{change_and_render, viewer_of};
use super::store;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::http::validate;
use crate::http::Json;
use crate::state::AppState;

/// A leader's decision on a request they can see: the caller must be a leader (checked before
/// anything is read), `decide` says what changes (or why not), and the request comes back as the
/// leader sees it.
async fn moderate(
    state: &AppState,
    caller: Caller,
    id: String,
    decide: impl FnOnce(&RequestRow) -> AppResult<RequestChanges> + Send + 'static,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    access::require_moderator(&user)?;
    let viewer = viewer_of(&user);
    let channels = state.channels;
    let view = state
        .db
        .write(move |conn| {
            let row = store::find_visible(conn, &viewer, &id)?;
            let changes = decide(&row)?;
            change_and_render(conn, channels, &viewer, &row, &changes, clock.now())
        })
        .await?;
    Ok(web::Json(view))
}

/// Approve a request (leaders): a pending one goes `active`, a flagged one is released again,
/// a rejected one is restored.
#[utoipa::path(
    tag = "Moderation",
    params(("id" = String, Path, description = "Prayer request id")),
    responses(
        (status = 200, description = "The approved request", body = PrayerRequest),
        (status = 403, description = "The caller is not a leader"),
        (status = 409, description = "Nothing to approve"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/approve")]
pub async fn approve_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    moderate(&state, caller, id.into_inner(), move |row| {
        let status = row.status_on(clock.now().date());
        let rejected = row.rejection_reason.is_some();
        lifecycle::can_approve(status, row.flagged, rejected)?;
        Ok(RequestChanges {
            status: (status == Status::Pending || rejected).then_some(Status::Active),
            flagged: Some(false),
            flag_reason: Some(None),
            flagged_at: Some(None),
            rejection_reason: Some(None),
            updated_at: Some(clock.now()),
            ..Default::default()
        })
    })
    .await
}

/// Reject a request (leaders): it is `closed`, the reason shown to its requester and leaders.
#[utoipa::path(
    tag = "Moderation",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = ReasonInput,
    responses(
        (status = 200, description = "The rejected request", body = PrayerRequest),
        (status = 403, description = "The caller is not a leader"),
        (status = 409, description = "Already answered or closed"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/reject")]
pub async fn reject_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<ReasonInput>,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    // The reason is checked once the caller is known to be a leader (403 before 422).
    moderate(&state, caller, id.into_inner(), move |row| {
        let reason = validate::line("reason", &input.reason, 1, REASON_MAX)
            .map_err(|e| AppError::Validation(vec![e]))?;
        lifecycle::can_reject(row.status_on(clock.now().date()))?;
        Ok(RequestChanges {
            status: Some(Status::Closed),
            rejection_reason: Some(Some(reason)),
            flagged: Some(false),
            updated_at: Some(clock.now()),
            ..Default::default()
        })
    })
    .await
}

/// Report a request as inappropriate (anyone who can see it).
///
/// It leaves the congregation's view at once, until a leader approves it again. The reason is
/// shown to leaders only.
#[utoipa::path(
    tag = "Moderation",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = ReasonInput,
    responses((status = 204, description = "Flagged for the leaders")),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/flag")]
pub async fn flag_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<ReasonInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let reason = validate::text("reason", &input.reason, 1, REASON_MAX)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let viewer = viewer_of(&user);
    state
        .db
        .write(move |conn| {
            let row = store::find_visible(conn, &viewer, &id)?;
            let at = clock.now();
            let changes = RequestChanges {
                flagged: Some(true),
                flag_reason: Some(Some(reason)),
                flagged_at: Some(Some(at)),
                updated_at: Some(at),
                ..Default::default()
            };
            store::update(conn, &row.id, &changes)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
