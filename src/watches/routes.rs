//! HTTP handlers for watches: create, read, edit, delete, and their slots, coverage and now.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use utoipa::OpenApi;

use super::access::{require_manage, require_visible};
use super::model::{
    Coverage, CreateWatchInput, Gap, Now, RangeQuery, SlotList, SlotView, UpdateWatchInput, Watch,
    WatchRow,
};
use super::slots::{date_range, format_hhmm, merge, parse_hhmm, starts_span, Schedule, Slot, DAY};
use super::store;
use crate::accounts::model::PersonRef;
use crate::accounts::store::display_names;
use crate::auth::{AuthUser, Caller};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate::{self, Validator};
use crate::http::{Json, Page, PageParams, PageQuery, Query};
use crate::state::AppState;
use crate::teams::access::check_create_owned;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(
    create_watch,
    list_watches,
    get_watch,
    update_watch,
    delete_watch,
    watch_slots,
    watch_coverage,
    watch_now
))]
pub struct WatchesApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_watch)
        .service(list_watches)
        .service(get_watch)
        .service(update_watch)
        .service(delete_watch)
        .service(watch_slots)
        .service(watch_coverage)
        .service(watch_now);
}

const NAME_MAX: usize = 120;
const DESCRIPTION_MAX: usize = 2000;
pub const SLOTS_MAX_DAYS: i64 = 31;
pub const COVERAGE_MAX_DAYS: i64 = 366;

pub fn render(row: WatchRow) -> Watch {
    Watch {
        day_start: format_hhmm(row.day_start as u32),
        day_end: format_hhmm(row.day_end as u32),
        id: row.id,
        name: row.name,
        description: row.description,
        team_id: row.team_id,
        timezone: row.timezone,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        slot_minutes: row.slot_minutes,
        min_per_slot: row.min_per_slot,
        max_per_slot: row.max_per_slot,
        created_at: to_utc(row.created_at),
        updated_at: to_utc(row.updated_at),
    }
}

/// Checks the schedule-shaping and capacity fields of a watch row, all at once.
fn check(v: &mut Validator, row: &WatchRow) {
    if !(1..=1000).contains(&row.min_per_slot) {
        v.add("min_per_slot", "must be from 1 to 1000");
    }
    if let Some(max) = row.max_per_slot {
        if max < row.min_per_slot {
            v.add("max_per_slot", "must be at least min_per_slot");
        }
    }
    if let Ok(schedule) = row.schedule() {
        if let Err(e) = schedule.validate() {
            v.add(e.field, e.message);
        }
    }
}

fn time_of_day(
    v: &mut Validator,
    field: &str,
    value: Option<&str>,
    default: u32,
    allow_24: bool,
) -> u32 {
    match value {
        None => default,
        Some(s) => match parse_hhmm(s.trim(), allow_24) {
            Some(m) => m,
            None => {
                v.add(
                    field,
                    if allow_24 {
                        "must be HH:MM (00:00 to 24:00)"
                    } else {
                        "must be HH:MM (00:00 to 23:59)"
                    },
                );
                default
            }
        },
    }
}

/// The watch `id` if `user` may see it (404 otherwise), its schedule, and its slots over the
/// query's local dates (at most `max_days`): what the slots and coverage endpoints start from.
fn visible_slots(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: &str,
    query: &RangeQuery,
    max_days: i64,
    now: DateTime<Utc>,
) -> AppResult<(WatchRow, Schedule, Vec<Slot>)> {
    let watch = store::find(conn, id)?;
    require_visible(conn, user, &watch)?;
    let schedule = watch.schedule()?;
    let (from, to) = date_range(query.from, query.to, schedule.today(now), max_days)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let slots = schedule.slots(from, to);
    Ok((watch, schedule, slots))
}

/// Member ids holding each slot, by slot start.
pub type Holders = HashMap<DateTime<Utc>, Vec<String>>;
/// Display names by member id.
pub type Names = HashMap<String, String>;

