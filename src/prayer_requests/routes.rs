//! HTTP handlers for prayer requests: create, read, list, edit, delete, and the lifecycle actions
//! (answer, reopen). The public form is in `public_form`, approval, rejection and flags in
//! `moderation`; all are registered here.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use utoipa::OpenApi;

use super::access::{self, Action};
use super::lifecycle;
use super::model::{
    search_text, AnswerInput, CreateRequestInput, Kind, PrayerRequest, RequestChanges,
    RequestListQuery, RequestRow, Sort, Status, UpdateRequestInput, Visibility, BODY_MAX,
    ON_BEHALF_OF_MAX, TESTIMONY_MAX, TITLE_MAX,
};
use super::notices;
use super::reads;
use super::store::{self, ListCursor, ListFilter};
use super::views::Context;
use super::visibility::Viewer;
use crate::auth::{AuthUser, Caller};
use crate::categories::store as categories;
use crate::categories::CategoryRow;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::validate::{self, Validator};
use crate::http::{Json, JsonOrEmpty, Page, PageParams, Query};
use crate::outbox::{self, Channel};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(
    create_request,
    list_requests,
    get_request,
    update_request,
    delete_request,
    super::public_form::submit_public_request,
    super::moderation::approve_request,
    super::moderation::reject_request,
    super::moderation::flag_request,
    answer_request,
    reopen_request,
))]
pub struct RequestsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_request)
        .service(list_requests)
        .service(get_request)
        .service(update_request)
        .service(delete_request)
        .service(super::public_form::submit_public_request)
        .service(super::moderation::approve_request)
        .service(super::moderation::reject_request)
        .service(super::moderation::flag_request)
        .service(answer_request)
        .service(reopen_request);
}

/// Reads one request as `viewer` may see it (404 otherwise) and renders it.
pub fn render(
    conn: &mut DbConnection,
    viewer: &Viewer,
    row: RequestRow,
    now: NaiveDateTime,
) -> AppResult<PrayerRequest> {
    let today = now.date();
    let ctx = Context::load(conn, viewer, today, [row.requester_id.clone()])?
        .with_categories(conn, [&row.category_id])?;
    Ok(ctx.request(row))
}

/// Applies `changes` to the request `id`, then reads it back and renders it for `viewer`: the
/// tail of every action that changes a request, which announces it when it became urgent
/// (written for `channels`).
pub(super) fn change_and_render(
    conn: &mut DbConnection,
    channels: &[Channel],
    viewer: &Viewer,
    before: &RequestRow,
    changes: &RequestChanges,
    now: NaiveDateTime,
) -> AppResult<PrayerRequest> {
    store::update(conn, &before.id, changes)?;
    let row = store::get(conn, &before.id)?;
    notices::if_now_urgent(conn, channels, Some(before), &row, &viewer.id, now)?;
    render(conn, viewer, row, now)
}

pub(super) fn category_id(
    conn: &mut DbConnection,
    name: &str,
) -> AppResult<Result<String, FieldError>> {
    Ok(category(conn, name)?.map(|c| c.id))
}

/// The category a request names (trimmed, case-insensitive), or the field error to report.
fn category(conn: &mut DbConnection, name: &str) -> AppResult<Result<CategoryRow, FieldError>> {
    let name = name.trim().to_lowercase();
    Ok(categories::find_by_name(conn, &name)?
        .ok_or_else(|| FieldError::new("category", format!("there is no category `{name}`"))))
}

fn check_expiry(v: &mut Validator, expires_on: NaiveDate, today: NaiveDate) {
    if expires_on < today {
        v.add("expires_on", "must not be in the past");
    } else if expires_on > today + Duration::days(366) {
        v.add("expires_on", "must be at most a year ahead");
    }
}

/// `on_behalf_of` names who an intercession is for; a prayer for oneself has none.
fn check_on_behalf_of(v: &mut Validator, kind: Kind, on_behalf_of: Option<&str>) -> Option<String> {
    match (kind, on_behalf_of) {
        (Kind::Intercession, None) => {
            v.add(
                "on_behalf_of",
                "is required for an intercession: who is it for?",
            );
            None
        }
        (Kind::Intercession, Some(who)) => {
            v.take(validate::line("on_behalf_of", who, 1, ON_BEHALF_OF_MAX))
        }
        (Kind::Prayer, Some(_)) => {
            v.add("on_behalf_of", "is only for kind `intercession`");
            None
        }
        (Kind::Prayer, None) => None,
    }
}

