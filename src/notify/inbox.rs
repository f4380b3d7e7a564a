//! The in-app inbox: `GET /me/notifications` and marking notifications read. Rows are written by
//! the in-app channel when it delivers ([`deliver`]), already rendered for their member.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::render::Rendered;
use crate::auth::Caller;
use crate::db::schema::notifications;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::{Json, Page, PageParams, Query};
use crate::outbox::{Event, OutboxRow};
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(list_notifications, mark_read))]
pub struct InboxApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_notifications).service(mark_read);
}

/// A notification in the member's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    /// The notification's stable id (the same for every attempt to deliver it).
    pub id: String,
    pub event: Event,
    pub title: String,
    /// One or two sentences; never a request's body, a note, or an anonymous requester's name.
    pub body: String,
    /// A path of the API the app can open (`/api/v1/prayer-requests/{id}`).
    pub link: Option<String>,
    /// The ids it is about (`request_id`, `assignment_id`, `team_id`...).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the member marked it read; `null` while unread.
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
#[diesel(treat_none_as_default_value = false)]
struct NotificationRow {
    id: String,
    member_id: String,
    event: Event,
    request_id: Option<String>,
    title: String,
    body: String,
    link: Option<String>,
    data: String,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
}

impl NotificationRow {
    fn show(self) -> Notification {
        Notification {
            data: serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null),
            id: self.id,
            event: self.event,
            title: self.title,
            body: self.body,
            link: self.link,
            created_at: to_utc(self.created_at),
            read_at: self.read_at.map(to_utc),
        }
    }
}

/// Puts `row`, rendered, in its member's inbox (once: a second delivery of the same row is a
/// no-op). The notification keeps the outbox row's id and creation time.
pub fn deliver(conn: &mut DbConnection, row: &OutboxRow, rendered: Rendered) -> AppResult<()> {
    let Some(member_id) = row.member_id.clone() else {
        return Err(AppError::bug("an in-app notification without a member"));
    };
    let new = NotificationRow {
        id: row.id.clone(),
        member_id,
        event: row.event,
        request_id: row.request_id.clone(),
        title: rendered.title,
        body: rendered.body,
        link: rendered.link,
        data: row.data.clone(),
        created_at: row.created_at,
        read_at: None,
    };
    match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(notifications::table)
            .values(&new)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(lite) => diesel::insert_or_ignore_into(notifications::table)
            .values(&new)
            .execute(lite)?,
    };
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// `true`: only notifications not yet read.
    pub unread: Option<bool>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// My notifications, newest first.
#[utoipa::path(
    tag = "Notifications",
    params(InboxQuery),
    responses((status = 200, description = "A page of my notifications", body = Page<Notification>)),
    security(("bearer" = []))
)]
#[get("/me/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<InboxQuery>,
) -> AppResult<web::Json<Page<Notification>>> {
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let unread = query.unread.unwrap_or(false);
    let page = caller
        .read(&state.db, move |conn, user| {
            let mut rows = notifications::table
                .filter(notifications::member_id.eq(&user.id))
                .select(NotificationRow::as_select())
                .order(notifications::id.desc())
                .limit(page.fetch())
                .into_boxed();
            if unread {
                rows = rows.filter(notifications::read_at.is_null());
            }
            if let Some(after) = &page.after {
                rows = rows.filter(notifications::id.lt(after.clone()));
            }
            let rows = rows.load(conn)?;
            Ok(page.page(rows, |r| r.id.clone(), NotificationRow::show))
        })
        .await?;
    Ok(web::Json(page))
}

/// Which notifications to mark read: some by id, or all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadInput {
    /// Up to 100 ids of my notifications; ids that are not mine are ignored.
    pub ids: Option<Vec<String>>,
    /// `true`: every notification of mine.
    pub all: Option<bool>,
}

/// Mark notifications read (`{ids}` or `{all: true}`); already read ones keep their time.
#[utoipa::path(
    tag = "Notifications",
    request_body = MarkReadInput,
    responses((status = 204, description = "Marked read")),
    security(("bearer" = []))
)]
#[post("/me/notifications/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<MarkReadInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let all = input.all.unwrap_or(false);
    let ids = input.ids.unwrap_or_default();
    if !all && ids.is_empty() {
        return Err(AppError::invalid("ids", "give ids, or all: true"));
    }
    if all && !ids.is_empty() {
        return Err(AppError::invalid("ids", "give ids or all: true, not both"));
    }
    if ids.len() > 100 {
        return Err(AppError::invalid("ids", "at most 100 at once"));
    }
    caller
        .write(&state.db, move |conn, user| {
            let mine = notifications::table
                .filter(notifications::member_id.eq(&user.id))
                .filter(notifications::read_at.is_null());
            if all {
                diesel::update(mine)
                    .set(notifications::read_at.eq(clock.now()))
                    .execute(conn)?;
            } else {
                diesel::update(mine.filter(notifications::id.eq_any(&ids)))
                    .set(notifications::read_at.eq(clock.now()))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
