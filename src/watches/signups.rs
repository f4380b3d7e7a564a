//! HTTP handlers for signing up for slots, giving them up, checking in, and one's own slots.

use std::collections::HashSet;

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;
use utoipa::OpenApi;

use super::access::{manages, require_visible};
use super::model::{
    CancelQuery, CheckIn, CheckInInput, CheckInRow, HeldSlotRow, MyRangeQuery, MySlot, MySlotList,
    Signup, SignupInput, SignupListQuery, SignupRow, WatchRow,
};
use super::reminders;
use super::replacements;
use super::routes::COVERAGE_MAX_DAYS;
use super::slots::{date_range, day_start_in, local_in};
use super::slots::{Schedule, Slot};
use super::store;
use crate::accounts::model::PersonRef;
use crate::accounts::store::display_names;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::respond::created_or_replaced;
use crate::http::validate;
use crate::http::{Json, Page, PageParams, Query};
use crate::outbox::{self, Event, News};
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(sign_up, list_signups, cancel_signup, check_in, my_watch_slots))]
pub struct SignupsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_up)
        .service(list_signups)
        .service(cancel_signup)
        .service(check_in)
        .service(my_watch_slots);
}

/// Check-ins are open from 15 minutes before a slot to 15 minutes after it.
const CHECK_IN_GRACE: i64 = 15;
/// The furthest a weekly signup may run.
const WEEKLY_MAX_DAYS: i64 = 2 * 366;

fn slot_of(schedule: &Schedule, start: chrono::DateTime<Utc>) -> AppResult<Slot> {
    schedule
        .slot_starting_at(start)
        .ok_or_else(|| AppError::invalid("slot_start", "is not the start of a slot of this watch"))
}

fn render(
    conn: &mut DbConnection,
    schedule: &Schedule,
    rows: Vec<SignupRow>,
) -> AppResult<Vec<Signup>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let held = store::slots_held(conn, &ids)?;
    let mut members: Vec<String> = rows.iter().map(|r| r.member_id.clone()).collect();
    members.sort();
    members.dedup();
    let names = display_names(conn, &members)?;
    Ok(rows
        .into_iter()
        .map(|r| Signup {
            slots_held: held.get(&r.id).copied().unwrap_or(0),
            member: PersonRef {
                display_name: names.get(&r.member_id).cloned().unwrap_or_default(),
                id: r.member_id,
            },
            local_start: schedule.local(to_utc(r.slot_start)),
            slot_start: to_utc(r.slot_start),
            id: r.id,
            watch_id: r.watch_id,
            repeat_weekly: r.repeat_weekly,
            until: r.until,
            created_at: to_utc(r.created_at),
        })
        .collect())
}

