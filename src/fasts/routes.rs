//! HTTP handlers for fasts: create, read, edit, delete, and their days.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use utoipa::OpenApi;

use super::model::{
    CreateFastInput, Fast, FastDay, FastDays, FastRow, Focus, FocusRow, UpdateFastInput,
};
use super::store;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate::{self, Validator};
use crate::http::{Json, Page, PageParams, PageQuery};
use crate::state::AppState;
use crate::teams::access::{check_create_owned, require_manages_owned, require_sees_owned};
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(create_fast, list_fasts, get_fast, update_fast, delete_fast, fast_days))]
pub struct FastsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_fast)
        .service(list_fasts)
        .service(get_fast)
        .service(update_fast)
        .service(delete_fast)
        .service(fast_days);
}

const NAME_MAX: usize = 120;
const DESCRIPTION_MAX: usize = 4000;

fn focus_view(row: &FocusRow) -> Focus {
    Focus {
        day: row.day,
        title: row.title.clone(),
        scripture: row.scripture.clone(),
        prayer_points: serde_json::from_str(&row.prayer_points).unwrap_or_default(),
    }
}

/// Renders fasts with their focus, current day and participant count (a fixed number of queries).
pub fn render(
    conn: &mut DbConnection,
    rows: Vec<FastRow>,
    at: DateTime<Utc>,
) -> AppResult<Vec<Fast>> {
    let ids: Vec<String> = rows.iter().map(|f| f.id.clone()).collect();
    let counts = store::participant_counts(conn, &ids)?;
    let mut focus_by_fast = store::focus_for(conn, &ids)?;
    rows.into_iter()
        .map(|f| {
            let focus = focus_by_fast.remove(&f.id).unwrap_or_default();
            Ok(Fast {
                current_day: f.calendar()?.current_day(at),
                participant_count: counts.get(&f.id).copied().unwrap_or(0),
                daily_focus: focus.iter().map(focus_view).collect(),
                fast_type: f.fast_type,
                id: f.id,
                name: f.name,
                description: f.description,
                starts_on: f.starts_on,
                days: f.days,
                timezone: f.timezone,
                team_id: f.team_id,
                min_per_day: f.min_per_day,
                created_at: to_utc(f.created_at),
                updated_at: to_utc(f.updated_at),
            })
        })
        .collect()
}

/// Validates daily focus entries against the fast's length, naming each bad one.
fn focus_rows(v: &mut Validator, fast_id: &str, days: i32, focus: &[Focus]) -> Vec<FocusRow> {
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, f) in focus.iter().enumerate() {
        let at = |field: &str| format!("daily_focus[{i}].{field}");
        if !(1..=days).contains(&f.day) {
            v.add(at("day"), format!("must be a day of the fast, 1 to {days}"));
            continue;
        }
        if !seen.insert(f.day) {
            v.add(at("day"), "appears twice");
            continue;
        }
        let title = v.take(validate::line(&at("title"), &f.title, 1, 200));
        let scripture = f
            .scripture
            .as_deref()
            .and_then(|s| v.take(validate::line(&at("scripture"), s, 0, 200)))
            .filter(|s| !s.is_empty());
        let points: Vec<String> = f
            .prayer_points
            .iter()
            .filter_map(|p| v.take(validate::line(&at("prayer_points"), p, 1, 500)))
            .collect();
        if f.prayer_points.len() > 20 {
            v.add(at("prayer_points"), "at most 20 prayer points a day");
        }
        if let Some(title) = title {
            rows.push(FocusRow {
                fast_id: fast_id.to_string(),
                day: f.day,
                title,
                scripture,
                prayer_points: serde_json::to_string(&points).unwrap_or_else(|_| "[]".into()),
            });
        }
    }
    rows
}

fn check_numbers(v: &mut Validator, days: i32, min_per_day: Option<i32>) {
    if !(1..=100).contains(&days) {
        v.add("days", "must be from 1 to 100");
    }
    if min_per_day.is_some_and(|m| !(1..=10_000).contains(&m)) {
        v.add("min_per_day", "must be from 1 to 10000");
    }
}

