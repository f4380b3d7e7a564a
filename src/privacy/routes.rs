//! HTTP handlers for the audit log, export and erasure.

use actix_web::{delete, get, web, HttpResponse};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::audit::{self, AuditEvent, AuditKind, AuditQuery};
use super::erasure;
use super::export::{self, Export};
use crate::accounts;
use crate::accounts::model::Member;
use crate::auth::roles::require_admin;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::http::{Json, Page, PageParams, Query};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(list_audit_events, export_me, erase_me))]
pub struct PrivacyApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_audit_events)
        .service(export_me)
        .service(erase_me);
}

/// The audit log, newest first (admins). Filter by `kind`, `actor_id` and time.
#[utoipa::path(
    tag = "Privacy",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit events", body = Page<AuditEvent>),
        (status = 403, description = "The caller is not an admin"),
    ),
    security(("bearer" = []))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> AppResult<web::Json<Page<AuditEvent>>> {
    let user = caller.member(&state.db).await?;
    require_admin(&user)?;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let page = state
        .db
        .read(move |conn| {
            let rows = audit::list(conn, &query, page.after.as_deref(), page.fetch())?;
            let events = rows
                .into_iter()
                .map(AuditEvent::try_from)
                .collect::<AppResult<Vec<_>>>()?;
            Ok(page.page(events, |e| e.id.clone(), |e| e))
        })
        .await?;
    Ok(web::Json(page))
}

/// Everything the service holds about me, as JSON.
#[utoipa::path(
    tag = "Privacy",
    responses((status = 200, description = "My data", body = Export)),
    security(("bearer" = []))
)]
#[get("/me/export")]
pub async fn export_me(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let doc = state
        .db
        .write(move |conn| {
            let member = Member::try_from(user.member.clone())?;
            let doc = export::export(conn, member, user.role.is_leader(), clock.now_utc())?;
            audit::record(
                conn,
                AuditKind::Exported,
                Some(&user.id),
                "member",
                std::slice::from_ref(&user.id),
                None,
                clock.now(),
            )?;
            Ok(doc)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "content-disposition",
            "attachment; filename=\"intercede-export.json\"",
        ))
        .json(doc))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseInput {
    /// The account's password, to confirm.
    pub password: String,
}

/// Erase my account.
///
/// My profile, sessions, team memberships, signups, check-ins and fast commitments are deleted. My
/// prayer requests stay for the intercessors who carry them, with me removed as requester; prayers,
/// updates and comments I wrote stay, unattributed. The last active admin cannot erase their
/// account (409).
#[utoipa::path(
    tag = "Privacy",
    request_body = EraseInput,
    responses(
        (status = 204, description = "Erased"),
        (status = 409, description = "The caller is the last active admin"),
        (status = 422, description = "Wrong password"),
    ),
    security(("bearer" = []))
)]
#[delete("/me")]
pub async fn erase_me(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<EraseInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    if !accounts::is_own_password(&state.db, &user.id, input.password).await? {
        return Err(AppError::invalid(
            "password",
            "is not the account's password",
        ));
    }
    state
        .db
        .write(move |conn| erasure::erase(conn, &user.id, clock.now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