/// Sign up for a slot, or for the same local time every week (members who can see the watch).
///
/// Signing up again for a slot one already holds returns that signup with 200. A weekly signup
/// holds the same wall-clock time each week until `until` (a week whose time does not exist, when
/// clocks go forward, is skipped; a repeated time holds the first of the two). 409 when any slot it
/// would hold is full (the first full one is named) or the slot has ended.
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id")),
    request_body = SignupInput,
    responses(
        (status = 200, description = "Already signed up: the existing signup", body = Signup),
        (status = 201, description = "Signed up", body = Signup),
        (status = 409, description = "A slot is full, or the slot has ended"),
    ),
    security(("bearer" = []))
)]
#[post("/watches/{id}/signups")]
pub async fn sign_up(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<SignupInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let channels = state.channels;
    let user = caller.member(&state.db).await?;
    let weekly = input.repeat_weekly.unwrap_or(false);
    if !weekly && input.until.is_some() {
        return Err(AppError::invalid("until", "is only for weekly signups"));
    }
    let (created, signup) = state
        .db
        .write(move |conn| {
            let watch = store::find(conn, &id)?;
            require_visible(conn, &user, &watch)?;
            let schedule = watch.schedule()?;
            let first = slot_of(&schedule, input.slot_start)?;
            let at = clock.now_utc();
            if first.end <= at {
                return Err(AppError::conflict(
                    ProblemType::SlotOver,
                    "This slot has ended.",
                ));
            }
            let until = if weekly {
                let until = input
                    .until
                    .or(watch.ends_on)
                    .unwrap_or(first.day + Duration::days(365));
                if until < first.day {
                    return Err(AppError::invalid(
                        "until",
                        "must not be before the slot's date",
                    ));
                }
                if until > first.day + Duration::days(WEEKLY_MAX_DAYS) {
                    return Err(AppError::invalid(
                        "until",
                        "must be at most two years after the slot",
                    ));
                }
                Some(until)
            } else {
                None
            };
            store::lock(conn, &watch.id)?;
            let held = store::held_by(conn, &watch.id, &user.id)?;
            // The same slot again: the signup that holds it.
            if let Some(signup_id) = held.get(&first.start.naive_utc()) {
                let existing = store::find_signup(conn, &watch.id, signup_id)?;
                if existing.repeat_weekly == weekly || !weekly {
                    return Ok((false, render(conn, &schedule, vec![existing])?.remove(0)));
                }
            }
            let slots = occurrences(&schedule, &first, until, at);
            let wanted: Vec<&Slot> = slots
                .iter()
                .filter(|s| !held.contains_key(&s.start.naive_utc()))
                .collect();
            if let Some(max) = watch.max_per_slot {
                let starts: Vec<_> = wanted.iter().map(|s| s.start.naive_utc()).collect();
                let counts = store::counts_at(conn, &watch.id, &starts)?;
                if let Some(full) = wanted.iter().find(|s| {
                    counts.get(&s.start.naive_utc()).copied().unwrap_or(0) >= i64::from(max)
                }) {
                    return Err(AppError::conflict(
                        ProblemType::SlotFull,
                        format!(
                            "The slot at {} ({}) is full.",
                            schedule.local(full.start),
                            full.start
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ),
                    ));
                }
            }
            let row = SignupRow {
                id: uuid::Uuid::now_v7().to_string(),
                watch_id: watch.id.clone(),
                member_id: user.id.clone(),
                slot_start: first.start.naive_utc(),
                repeat_weekly: weekly,
                until,
                created_at: clock.now(),
            };
            let held_rows: Vec<HeldSlotRow> = wanted
                .iter()
                .map(|s| HeldSlotRow {
                    signup_id: row.id.clone(),
                    watch_id: watch.id.clone(),
                    member_id: user.id.clone(),
                    slot_start: s.start.naive_utc(),
                    slot_end: s.end.naive_utc(),
                })
                .collect();
            store::insert_signup(conn, &row, &held_rows)?;
            outbox::tell(conn, row.created_at, &[], &[signed_up(&row)])?;
            reminders::enqueue(conn, channels, row.created_at, Some(&row.id))?;
            Ok((true, render(conn, &schedule, vec![row])?.remove(0)))
        })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(signup)
    } else {
        HttpResponse::Ok().json(signup)
    })
}

/// The slots a signup holds: the first, and for a weekly one each week's until `until`, skipping
/// weeks whose wall-clock time does not exist and slots already over.
fn occurrences(
    schedule: &Schedule,
    first: &Slot,
    until: Option<NaiveDate>,
    at: chrono::DateTime<Utc>,
) -> Vec<Slot> {
    let Some(until) = until else {
        return vec![*first];
    };
    schedule
        .weekly_series(first, until)
        .filter_map(|(_, slot)| slot)
        .filter(|s| s.end > at)
        .collect()
}

/// Signups of a watch: a member sees their own; its managers see everyone's (`?mine=true` for
/// their own).
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id"), SignupListQuery),
    responses((status = 200, description = "A page of signups", body = Page<Signup>)),
    security(("bearer" = []))
)]
#[get("/watches/{id}/signups")]
pub async fn list_signups(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<SignupListQuery>,
) -> AppResult<web::Json<Page<Signup>>> {
    let user = caller.member(&state.db).await?;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let page = state
        .db
        .read(move |conn| {
            let watch = store::find(conn, &id)?;
            require_visible(conn, &user, &watch)?;
            let everyone = manages(conn, &user, &watch)? && !query.mine.unwrap_or(false);
            let member = (!everyone).then_some(user.id.as_str());
            let rows =
                store::list_signups(conn, &watch.id, member, page.after.as_deref(), page.fetch())?;
            let schedule = watch.schedule()?;
            let keys: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let signups = render(conn, &schedule, rows)?;
            Ok(page.page(
                keys.into_iter().zip(signups).collect(),
                |(k, _)| k.clone(),
                |(_, s)| s,
            ))
        })
        .await?;
    Ok(web::Json(page))
}

