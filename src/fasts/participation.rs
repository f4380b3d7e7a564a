//! HTTP handlers for taking part in a fast: joining, leaving, checking in, and one's progress.

use std::collections::HashMap;

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use utoipa::OpenApi;

use super::days::streak;
use super::model::{
    CheckInRow, Commitment, FastCheckIn, FastCheckInInput, FastRow, JoinInput, Kept, MyFast,
    MyFasts, ParticipantRow,
};
use super::reminders;
use super::store;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::respond::created_or_replaced;
use crate::http::validate;
use crate::http::{Json, JsonOrEmpty};
use crate::outbox::{self, Event, News};
use crate::state::AppState;
use crate::teams::access::require_sees_owned;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(join_fast, leave_fast, fast_check_in, my_fast_check_ins, my_fasts))]
pub struct ParticipationApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(join_fast)
        .service(leave_fast)
        .service(fast_check_in)
        .service(my_fast_check_ins)
        .service(my_fasts);
}

fn commitment(p: &ParticipantRow, days: Vec<i32>) -> AppResult<Commitment> {
    Ok(Commitment {
        fast_id: p.fast_id.clone(),
        days,
        fast_type: p.fast_type,
        joined_at: to_utc(p.joined_at),
    })
}

/// My part in one fast: commitment, check-ins (with my private notes), counts and streak.
fn my_fast(
    conn: &mut DbConnection,
    fast: &FastRow,
    p: &ParticipantRow,
    at: DateTime<Utc>,
) -> AppResult<MyFast> {
    let calendar = fast.calendar()?;
    let days = store::commitments_of(conn, &fast.id, &p.member_id)?;
    let rows = store::check_ins_of(conn, &fast.id, &p.member_id)?;
    let kept: HashMap<i32, Kept> = rows
        .iter()
        .map(|r| Ok((r.day, r.kept)))
        .collect::<AppResult<_>>()?;
    let today = calendar.current_day(at);
    Ok(MyFast {
        fast_id: fast.id.clone(),
        name: fast.name.clone(),
        current_day: today,
        kept_count: kept.values().filter(|k| **k == Kept::Yes).count() as i64,
        partial_count: kept.values().filter(|k| **k == Kept::Partial).count() as i64,
        streak: streak(
            &days,
            |d| kept.get(&d).map(|k| *k != Kept::No),
            calendar.begun(at),
            today,
        ),
        check_ins: rows
            .into_iter()
            .map(|r| {
                Ok(FastCheckIn {
                    date: calendar.date_of(r.day),
                    kept: r.kept,
                    day: r.day,
                    note: r.note,
                })
            })
            .collect::<AppResult<_>>()?,
        commitment: commitment(p, days)?,
    })
}

/// Join a fast, or change one's commitment (members who can see it).
///
/// Without `days`, every day of the fast (and any days it is extended by); with `days`, those days
/// (a fasting chain). Joining again replaces the commitment and keeps past check-ins (200).
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    request_body(content = Option<JoinInput>, description = "Optional: the body may be left out"),
    responses(
        (status = 200, description = "Commitment updated", body = Commitment),
        (status = 201, description = "Joined", body = Commitment),
    ),
    security(("bearer" = []))
)]
#[post("/fasts/{id}/participants")]
pub async fn join_fast(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    JsonOrEmpty(input): JsonOrEmpty<JoinInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let channels = state.channels;
    let user = caller.member(&state.db).await?;
    let (created, body) = state
        .db
        .write(move |conn| {
            let fast = store::find(conn, &id)?;
            require_sees_owned(conn, &user, fast.team_id.as_deref())?;
            let all_days = input.days.is_none();
            let mut days: Vec<i32> = input.days.unwrap_or_else(|| (1..=fast.days).collect());
            days.sort_unstable();
            days.dedup();
            if days.is_empty() {
                return Err(AppError::invalid("days", "must name at least one day"));
            }
            if let Some(bad) = days.iter().find(|d| !(1..=fast.days).contains(*d)) {
                return Err(AppError::invalid(
                    "days",
                    format!("day {bad} is not a day of this fast (1 to {})", fast.days),
                ));
            }
            let at = clock.now();
            let existing = store::participant(conn, &fast.id, &user.id)?;
            let row = ParticipantRow {
                fast_id: fast.id.clone(),
                member_id: user.id.clone(),
                fast_type: input.fast_type.unwrap_or(fast.fast_type),
                all_days,
                joined_at: existing.as_ref().map_or(at, |p| p.joined_at),
                updated_at: at,
            };
            let created = store::put_participant(conn, &row, &days)?;
            reminders::enqueue(conn, channels, at, Some((&fast.id, &user.id)))?;
            Ok((created, commitment(&row, days)?))
        })
        .await?;
    Ok(created_or_replaced(created, body))
}

