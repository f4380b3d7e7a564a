//! HTTP handlers for what happens around a request: "I prayed", updates and comments.

use actix_web::{get, post, web, HttpResponse};
use utoipa::OpenApi;

use super::access::{self, Action};
use super::lifecycle;
use super::model::{
    Post, PostInput, PostRow, PrayInput, Prayer, PrayerRow, RequestRow, Thread, BODY_MAX,
    REASON_MAX,
};
use super::notices;
use super::store;
use super::views::Context;
use super::visibility::Viewer;
use crate::auth::Caller;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate;
use crate::http::{Json, JsonOrEmpty, Page, PageParams, PageQuery};
use crate::outbox;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(
    pray,
    list_prayers,
    post_update,
    list_updates,
    post_comment,
    list_comments
))]
pub struct ActivityApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(pray)
        .service(list_prayers)
        .service(post_update)
        .service(list_updates)
        .service(post_comment)
        .service(list_comments);
}

const COMMENT_MAX: usize = 1000;

/// Say "I prayed for this" (anyone who can see the request).
///
/// Every call counts: `prayer_count` goes up by exactly one, `intercessor_count` by one on a
/// member's first prayer for the request. Only `active` requests take prayers.
#[utoipa::path(
    tag = "Prayers",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body(content = Option<PrayInput>, description = "Optional: the body may be left out"),
    responses(
        (status = 201, description = "The prayer, logged", body = Prayer),
        (status = 409, description = "The request is not active"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/prayers")]
pub async fn pray(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    JsonOrEmpty(input): JsonOrEmpty<PrayInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let note = validate::note("note", input.note.as_deref(), REASON_MAX)?;
    let prayer = caller
        .write(&state.db, move |conn, user| {
            let viewer = Viewer::from(&user);
            let request = store::find_visible(conn, &viewer, &id)?;
            let at = clock.now();
            lifecycle::can_pray(request.status_on(at.date()))?;
            let row = PrayerRow {
                id: uuid::Uuid::now_v7().to_string(),
                request_id: request.id,
                member_id: Some(viewer.id.clone()),
                note,
                anonymous: input.anonymous.unwrap_or(false),
                created_at: at,
            };
            store::record_prayer(conn, &row, &viewer.id)?;
            let who = (!row.anonymous).then_some(viewer.id.as_str());
            let news = notices::prayed(&row.request_id, &row.id, who);
            outbox::tell(conn, at, &[], &[news])?;
            Ok(Context::known(&viewer, at.date(), &user, None).prayer(row))
        })
        .await?;
    Ok(HttpResponse::Created().json(prayer))
}

/// Who prayed and when, newest first (the requester, or a leader).
///
/// Intercessors who prayed anonymously appear without a name to the requester.
#[utoipa::path(
    tag = "Prayers",
    params(("id" = String, Path, description = "Prayer request id"), PageQuery),
    responses(
        (status = 200, description = "A page of prayers", body = Page<Prayer>),
        (status = 403, description = "Neither the requester nor a leader"),
    ),
    security(("bearer" = []))
)]
#[get("/prayer-requests/{id}/prayers")]
pub async fn list_prayers(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Prayer>>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let viewer = Viewer::from(&user);
    let fetch = page.fetch();
    let page = state
        .db
        .read(move |conn| {
            let request = store::find_visible(conn, &viewer, &id)?;
            access::require(&user, &request, Action::SeePrayers)?;
            let rows = store::list_prayers(conn, &request.id, page.after.as_deref(), fetch)?;
            let ctx = Context::load(
                conn,
                &viewer,
                clock.now().date(),
                rows.iter().map(|r| r.member_id.clone()),
            )?;
            Ok(page.page(rows, |r| r.id.clone(), |r| ctx.prayer(r)))
        })
        .await?;
    Ok(web::Json(page))
}