/// Give up a signup (the member; or the watch's managers).
///
/// A weekly signup gives up its slots from `from` (default: today in the watch's zone) and keeps
/// the ones before, as history. A single slot that has already ended cannot be given up (409).
#[utoipa::path(
    tag = "Prayer watches",
    params(
        ("id" = String, Path, description = "Watch id"),
        ("signup_id" = String, Path, description = "Signup id"),
        CancelQuery,
    ),
    responses(
        (status = 204, description = "Given up"),
        (status = 403, description = "Not the member's, and not a manager of the watch"),
        (status = 409, description = "The slot has already ended"),
    ),
    security(("bearer" = []))
)]
#[delete("/watches/{id}/signups/{signup_id}")]
pub async fn cancel_signup(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    Query(query): Query<CancelQuery>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let channels = state.channels;
    let wave = state.config.slot_offer_wave;
    let user = caller.member(&state.db).await?;
    let (watch_id, signup_id) = path.into_inner();
    state
        .db
        .write(move |conn| {
            let watch = store::find(conn, &watch_id)?;
            require_visible(conn, &user, &watch)?;
            let signup = store::find_signup(conn, &watch.id, &signup_id)?;
            if signup.member_id != user.id && !manages(conn, &user, &watch)? {
                return Err(AppError::Forbidden(
                    "Only the member or the watch's leaders may give up this signup.".into(),
                ));
            }
            // What it releases close to now may leave those slots short: offers go out.
            let now = clock.now();
            let soon =
                store::held_of_signup(conn, &signup.id, now, now + replacements::SHORT_NOTICE)?;
            let short = |conn: &mut DbConnection, from: NaiveDateTime| {
                let released: Vec<HeldSlotRow> = soon
                    .iter()
                    .filter(|h| h.slot_start >= from)
                    .cloned()
                    .collect();
                replacements::after_cancellation(
                    conn,
                    channels,
                    &watch,
                    &released,
                    &signup.member_id,
                    now,
                    wave,
                )
            };
            let schedule = watch.schedule()?;
            if !signup.repeat_weekly {
                let slot = schedule.slot_starting_at(to_utc(signup.slot_start));
                if slot.is_some_and(|s| s.end <= clock.now_utc()) {
                    return Err(AppError::conflict(
                        ProblemType::SlotOver,
                        "This slot has already ended.",
                    ));
                }
                store::release_from(conn, &signup, signup.slot_start, None)?;
                short(conn, signup.slot_start)?;
                return outbox::tell(
                    conn,
                    clock.now(),
                    &[],
                    &[cancelled(&signup, None, clock.now())],
                );
            }
            let from = query
                .from
                .unwrap_or_else(|| schedule.today(clock.now_utc()));
            let from_instant = schedule.day_start_instant(from).naive_utc();
            let until = from.pred_opt();
            store::release_from(conn, &signup, from_instant, until)?;
            short(conn, from_instant)?;
            outbox::tell(
                conn,
                clock.now(),
                &[],
                &[cancelled(&signup, Some(from), clock.now())],
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Check in during one's own slot, from 15 minutes before it to 15 minutes after it.
///
/// Again for the same slot: 200, the note replaced.
#[utoipa::path(
    tag = "Prayer watches",
    params(("id" = String, Path, description = "Watch id")),
    request_body = CheckInInput,
    responses(
        (status = 200, description = "Checked in again; note replaced", body = CheckIn),
        (status = 201, description = "Checked in", body = CheckIn),
        (status = 403, description = "The caller does not hold this slot"),
        (status = 409, description = "Outside the slot and its 15 minutes of grace"),
    ),
    security(("bearer" = []))
)]
#[post("/watches/{id}/check-ins")]
pub async fn check_in(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<CheckInInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let note = validate::note("note", input.note.as_deref(), 1000)?;
    let (created, row) = state
        .db
        .write(move |conn| {
            let watch = store::find(conn, &id)?;
            require_visible(conn, &user, &watch)?;
            let schedule = watch.schedule()?;
            let slot = slot_of(&schedule, input.slot_start)?;
            if !store::holds(conn, &watch.id, &user.id, slot.start.naive_utc())? {
                return Err(AppError::Forbidden(
                    "You have not signed up for this slot.".into(),
                ));
            }
            let at = clock.now_utc();
            let grace = Duration::minutes(CHECK_IN_GRACE);
            if at < slot.start - grace || at > slot.end + grace {
                return Err(AppError::conflict(
                    ProblemType::OutsideSlot,
                    "Check in during your slot, or within 15 minutes of it.",
                ));
            }
            store::upsert_check_in(
                conn,
                &CheckInRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    watch_id: watch.id.clone(),
                    member_id: user.id.clone(),
                    slot_start: slot.start.naive_utc(),
                    note,
                    created_at: clock.now(),
                },
            )
        })
        .await?;
    let body = CheckIn {
        id: row.id,
        watch_id: row.watch_id,
        member_id: row.member_id,
        slot_start: to_utc(row.slot_start),
        note: row.note,
        created_at: to_utc(row.created_at),
    };
    Ok(created_or_replaced(created, body))
}

/// My slots across all watches between two dates in my own zone (at most 366 days), with local
/// times both in the watch's zone and in mine.
#[utoipa::path(
    tag = "Prayer watches",
    params(MyRangeQuery),
    responses((status = 200, description = "My slots", body = MySlotList)),
    security(("bearer" = []))
)]
#[get("/me/watch-slots")]
pub async fn my_watch_slots(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<MyRangeQuery>,
) -> AppResult<web::Json<MySlotList>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let my_tz: Tz = user.member.timezone.parse().unwrap_or(Tz::UTC);
    let today = clock.now_utc().with_timezone(&my_tz).date_naive();
    let (from, to) = date_range(query.from, query.to, today, COVERAGE_MAX_DAYS)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let list = state
        .db
        .read(move |conn| {
            let start = day_start_in(my_tz, from).naive_utc();
            let end = day_start_in(my_tz, to).naive_utc();
            let held = store::member_slots_between(conn, &user.id, start, end)?;
            let mut watch_ids: Vec<String> = held.iter().map(|h| h.watch_id.clone()).collect();
            watch_ids.sort();
            watch_ids.dedup();
            let watches: std::collections::HashMap<String, WatchRow> =
                store::find_many(conn, &watch_ids)?
                    .into_iter()
                    .map(|w| (w.id.clone(), w))
                    .collect();
            let checked: HashSet<(String, chrono::NaiveDateTime)> =
                store::member_check_ins(conn, &user.id, start, end)?
                    .into_iter()
                    .collect();
            let mut items = Vec::with_capacity(held.len());
            for h in held {
                let Some(watch) = watches.get(&h.watch_id) else {
                    continue;
                };
                let schedule = watch.schedule()?;
                let (s, e) = (to_utc(h.slot_start), to_utc(h.slot_end));
                items.push(MySlot {
                    watch_id: watch.id.clone(),
                    watch_name: watch.name.clone(),
                    checked_in: checked.contains(&(watch.id.clone(), h.slot_start)),
                    signup_id: h.signup_id,
                    start: s,
                    end: e,
                    local_start: schedule.local(s),
                    local_end: schedule.local(e),
                    my_local_start: local_in(my_tz, s),
                    my_local_end: local_in(my_tz, e),
                });
            }
            Ok(MySlotList { items })
        })
        .await?;
    Ok(web::Json(list))
}

/// `signup.created` (webhooks only).
fn signed_up(row: &SignupRow) -> News {
    News::for_webhooks(
        Event::SignupCreated,
        format!("signup.created:{}", row.id),
        json!({
            "watch_id": row.watch_id,
            "signup_id": row.id,
            "member_id": row.member_id,
            "slot_start": to_utc(row.slot_start).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "repeat_weekly": row.repeat_weekly,
        }),
    )
}

/// `signup.cancelled` (webhooks only): the whole signup, or a weekly one's slots `from` a date.
fn cancelled(row: &SignupRow, from: Option<NaiveDate>, at: NaiveDateTime) -> News {
    News::for_webhooks(
        Event::SignupCancelled,
        format!(
            "signup.cancelled:{}:{}",
            row.id,
            at.and_utc().timestamp_micros()
        ),
        json!({
            "watch_id": row.watch_id,
            "signup_id": row.id,
            "member_id": row.member_id,
            "from": from.map(|d| d.to_string()),
        }),
    )
}