/// Call a fast (leaders; a team leader for their own team's fast).
#[utoipa::path(
    tag = "Group fasts",
    request_body = CreateFastInput,
    responses(
        (status = 201, description = "The new fast", body = Fast),
        (status = 403, description = "Neither a leader nor the team's team leader"),
    ),
    security(("bearer" = []))
)]
#[post("/fasts")]
pub async fn create_fast(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateFastInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let mut v = Validator::new();
    let name = v.take(validate::line("name", &input.name, 1, NAME_MAX));
    let description = input
        .description
        .as_deref()
        .and_then(|d| v.take(validate::text("description", d, 0, DESCRIPTION_MAX)))
        .filter(|d| !d.is_empty());
    let tz = v.take(validate::timezone("timezone", &input.timezone));
    check_numbers(&mut v, input.days, input.min_per_day);
    let at = clock.now();
    let row = FastRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.unwrap_or_default(),
        description,
        fast_type: input.fast_type,
        starts_on: input.starts_on,
        days: input.days,
        timezone: tz
            .map(|t| t.name().to_string())
            .unwrap_or_else(|| "UTC".into()),
        team_id: input.team_id.clone(),
        min_per_day: input.min_per_day,
        created_by: Some(user.id.clone()),
        created_at: at,
        updated_at: at,
    };
    let focus = focus_rows(
        &mut v,
        &row.id,
        input.days.clamp(1, 100),
        input.daily_focus.as_deref().unwrap_or(&[]),
    );
    let mut errors = v.into_errors();
    let fast = state
        .db
        .write(move |conn| {
            check_create_owned(conn, &user, row.team_id.as_deref(), &mut errors)?;
            store::insert(conn, &row)?;
            store::put_focus(conn, &row.id, &focus)?;
            Ok(render(conn, vec![row], clock.now_utc())?.remove(0))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/fasts/{}", fast.id)))
        .json(fast))
}

/// The fasts the caller sees: the church's and their teams' (leaders: all).
#[utoipa::path(
    tag = "Group fasts",
    params(PageQuery),
    responses((status = 200, description = "A page of fasts", body = Page<Fast>)),
    security(("bearer" = []))
)]
#[get("/fasts")]
pub async fn list_fasts(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Fast>>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let fetch = page.fetch();
    let page = state
        .db
        .read(move |conn| {
            let rows = store::list_visible(
                conn,
                &user.id,
                user.role.is_leader(),
                page.after.as_deref(),
                fetch,
            )?;
            let fasts = render(conn, rows, clock.now_utc())?;
            Ok(page.page(fasts, |f| f.id.clone(), |f| f))
        })
        .await?;
    Ok(web::Json(page))
}

/// One fast, with today's day in its zone and how many take part.
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    responses((status = 200, description = "The fast", body = Fast)),
    security(("bearer" = []))
)]
#[get("/fasts/{id}")]
pub async fn get_fast(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Fast>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let fast = state
        .db
        .read(move |conn| {
            let row = store::find(conn, &id)?;
            require_sees_owned(conn, &user, row.team_id.as_deref())?;
            Ok(render(conn, vec![row], clock.now_utc())?.remove(0))
        })
        .await?;
    Ok(web::Json(fast))
}