/// Post an update on a request (the requester, or a leader).
#[utoipa::path(
    tag = "Updates and comments",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = PostInput,
    responses(
        (status = 201, description = "The update", body = Post),
        (status = 403, description = "Neither the requester nor a leader"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/updates")]
pub async fn post_update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<PostInput>,
) -> AppResult<HttpResponse> {
    post_to(Thread::Updates, state, caller, id.into_inner(), input).await
}

/// The updates on a request, oldest first (anyone who can see the request).
#[utoipa::path(
    tag = "Updates and comments",
    params(("id" = String, Path, description = "Prayer request id"), PageQuery),
    responses((status = 200, description = "A page of updates", body = Page<Post>)),
    security(("bearer" = []))
)]
#[get("/prayer-requests/{id}/updates")]
pub async fn list_updates(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Post>>> {
    list_of(Thread::Updates, state, caller, id.into_inner(), page).await
}

/// Comment on a request (anyone who can see it, when its requester allows comments).
#[utoipa::path(
    tag = "Updates and comments",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = PostInput,
    responses(
        (status = 201, description = "The comment", body = Post),
        (status = 409, description = "Comments are off for this request"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/comments")]
pub async fn post_comment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<PostInput>,
) -> AppResult<HttpResponse> {
    post_to(Thread::Comments, state, caller, id.into_inner(), input).await
}

/// The comments on a request, oldest first (anyone who can see it, when comments are allowed).
#[utoipa::path(
    tag = "Updates and comments",
    params(("id" = String, Path, description = "Prayer request id"), PageQuery),
    responses(
        (status = 200, description = "A page of comments", body = Page<Post>),
        (status = 409, description = "Comments are off for this request"),
    ),
    security(("bearer" = []))
)]
#[get("/prayer-requests/{id}/comments")]
pub async fn list_comments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Post>>> {
    list_of(Thread::Comments, state, caller, id.into_inner(), page).await
}

/// Who may read a thread of a request they can see: updates, anyone; comments, only while the
/// requester allows them (409 otherwise).
fn require_open(thread: Thread, request: &RequestRow) -> AppResult<()> {
    if thread == Thread::Comments && !request.allow_comments {
        return Err(AppError::conflict(
            ProblemType::CommentsOff,
            "The requester has not opened this request to comments.",
        ));
    }
    Ok(())
}

/// Adds to a thread: an update needs the requester or a leader; a comment, an open thread.
async fn post_to(
    thread: Thread,
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    input: PostInput,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let max = match thread {
        Thread::Updates => BODY_MAX,
        Thread::Comments => COMMENT_MAX,
    };
    let body =
        validate::text("body", &input.body, 1, max).map_err(|e| AppError::Validation(vec![e]))?;
    let viewer = Viewer::from(&user);
    let channels = state.channels;
    let post = state
        .db
        .write(move |conn| {
            let request = store::find_visible(conn, &viewer, &id)?;
            if thread == Thread::Updates {
                access::require(&user, &request, Action::PostUpdate)?;
            }
            require_open(thread, &request)?;
            let at = clock.now();
            let row = PostRow {
                id: uuid::Uuid::now_v7().to_string(),
                request_id: request.id.clone(),
                author_id: Some(viewer.id.clone()),
                body,
                created_at: at,
            };
            store::insert_post(conn, thread, &row)?;
            if thread == Thread::Updates {
                let news = notices::update(conn, &request.id, &row.id, &viewer.id)?;
                outbox::tell(conn, at, channels, &[news])?;
            }
            let ctx = Context::load(conn, &viewer, at.date(), [row.author_id.clone()])?;
            Ok(ctx.post(&request, row))
        })
        .await?;
    Ok(HttpResponse::Created().json(post))
}

/// A page of a thread, oldest first, each author as the viewer may see them.
async fn list_of(
    thread: Thread,
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Post>>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let viewer = Viewer::from(&user);
    let page = state
        .db
        .read(move |conn| {
            let request = store::find_visible(conn, &viewer, &id)?;
            require_open(thread, &request)?;
            let rows = store::list_posts(
                conn,
                thread,
                &request.id,
                page.after.as_deref(),
                page.fetch(),
            )?;
            let ctx = Context::load(
                conn,
                &viewer,
                clock.now().date(),
                rows.iter().map(|r| r.author_id.clone()),
            )?;
            Ok(page.page(rows, |r| r.id.clone(), |r| ctx.post(&request, r)))
        })
        .await?;
    Ok(web::Json(page))
}