/// Who holds each of `slots` (one query), and their names (one more).
pub fn holders(
    conn: &mut DbConnection,
    watch_id: &str,
    slots: &[Slot],
) -> AppResult<(Holders, Names)> {
    let Some((from, until)) = starts_span(slots) else {
        return Ok(Default::default());
    };
    let rows = store::held_between(conn, watch_id, from, until)?;
    let mut by_slot: Holders = HashMap::new();
    let mut names: Names = HashMap::new();
    for (start, member, name) in rows {
        names.entry(member.clone()).or_insert(name);
        by_slot.entry(to_utc(start)).or_default().push(member);
    }
    Ok((by_slot, names))
}

pub fn slot_view(
    schedule: &Schedule,
    watch: &WatchRow,
    slot: &Slot,
    holders: &Holders,
    names: &Names,
    me: &str,
) -> SlotView {
    let ids = holders.get(&slot.start).cloned().unwrap_or_default();
    SlotView {
        start: slot.start,
        end: slot.end,
        local_start: schedule.local(slot.start),
        local_end: schedule.local(slot.end),
        signed_up: ids.len() as i64,
        min: watch.min_per_slot,
        max: watch.max_per_slot,
        mine: ids.iter().any(|id| id == me),
        intercessors: ids
            .into_iter()
            .filter_map(|id| {
                names.get(&id).map(|n| PersonRef {
                    id: id.clone(),
                    display_name: n.clone(),
                })
            })
            .collect(),
    }
}

/// Create a watch (leaders; a team leader for a watch of their own team).
#[utoipa::path(
    tag = "Prayer watches",
    request_body = CreateWatchInput,
    responses(
        (status = 201, description = "The new watch", body = Watch),
        (status = 403, description = "Neither a leader nor the team's team leader"),
    ),
    security(("bearer" = []))
)]
#[post("/watches")]
pub async fn create_watch(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateWatchInput>,
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
    let day_start = time_of_day(&mut v, "day_start", input.day_start.as_deref(), 0, false);
    let day_end = time_of_day(&mut v, "day_end", input.day_end.as_deref(), DAY, true);
    if !(5..=720).contains(&input.slot_minutes) {
        v.add("slot_minutes", "must be from 5 to 720");
    }
    let at = clock.now();
    let row = WatchRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.unwrap_or_default(),
        description,
        team_id: input.team_id.clone(),
        timezone: tz
            .map(|t| t.name().to_string())
            .unwrap_or_else(|| "UTC".into()),
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        slot_minutes: input.slot_minutes.clamp(5, 720),
        day_start: day_start as i32,
        day_end: day_end as i32,
        min_per_slot: input.min_per_slot,
        max_per_slot: input.max_per_slot,
        created_by: Some(user.id.clone()),
        created_at: at,
        updated_at: at,
    };
    if (5..=720).contains(&input.slot_minutes) {
        check(&mut v, &row);
    } else {
        let mut rest = Validator::new();
        check(&mut rest, &row);
        for e in rest
            .into_errors()
            .into_iter()
            .filter(|e| e.field != "slot_minutes")
        {
            v.add(e.field, e.message);
        }
    }
    let mut errors = v.into_errors();
    let watch = state
        .db
        .write(move |conn| {
            check_create_owned(conn, &user, row.team_id.as_deref(), &mut errors)?;
            store::insert(conn, &row)?;
            Ok(render(row))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/watches/{}", watch.id)))
        .json(watch))
}

/// The watches the caller sees: the church's and their teams' (leaders: all).
#[utoipa::path(
    tag = "Prayer watches",
    params(PageQuery),
    responses((status = 200, description = "A page of watches", body = Page<Watch>)),
    security(("bearer" = []))
)]
#[get("/watches")]
pub async fn list_watches(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Watch>>> {
    let user = caller.member(&state.db).await?;
    let page = state
        .db
        .read(move |conn| {
            let rows = store::list_visible(
                conn,
                &user.id,
                user.role.is_leader(),
                page.after.as_deref(),
                page.fetch(),
            )?;
            Ok(page.page(rows, |w| w.id.clone(), render))
        })
        .await?;
    Ok(web::Json(page))
}

/// One watch (members who can see it).
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id")),
    responses((status = 200, description = "The watch", body = Watch)),
    security(("bearer" = []))
)]
#[get("/watches/{id}")]
pub async fn get_watch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Watch>> {
    let user = caller.member(&state.db).await?;
    let watch = state
        .db
        .read(move |conn| {
            let watch = store::find(conn, &id)?;
            require_visible(conn, &user, &watch)?;
            Ok(render(watch))
        })
        .await?;
    Ok(web::Json(watch))
}

