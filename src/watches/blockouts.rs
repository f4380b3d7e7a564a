//! Blockouts (`/me/blockouts`): spans of time, in UTC, when a member cannot keep the watch slots
//! they hold (a trip, a night shift). The signup stays as it is; each held occurrence that
//! overlaps a blockout counts as not held, wherever holding is shown or acted on: `/slots`,
//! `/coverage`, `/now`, `/me/watch-slots`, the calendar feed (an `EXDATE`, or no event), reminders
//! and the gaps digest, so leaders see the gap. Capacity (`max_per_slot`) still counts every
//! signup: a blockout lifted later must not leave a slot over its cap.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::Caller;
use crate::db::schema::{blockouts, watch_signup_slots};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, FieldError};
pub use crate::held_slots::not_blocked_out;
use crate::http::validate;
use crate::http::{Json, Page, PageParams, PageQuery};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(create_blockout, list_blockouts, delete_blockout))]
pub struct BlockoutsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_blockout)
        .service(list_blockouts)
        .service(delete_blockout);
}

/// The longest blockout (api.md): a year and a day.
const MAX_DAYS: i64 = 366;
/// Characters of a blockout's reason.
const REASON_MAX: usize = 500;

/// What a blockout is given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockoutInput {
    /// When it begins (UTC).
    pub starts_at: DateTime<Utc>,
    /// When it ends (UTC): after `starts_at`, at most 366 days later.
    pub ends_at: DateTime<Utc>,
    /// Up to 500 characters, for the member's own record; leaders never see it.
    pub reason: Option<String>,
}

/// One held occurrence a blockout hits.
#[derive(Debug, Serialize, ToSchema)]
pub struct Affected {
    pub watch_id: String,
    pub signup_id: String,
    /// The slot's start (UTC).
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub slot_start: NaiveDateTime,
}

/// A blockout, with the held occurrences it hits.
#[derive(Debug, Serialize, ToSchema)]
pub struct Blockout {
    pub id: String,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: NaiveDateTime,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: NaiveDateTime,
    pub reason: Option<String>,
    /// Every occurrence of the member's signups that starts before it ends and ends after it
    /// begins, in order.
    pub affected: Vec<Affected>,
    #[serde(serialize_with = "crate::time::stored")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = blockouts)]
#[diesel(treat_none_as_default_value = false)]
struct BlockoutRow {
    id: String,
    member_id: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    reason: Option<String>,
    created_at: NaiveDateTime,
}

/// The member's held occurrences overlapping `[from, to)`.
fn affected(
    conn: &mut DbConnection,
    member_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<Vec<Affected>> {
    let rows: Vec<(String, String, NaiveDateTime)> = watch_signup_slots::table
        .filter(watch_signup_slots::member_id.eq(member_id))
        .filter(watch_signup_slots::slot_start.lt(to))
        .filter(watch_signup_slots::slot_end.gt(from))
        .select((
            watch_signup_slots::watch_id,
            watch_signup_slots::signup_id,
            watch_signup_slots::slot_start,
        ))
        .order(watch_signup_slots::slot_start.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(watch_id, signup_id, slot_start)| Affected {
            watch_id,
            signup_id,
            slot_start,
        })
        .collect())
}

fn view(conn: &mut DbConnection, row: BlockoutRow) -> AppResult<Blockout> {
    let affected = affected(conn, &row.member_id, row.starts_at, row.ends_at)?;
    Ok(Blockout {
        id: row.id,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        reason: row.reason,
        affected,
        created_at: row.created_at,
    })
}

/// Block out a span of time: the watch slots I hold in it count as not held (so leaders see
/// the gap, and no reminder comes), without cancelling my signups.
#[utoipa::path(
    tag = "Watch changes",
    request_body = BlockoutInput,
    responses(
        (status = 201, description = "Blocked out, with the occurrences it hits", body = Blockout),
        (status = 422, description = "Ends before it begins, longer than 366 days, or a reason too long"),
    ),
    security(("bearer" = []))
)]
#[post("/me/blockouts")]
pub async fn create_blockout(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<BlockoutInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let mut errors = Vec::new();
    if input.ends_at <= input.starts_at {
        errors.push(FieldError::new("ends_at", "must be after starts_at"));
    } else if input.ends_at - input.starts_at > Duration::days(MAX_DAYS) {
        errors.push(FieldError::new(
            "ends_at",
            format!("must be at most {MAX_DAYS} days after starts_at"),
        ));
    }
    let reason = match validate::note("reason", input.reason.as_deref(), REASON_MAX) {
        Ok(reason) => reason,
        Err(AppError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let created = caller
        .write(&state.db, move |conn, user| {
            let row = BlockoutRow {
                id: uuid::Uuid::now_v7().to_string(),
                member_id: user.id.clone(),
                starts_at: input.starts_at.naive_utc(),
                ends_at: input.ends_at.naive_utc(),
                reason,
                created_at: clock.now(),
            };
            diesel::insert_into(blockouts::table)
                .values(&row)
                .execute(conn)?;
            view(conn, row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/me/blockouts/{}", created.id),
        ))
        .json(created))
}

/// My blockouts, newest first, each with the occurrences it hits.
#[utoipa::path(
    tag = "Watch changes",
    params(PageQuery),
    responses((status = 200, description = "A page of my blockouts", body = Page<Blockout>)),
    security(("bearer" = []))
)]
#[get("/me/blockouts")]
pub async fn list_blockouts(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Blockout>>> {
    let page = caller
        .read(&state.db, move |conn, user| {
            let mut rows = blockouts::table
                .filter(blockouts::member_id.eq(&user.id))
                .select(BlockoutRow::as_select())
                .order(blockouts::id.desc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(after) = &page.after {
                rows = rows.filter(blockouts::id.lt(after.clone()));
            }
            let rows: Vec<BlockoutRow> = rows.load(conn)?;
            let views = rows
                .into_iter()
                .map(|row| Ok((row.id.clone(), view(conn, row)?)))
                .collect::<AppResult<Vec<_>>>()?;
            Ok(page.page(views, |(id, _)| id.clone(), |(_, b)| b))
        })
        .await?;
    Ok(web::Json(page))
}

/// Lift a blockout: the slots it hit are held again.
#[utoipa::path(
    tag = "Watch changes",
    params(("id" = String, Path, description = "Blockout id")),
    responses(
        (status = 204, description = "Lifted"),
        (status = 404, description = "Not one of mine"),
    ),
    security(("bearer" = []))
)]
#[delete("/me/blockouts/{id}")]
pub async fn delete_blockout(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let deleted = caller
        .write(&state.db, move |conn, user| {
            Ok(diesel::delete(
                blockouts::table
                    .filter(blockouts::id.eq(id.as_str()))
                    .filter(blockouts::member_id.eq(&user.id)),
            )
            .execute(conn)?)
        })
        .await?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