/// Leave a fast. Commitment and check-ins, private notes included, are deleted.
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "Not taking part (or no such fast)"),
    ),
    security(("bearer" = []))
)]
#[delete("/fasts/{id}/participants/me")]
pub async fn leave_fast(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    state
        .db
        .write(move |conn| {
            let fast = store::find(conn, &id)?;
            require_sees_owned(conn, &user, fast.team_id.as_deref())?;
            if store::leave(conn, &fast.id, &user.id)? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Check in for a day (a participant; a committed day that has begun in the fast's zone).
///
/// Again for the same day: 200, replaced. The note is private to its author.
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    request_body = FastCheckInInput,
    responses(
        (status = 200, description = "Replaced", body = FastCheckIn),
        (status = 201, description = "Checked in", body = FastCheckIn),
        (status = 403, description = "Not taking part in this fast"),
        (status = 409, description = "The day has not begun, or is not one the caller committed to"),
    ),
    security(("bearer" = []))
)]
#[post("/fasts/{id}/check-ins")]
pub async fn fast_check_in(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<FastCheckInInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let note = validate::note("note", input.note.as_deref(), 1000)?;
    let (created, body) = state
        .db
        .write(move |conn| {
            let fast = store::find(conn, &id)?;
            require_sees_owned(conn, &user, fast.team_id.as_deref())?;
            if !(1..=fast.days).contains(&input.day) {
                return Err(AppError::invalid(
                    "day",
                    format!("must be from 1 to {}", fast.days),
                ));
            }
            if store::participant(conn, &fast.id, &user.id)?.is_none() {
                return Err(AppError::Forbidden(
                    "Join the fast before checking in.".into(),
                ));
            }
            let calendar = fast.calendar()?;
            if input.day > calendar.begun(clock.now_utc()) {
                return Err(AppError::conflict(
                    ProblemType::DayNotBegun,
                    format!("Day {} has not begun yet in {}.", input.day, fast.timezone),
                ));
            }
            if !store::commitments_of(conn, &fast.id, &user.id)?.contains(&input.day) {
                return Err(AppError::conflict(
                    ProblemType::DayNotCommitted,
                    format!("You did not commit to day {}.", input.day),
                ));
            }
            let at = clock.now();
            let created = store::put_check_in(
                conn,
                &CheckInRow {
                    fast_id: fast.id.clone(),
                    member_id: user.id.clone(),
                    day: input.day,
                    kept: input.kept,
                    note: note.clone(),
                    created_at: at,
                    updated_at: at,
                },
            )?;
            // Never the note: it is the participant's own.
            let news = News::for_webhooks(
                Event::FastCheckIn,
                format!(
                    "fast.check_in:{}:{}:{}:{}",
                    fast.id,
                    user.id,
                    input.day,
                    at.and_utc().timestamp_micros()
                ),
                serde_json::json!({
                    "fast_id": fast.id,
                    "member_id": user.id,
                    "day": input.day,
                    "kept": input.kept,
                }),
            );
            outbox::tell(conn, at, &[], &[news])?;
            Ok((
                created,
                FastCheckIn {
                    day: input.day,
                    date: calendar.date_of(input.day),
                    kept: input.kept,
                    note,
                },
            ))
        })
        .await?;
    Ok(created_or_replaced(created, body))
}

/// My commitment, check-ins and streak in one fast.
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    responses(
        (status = 200, description = "My part in the fast", body = MyFast),
        (status = 404, description = "Not taking part (or no such fast)"),
    ),
    security(("bearer" = []))
)]
#[get("/fasts/{id}/check-ins/me")]
pub async fn my_fast_check_ins(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<MyFast>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let mine = state
        .db
        .read(move |conn| {
            let fast = store::find(conn, &id)?;
            require_sees_owned(conn, &user, fast.team_id.as_deref())?;
            let p = store::participant(conn, &fast.id, &user.id)?.ok_or(AppError::NotFound)?;
            my_fast(conn, &fast, &p, clock.now_utc())
        })
        .await?;
    Ok(web::Json(mine))
}

/// Every fast I take part in, with my progress.
#[utoipa::path(
    tag = "Group fasts",
    responses((status = 200, description = "My fasts", body = MyFasts)),
    security(("bearer" = []))
)]
#[get("/me/fasts")]
pub async fn my_fasts(state: web::Data<AppState>, caller: Caller) -> AppResult<web::Json<MyFasts>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let mine = state
        .db
        .read(move |conn| {
            let parts = store::participations(conn, &user.id)?;
            let ids: Vec<String> = parts.iter().map(|p| p.fast_id.clone()).collect();
            let fasts: HashMap<String, FastRow> = store::find_many(conn, &ids)?
                .into_iter()
                .map(|f| (f.id.clone(), f))
                .collect();
            let mut items = Vec::new();
            for p in parts {
                if let Some(fast) = fasts.get(&p.fast_id) {
                    items.push(my_fast(conn, fast, &p, clock.now_utc())?);
                }
            }
            Ok(MyFasts { items })
        })
        .await?;
    Ok(web::Json(mine))
}