pub(super) fn viewer_of(user: &AuthUser) -> Viewer {
    Viewer::from(user)
}

/// Ask for prayer (members).
///
/// Members' requests start `active`, or `pending` a leader's approval when `REQUIRE_APPROVAL` is
/// on. Leaders' own requests start `active`.
#[utoipa::path(
    tag = "Prayer requests",
    request_body = CreateRequestInput,
    responses((status = 201, description = "The new request", body = PrayerRequest)),
    security(("bearer" = []))
)]
#[post("/prayer-requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateRequestInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let at = clock.now();
    let today = at.date();
    let mut v = Validator::new();
    let title = v.take(validate::line("title", &input.title, 1, TITLE_MAX));
    let body = v.take(validate::text("body", &input.body, 1, BODY_MAX));
    let on_behalf_of = check_on_behalf_of(&mut v, input.kind, input.on_behalf_of.as_deref());
    let expires_on = input
        .expires_on
        .unwrap_or(today + Duration::days(state.config.request_expiry_days));
    check_expiry(&mut v, expires_on, today);
    let require_approval = state.config.require_approval;
    let mut errors = v.into_errors();
    let channels = state.channels;
    let view = caller
        .write(&state.db, move |conn, user| {
            let status = if require_approval && !user.role.is_leader() {
                Status::Pending
            } else {
                Status::Active
            };
            let viewer = viewer_of(&user);
            let category = match category(conn, &input.category)? {
                Ok(category) => Some(category),
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
            let category = match category {
                Some(category) if errors.is_empty() => category,
                _ => return Err(AppError::Validation(errors)),
            };
            let (title, body) = (title.expect("valid"), body.expect("valid"));
            let row = RequestRow {
                id: uuid::Uuid::now_v7().to_string(),
                title,
                body,
                category_id: category.id.clone(),
                kind: input.kind,
                on_behalf_of,
                visibility: input.visibility.unwrap_or(Visibility::Team),
                urgent: input.urgent.unwrap_or(false),
                anonymous: input.anonymous.unwrap_or(false),
                allow_comments: input.allow_comments.unwrap_or(false),
                status,
                expires_on,
                prayer_count: 0,
                intercessor_count: 0,
                last_prayed_at: None,
                requester_id: Some(viewer.id.clone()),
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
            };
            store::insert(conn, &row)?;
            outbox::tell(conn, at, channels, &[notices::created(&row)])?;
            notices::if_now_urgent(conn, channels, None, &row, &viewer.id, at)?;
            let ctx = Context::known(&viewer, today, &user, Some((category.id, category.name)));
            Ok(ctx.request(row))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/prayer-requests/{}", view.id),
        ))
        .json(view))
}

/// List the requests the caller may see.
///
/// Never shows a request the caller may not see. `sort=needs_prayer` is the intercessor's prayer
/// list: urgent first, then fewest prayers in the last 7 days, then oldest (active requests unless
/// `status` says otherwise).
#[utoipa::path(
    tag = "Prayer requests",
    params(RequestListQuery),
    responses((status = 200, description = "A page of requests", body = Page<PrayerRequest>)),
    security(("bearer" = []))
)]
#[get("/prayer-requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<RequestListQuery>,
) -> AppResult<web::Json<Page<PrayerRequest>>> {
    let clock = state.clock;
    let sort = query.sort.unwrap_or(Sort::Newest);
    let page = PageParams::<ListCursor>::parse(query.limit, query.cursor.as_deref())?;
    let cursor_fits = matches!(
        (&page.after, sort),
        (None, _)
            | (Some(ListCursor::Newest(_)), Sort::Newest)
            | (Some(ListCursor::NeedsPrayer(..)), Sort::NeedsPrayer)
    );
    if !cursor_fits {
        return Err(AppError::invalid(
            "cursor",
            "belongs to a list in another order",
        ));
    }
    let q = query
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(AppError::invalid("q", "must be at most 200 characters"));
    }
    let (page, actor) = caller
        .read(&state.db, move |conn, user| {
            let viewer = viewer_of(&user);
            let category_id = match &query.category {
                Some(name) => {
                    Some(category_id(conn, name)?.map_err(|e| AppError::Validation(vec![e]))?)
                }
                None => None,
            };
            let filter = ListFilter {
                status: query.status,
                category_id,
                kind: query.kind,
                urgent: query.urgent,
                mine: query.mine,
                flagged: query.flagged,
                q,
                assigned_to_me: query.assigned_to_me.unwrap_or(false),
                team_id: query.team_id,
            };
            let at = clock.now();
            let rows = store::list(
                conn,
                &viewer,
                &filter,
                sort,
                page.after.clone(),
                page.fetch(),
                at,
            )?;
            let ctx = Context::load(
                conn,
                &viewer,
                at.date(),
                rows.iter().map(|l| l.row.requester_id.clone()),
            )?
            .with_category_names(
                rows.iter()
                    .map(|l| (l.row.category_id.clone(), l.category.clone())),
            );
            let page = page.page(
                rows,
                |l| match l.recent {
                    Some(n) => ListCursor::NeedsPrayer(l.row.urgent, n, l.row.id.clone()),
                    None => ListCursor::Newest(l.row.id.clone()),
                },
                |l| ctx.request(l.row),
            );
            Ok((page, user.id))
        })
        .await?;
    reads::confidential_reads(&state.db, &actor, &page.items, clock.now()).await?;
    Ok(web::Json(page))
}