/// Edit a fast (leaders; a team fast's team leader).
///
/// Once the fast has begun, `starts_on` and `timezone` cannot move (409) and `days` may only grow;
/// members who joined for every day are committed to the new days too.
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    request_body = UpdateFastInput,
    responses(
        (status = 200, description = "The updated fast", body = Fast),
        (status = 403, description = "Not allowed to manage this fast"),
        (status = 409, description = "The fast has begun: its start cannot move nor its length shrink"),
    ),
    security(("bearer" = []))
)]
#[patch("/fasts/{id}")]
pub async fn update_fast(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateFastInput>,
) -> AppResult<web::Json<Fast>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let fast = state
        .db
        .write(move |conn| {
            let mut row = store::find(conn, &id)?;
            require_sees_owned(conn, &user, row.team_id.as_deref())?;
            require_manages_owned(conn, &user, row.team_id.as_deref())?;
            let begun = row.calendar()?.begun(clock.now_utc()) > 0;
            let old_days = row.days;
            let mut v = Validator::new();
            if let Some(name) = &input.name {
                if let Some(name) = v.take(validate::line("name", name, 1, NAME_MAX)) {
                    row.name = name;
                }
            }
            if let Some(d) = &input.description {
                row.description = match d {
                    None => None,
                    Some(d) => v
                        .take(validate::text("description", d, 0, DESCRIPTION_MAX))
                        .filter(|d| !d.is_empty()),
                };
            }
            if let Some(t) = input.fast_type {
                row.fast_type = t;
            }
            if let Some(tz) = &input.timezone {
                if let Some(tz) = v.take(validate::timezone("timezone", tz)) {
                    row.timezone = tz.name().to_string();
                }
            }
            if let Some(starts_on) = input.starts_on {
                row.starts_on = starts_on;
            }
            if let Some(days) = input.days {
                row.days = days;
            }
            if let Some(min) = input.min_per_day {
                row.min_per_day = min;
            }
            check_numbers(&mut v, row.days, row.min_per_day);
            let focus = focus_rows(
                &mut v,
                &row.id,
                row.days.clamp(1, 100),
                input.daily_focus.as_deref().unwrap_or(&[]),
            );
            v.finish()?;
            if begun {
                let original = store::find(conn, &row.id)?;
                if row.starts_on != original.starts_on || row.timezone != original.timezone {
                    return Err(AppError::conflict(
                        ProblemType::FastBegun,
                        "The fast has begun: its first day and time zone cannot move.",
                    ));
                }
                if row.days < old_days {
                    return Err(AppError::conflict(
                        ProblemType::FastBegun,
                        "The fast has begun: it can be extended, not shortened.",
                    ));
                }
            }
            row.updated_at = clock.now();
            store::update(conn, &row)?;
            if row.days < old_days {
                store::trim_focus(conn, &row.id, row.days)?;
            }
            if row.days > old_days {
                store::extend_all_days(conn, &row.id, old_days + 1, row.days)?;
            }
            store::put_focus(conn, &row.id, &focus)?;
            Ok(render(conn, vec![row], clock.now_utc())?.remove(0))
        })
        .await?;
    Ok(web::Json(fast))
}

/// Delete a fast with its commitments and check-ins (leaders; a team fast's team leader).
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to manage this fast"),
    ),
    security(("bearer" = []))
)]
#[delete("/fasts/{id}")]
pub async fn delete_fast(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    state
        .db
        .write(move |conn| {
            let row = store::find(conn, &id)?;
            require_sees_owned(conn, &user, row.team_id.as_deref())?;
            require_manages_owned(conn, &user, row.team_id.as_deref())?;
            store::delete(conn, &row.id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The days of a fast: date, focus, and how many committed and checked in. Counts only, never
/// names. For a fasting chain (`min_per_day`), `needed` says how many more each day needs.
#[utoipa::path(
    tag = "Group fasts",
    params(("id" = String, Path, description = "Fast id")),
    responses((status = 200, description = "The days", body = FastDays)),
    security(("bearer" = []))
)]
#[get("/fasts/{id}/days")]
pub async fn fast_days(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<FastDays>> {
    let user = caller.member(&state.db).await?;
    let days = state
        .db
        .read(move |conn| {
            let row = store::find(conn, &id)?;
            require_sees_owned(conn, &user, row.team_id.as_deref())?;
            let calendar = row.calendar()?;
            let focus: HashMap<i32, Focus> = store::focus_of(conn, &row.id)?
                .iter()
                .map(|f| (f.day, focus_view(f)))
                .collect();
            let (committed, checked) = store::day_counts(conn, &row.id)?;
            Ok(FastDays {
                items: (1..=row.days)
                    .map(|day| {
                        let committed = committed.get(&day).copied().unwrap_or(0);
                        FastDay {
                            day,
                            date: calendar.date_of(day),
                            focus: focus.get(&day).cloned(),
                            committed,
                            checked_in: checked.get(&day).copied().unwrap_or(0),
                            needed: row.min_per_day.map(|m| (i64::from(m) - committed).max(0)),
                        }
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(web::Json(days))
}