/// Edit a watch (leaders; a team watch's team leader).
///
/// Name, description, `ends_on` and the per-slot numbers change at any time. The fields that
/// decide where slots fall change only while nobody has signed up (else 409).
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id")),
    request_body = UpdateWatchInput,
    responses(
        (status = 200, description = "The updated watch", body = Watch),
        (status = 403, description = "Not allowed to manage this watch"),
        (status = 409, description = "The slots would move under existing signups"),
    ),
    security(("bearer" = []))
)]
#[patch("/watches/{id}")]
pub async fn update_watch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateWatchInput>,
) -> AppResult<web::Json<Watch>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let watch = state
        .db
        .write(move |conn| {
            let mut row = store::find(conn, &id)?;
            require_visible(conn, &user, &row)?;
            require_manage(conn, &user, &row)?;
            let before = row.schedule()?;
            let mut v = Validator::new();
            if let Some(name) = &input.name {
                if let Some(name) = v.take(validate::line("name", name, 1, NAME_MAX)) {
                    row.name = name;
                }
            }
            if let Some(description) = &input.description {
                row.description = match description {
                    None => None,
                    Some(d) => v
                        .take(validate::text("description", d, 0, DESCRIPTION_MAX))
                        .filter(|d| !d.is_empty()),
                };
            }
            if let Some(tz) = &input.timezone {
                if let Some(tz) = v.take(validate::timezone("timezone", tz)) {
                    row.timezone = tz.name().to_string();
                }
            }
            if let Some(starts_on) = input.starts_on {
                row.starts_on = starts_on;
            }
            if let Some(ends_on) = input.ends_on {
                row.ends_on = ends_on;
            }
            if let Some(m) = input.slot_minutes {
                row.slot_minutes = m;
            }
            row.day_start = time_of_day(
                &mut v,
                "day_start",
                input.day_start.as_deref(),
                row.day_start as u32,
                false,
            ) as i32;
            row.day_end = time_of_day(
                &mut v,
                "day_end",
                input.day_end.as_deref(),
                row.day_end as u32,
                true,
            ) as i32;
            if let Some(min) = input.min_per_slot {
                row.min_per_slot = min;
            }
            if let Some(max) = input.max_per_slot {
                row.max_per_slot = max;
            }
            check(&mut v, &row);
            v.finish()?;
            let after = row.schedule()?;
            let reshaped = after.tz != before.tz
                || after.starts_on != before.starts_on
                || after.slot_minutes != before.slot_minutes
                || after.day_start != before.day_start
                || after.day_end != before.day_end;
            if reshaped && store::has_signups(conn, &row.id)? {
                return Err(AppError::conflict(
                    ProblemType::WatchHasSignups,
                    "Members have signed up: the slots cannot move. Create a new watch instead.",
                ));
            }
            row.updated_at = clock.now();
            store::update(conn, &row)?;
            Ok(render(row))
        })
        .await?;
    Ok(web::Json(watch))
}