/// One request, if the caller may see it.
#[utoipa::path(
    tag = "Prayer requests",
    params(("id" = String, Path, description = "Prayer request id")),
    responses((status = 200, description = "The request", body = PrayerRequest)),
    security(("bearer" = []))
)]
#[get("/prayer-requests/{id}")]
pub async fn get_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    // The caller is read in the request's own statement (see `find_visible_to_caller`), not on
    // its own first as `Caller::read` would: one round trip for the most frequent read.
    let (view, actor) = state
        .db
        .read(move |conn| {
            let found = store::find_visible_to_caller(conn, caller.member_id(), &id)?;
            let Some((row, category, requester, role)) = found else {
                // 401 rather than 404 for a caller no longer active.
                caller.resolve(conn)?;
                return Err(AppError::NotFound);
            };
            let role = role.ok_or_else(Caller::no_longer_active)?;
            let viewer = Viewer {
                id: caller.member_id().to_string(),
                leader: role.is_leader(),
            };
            let ctx = Context::of_request(&viewer, clock.now().date(), &row, category, requester);
            Ok((ctx.request(row), viewer.id))
        })
        .await?;
    reads::confidential_reads(&state.db, &actor, [&view], clock.now()).await?;
    Ok(web::Json(view))
}

/// Edit a request (its requester, or a leader).
///
/// With `REQUIRE_APPROVAL` on, a member's change to the title or body sends the request back to
/// `pending` until a leader approves it again.
#[utoipa::path(
    tag = "Prayer requests",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = UpdateRequestInput,
    responses(
        (status = 200, description = "The updated request", body = PrayerRequest),
        (status = 403, description = "Neither the requester nor a leader"),
    ),
    security(("bearer" = []))
)]
#[patch("/prayer-requests/{id}")]
pub async fn update_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateRequestInput>,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let viewer = viewer_of(&user);
    let require_approval = state.config.require_approval && !user.role.is_leader();
    let channels = state.channels;
    let view = state
        .db
        .write(move |conn| {
            let row = store::find_visible(conn, &viewer, &id)?;
            access::require(&user, &row, Action::Change)?;
            let today = clock.now().date();
            let mut v = Validator::new();
            let title = input
                .title
                .as_deref()
                .and_then(|t| v.take(validate::line("title", t, 1, TITLE_MAX)));
            let body = input
                .body
                .as_deref()
                .and_then(|b| v.take(validate::text("body", b, 1, BODY_MAX)));
            let kind = input.kind.unwrap_or(row.kind);
            let on_behalf_of_now = match &input.on_behalf_of {
                Some(value) => value.clone(),
                None if input.kind == Some(Kind::Prayer) => None,
                None => row.on_behalf_of.clone(),
            };
            let on_behalf_of = check_on_behalf_of(&mut v, kind, on_behalf_of_now.as_deref());
            if let Some(expires_on) = input.expires_on {
                check_expiry(&mut v, expires_on, today);
            }
            let category_id = match &input.category {
                Some(name) => v.take(category_id(conn, name)?),
                None => None,
            };
            v.finish()?;
            let text_changed = title.as_ref().is_some_and(|t| *t != row.title)
                || body.as_ref().is_some_and(|b| *b != row.body);
            let changes = RequestChanges {
                search_text: (title.is_some() || body.is_some()).then(|| {
                    search_text(
                        title.as_deref().unwrap_or(&row.title),
                        body.as_deref().unwrap_or(&row.body),
                    )
                }),
                title,
                body,
                category_id,
                kind: input.kind,
                on_behalf_of: Some(on_behalf_of),
                visibility: input.visibility,
                urgent: input.urgent,
                anonymous: input.anonymous,
                allow_comments: input.allow_comments,
                expires_on: input.expires_on,
                status: (require_approval
                    && text_changed
                    && row.status_on(today) == Status::Active)
                    .then_some(Status::Pending),
                updated_at: Some(clock.now()),
                ..Default::default()
            };
            change_and_render(conn, channels, &viewer, &row, &changes, clock.now())
        })
        .await?;
    Ok(web::Json(view))
}