/// Delete a watch with its signups and check-ins (leaders; a team watch's team leader).
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to manage this watch"),
    ),
    security(("bearer" = []))
)]
#[delete("/watches/{id}")]
pub async fn delete_watch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    state
        .db
        .write(move |conn| {
            let row = store::find(conn, &id)?;
            require_visible(conn, &user, &row)?;
            require_manage(conn, &user, &row)?;
            store::delete(conn, &row.id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The slots of a watch between two local dates (at most 31 days), with who holds each.
///
/// `from` and `to` are dates in the watch's zone, half-open: every slot whose window starts on
/// those dates. `local_start`/`local_end` carry the zone's offset at that instant, so the two
/// slots of a repeated hour differ.
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id"), RangeQuery),
    responses((status = 200, description = "The slots", body = SlotList)),
    security(("bearer" = []))
)]
#[get("/watches/{id}/slots")]
pub async fn watch_slots(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<RangeQuery>,
) -> AppResult<web::Json<SlotList>> {
    let clock = state.clock;
    let list = caller
        .read(&state.db, move |conn, user| {
            let (watch, schedule, slots) =
                visible_slots(conn, &user, &id, &query, SLOTS_MAX_DAYS, clock.now_utc())?;
            let (holders, names) = holders(conn, &watch.id, &slots)?;
            Ok(SlotList {
                items: slots
                    .iter()
                    .map(|s| slot_view(&schedule, &watch, s, &holders, &names, &user.id))
                    .collect(),
            })
        })
        .await?;
    Ok(web::Json(list))
}

/// How well a watch is covered between two local dates (at most 366 days).
///
/// A slot is filled when at least `min_per_slot` hold it; `gaps` merges adjacent unfilled slots.
/// Without `from`, the range starts now: slots that have already ended today are not counted,
/// so hours already past never show as gaps. With `from`, every slot of those dates counts.
/// Two queries, whatever the range.
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id"), RangeQuery),
    responses((status = 200, description = "Coverage", body = Coverage)),
    security(("bearer" = []))
)]
#[get("/watches/{id}/coverage")]
pub async fn watch_coverage(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<RangeQuery>,
) -> AppResult<web::Json<Coverage>> {
    let clock = state.clock;
    let coverage = caller
        .read(&state.db, move |conn, user| {
            let (watch, schedule, mut slots) =
                visible_slots(conn, &user, &id, &query, COVERAGE_MAX_DAYS, clock.now_utc())?;
            if query.from.is_none() {
                let now = clock.now_utc();
                slots.retain(|s| s.end > now);
            }
            let counts = match starts_span(&slots) {
                Some((from, until)) => store::counts_between(conn, &watch.id, from, until)?,
                None => HashMap::new(),
            };
            Ok(coverage_of(&schedule, &slots, &counts, watch.min_per_slot))
        })
        .await?;
    Ok(web::Json(coverage))
}

/// Pure: coverage of `slots` given how many hold each.
pub fn coverage_of(
    schedule: &Schedule,
    slots: &[Slot],
    counts: &HashMap<chrono::NaiveDateTime, i64>,
    min: i32,
) -> Coverage {
    let filled =
        |s: &Slot| counts.get(&s.start.naive_utc()).copied().unwrap_or(0) >= i64::from(min);
    let total = slots.len() as i64;
    let filled_count = slots.iter().filter(|s| filled(s)).count() as i64;
    let percent = if total == 0 {
        0.0
    } else {
        (filled_count as f64 * 10_000.0 / total as f64).round() / 100.0
    };
    Coverage {
        slots_total: total,
        slots_filled: filled_count,
        percent_filled: percent,
        gaps: merge(slots.iter().copied().filter(|s| !filled(s)))
            .into_iter()
            .map(|(start, end)| Gap {
                start,
                end,
                local_start: schedule.local(start),
                local_end: schedule.local(end),
            })
            .collect(),
    }
}

/// The slot in progress and who holds it, who has checked in, and the next slot.
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id")),
    responses((status = 200, description = "Now", body = Now)),
    security(("bearer" = []))
)]
#[get("/watches/{id}/now")]
pub async fn watch_now(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Now>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let now_view = state
        .db
        .read(move |conn| {
            let watch = store::find(conn, &id)?;
            require_visible(conn, &user, &watch)?;
            let schedule = watch.schedule()?;
            let at = clock.now_utc();
            let current = schedule.slot_at(at);
            let next = schedule.next_slot(current.map_or(at, |s| s.end));
            let slots: Vec<Slot> = current.iter().chain(next.iter()).copied().collect();
            let (holders, mut names) = holders(conn, &watch.id, &slots)?;
            let checked_ids = match &current {
                Some(slot) => store::checked_in(conn, &watch.id, slot.start.naive_utc())?,
                None => Vec::new(),
            };
            names.extend(display_names(conn, &checked_ids)?);
            let view = |s: &Slot| slot_view(&schedule, &watch, s, &holders, &names, &user.id);
            Ok(Now {
                at,
                slot: current.as_ref().map(view),
                checked_in: checked_ids
                    .into_iter()
                    .filter_map(|id| {
                        names.get(&id).map(|n| PersonRef {
                            id: id.clone(),
                            display_name: n.clone(),
                        })
                    })
                    .collect(),
                next: next.as_ref().map(view),
            })
        })
        .await?;
    Ok(web::Json(now_view))
}