/// Delete a request with its prayers, updates and comments (its requester, or an admin).
#[utoipa::path(
    tag = "Prayer requests",
    params(("id" = String, Path, description = "Prayer request id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither the requester nor an admin"),
    ),
    security(("bearer" = []))
)]
#[delete("/prayer-requests/{id}")]
pub async fn delete_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    let viewer = viewer_of(&user);
    state
        .db
        .write(move |conn| {
            let row = store::find_visible(conn, &viewer, &id)?;
            access::require(&user, &row, Action::Delete)?;
            store::delete(conn, &row.id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark a request answered, with a testimony (its requester, or a leader).
#[utoipa::path(
    tag = "Prayer requests",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body(content = Option<AnswerInput>, description = "Optional: the body may be left out"),
    responses(
        (status = 200, description = "The answered request", body = PrayerRequest),
        (status = 403, description = "Neither the requester nor a leader"),
        (status = 409, description = "Already answered, or still pending"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/answer")]
pub async fn answer_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    JsonOrEmpty(input): JsonOrEmpty<AnswerInput>,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let testimony = match input.testimony.as_deref() {
        Some(t) => Some(
            validate::text("testimony", t, 0, TESTIMONY_MAX)
                .map_err(|e| AppError::Validation(vec![e]))?,
        )
        .filter(|t| !t.is_empty()),
        None => None,
    };
    let viewer = viewer_of(&user);
    let channels = state.channels;
    let view = state
        .db
        .write(move |conn| {
            let row = store::find_visible(conn, &viewer, &id)?;
            access::require(&user, &row, Action::Change)?;
            lifecycle::can_answer(row.status_on(clock.now().date()))?;
            let at = clock.now();
            let changes = RequestChanges {
                status: Some(Status::Answered),
                answered_at: Some(Some(at)),
                testimony: testimony.map(Some),
                share_testimony: input.share_testimony,
                updated_at: Some(at),
                ..Default::default()
            };
            let news = notices::answered(conn, &row.id, &viewer.id, at)?;
            outbox::tell(conn, at, channels, &[news])?;
            change_and_render(conn, channels, &viewer, &row, &changes, clock.now())
        })
        .await?;
    Ok(web::Json(view))
}

/// Reopen an answered, closed or expired request (its requester, or a leader).
///
/// It becomes `active` again with a new expiry, `REQUEST_EXPIRY_DAYS` from today. Its history,
/// updates and testimony stay. A request a leader rejected is reopened by a leader only.
#[utoipa::path(
    tag = "Prayer requests",
    params(("id" = String, Path, description = "Prayer request id")),
    responses(
        (status = 200, description = "The reopened request", body = PrayerRequest),
        (status = 403, description = "Neither the requester nor a leader"),
        (status = 409, description = "Pending or active, or rejected and the caller is no leader"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/reopen")]
pub async fn reopen_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<PrayerRequest>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let viewer = viewer_of(&user);
    let days = state.config.request_expiry_days;
    let channels = state.channels;
    let view = state
        .db
        .write(move |conn| {
            let row = store::find_visible(conn, &viewer, &id)?;
            access::require(&user, &row, Action::Change)?;
            let at = clock.now();
            lifecycle::can_reopen(
                row.status_on(at.date()),
                row.rejection_reason.is_some(),
                user.role.is_leader(),
            )?;
            let changes = RequestChanges {
                status: Some(Status::Active),
                expires_on: Some(at.date() + Duration::days(days)),
                answered_at: Some(None),
                rejection_reason: Some(None),
                updated_at: Some(at),
                ..Default::default()
            };
            change_and_render(conn, channels, &viewer, &row, &changes, clock.now())
        })
        .await?;
    Ok(web::Json(view))
}
