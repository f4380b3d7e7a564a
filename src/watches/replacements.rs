//! Replacements (api.md, "Watch changes"): a member who cannot keep one occurrence of a signup
//! asks for someone to take it; `watch.slot_open` offers go in waves to members who could, first
//! accept wins. Until it is filled, the slot stays the asker's (coverage unchanged). A
//! cancellation within 48 hours of a slot that leaves it below `min_per_slot` opens one too.
//!
//! Waves (`SLOT_OFFER_WAVE`, 10): members who may see the watch, do not already hold that slot,
//! are not blocked out then, and are awake (not in their quiet hours); fewest slots held in the
//! watch first; nobody twice. A new wave every 30 minutes while it is open (the periodic task
//! `slot_offers`), and 12 hours before the slot, the watch's team leaders (or the church's
//! leaders) are told it is still open (`replacement.unfilled`). When the slot begins, an open
//! one expires.

use std::collections::{HashMap, HashSet};

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::access::{manages, require_visible};
use super::model::{HeldSlotRow, SignupRow, WatchRow};
use super::{reminders, store};
use crate::auth::{AuthUser, Caller, Role};
use crate::db::schema::{
    blockouts, members, notification_preferences as prefs, replacement_offers, replacements,
    team_members, watch_signup_slots,
};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate;
use crate::http::{Json, Page, PageParams, Query};
use crate::outbox::{self, Channel, Event, News, Notice};
use crate::state::AppState;
use crate::teams::store as teams;
use crate::time::within_daily;

#[derive(OpenApi)]
#[openapi(paths(ask, list, accept, cancel))]
pub struct ReplacementsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(ask)
        .service(list)
        .service(accept)
        .service(cancel);
}

/// Time between waves of offers.
pub const WAVE_EVERY: Duration = Duration::minutes(30);
/// How long before the slot the watch's leaders are told it is still open.
pub const ESCALATE_BEFORE: Duration = Duration::hours(12);
/// A cancellation this close to a slot that leaves it short opens a replacement.
pub const SHORT_NOTICE: Duration = Duration::hours(48);
/// Characters of the asker's note.
const NOTE_MAX: usize = 500;

crate::text_enum! {
    /// Where a replacement stands.
    pub enum ReplacementStatus {
        /// Offered, not yet taken; the slot is still the asker's.
        Open => "open",
        /// Someone took it.
        Filled => "filled",
        /// Its asker (or a leader) withdrew it.
        Cancelled => "cancelled",
        /// The slot began while it was open.
        Expired => "expired",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = replacements)]
#[diesel(treat_none_as_default_value = false)]
pub struct ReplacementRow {
    pub id: String,
    pub watch_id: String,
    pub signup_id: Option<String>,
    pub slot_start: NaiveDateTime,
    pub slot_end: NaiveDateTime,
    pub status: ReplacementStatus,
    pub asked_by: Option<String>,
    pub note: Option<String>,
    pub filled_by: Option<String>,
    pub waves: i32,
    pub next_wave_at: Option<NaiveDateTime>,
    pub escalated: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ReplacementRow {
    /// Its status at `now`: an open one whose slot has begun has expired, whether or not the
    /// periodic task has marked it yet.
    fn status_at(&self, now: NaiveDateTime) -> ReplacementStatus {
        if self.status == ReplacementStatus::Open && self.slot_start <= now {
            ReplacementStatus::Expired
        } else {
            self.status
        }
    }

    fn view(&self, now: NaiveDateTime) -> Replacement {
        Replacement {
            id: self.id.clone(),
            watch_id: self.watch_id.clone(),
            signup_id: self.signup_id.clone(),
            slot_start: instant(self.slot_start),
            status: self.status_at(now),
            asked_by: self.asked_by.clone(),
            note: self.note.clone(),
            filled_by: self.filled_by.clone(),
            created_at: instant(self.created_at),
        }
    }
}

fn instant(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A replacement.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replacement {
    pub id: String,
    pub watch_id: String,
    /// The signup whose occurrence it is; `null` when a cancellation opened it.
    pub signup_id: Option<String>,
    /// The occurrence's start (UTC).
    pub slot_start: String,
    pub status: ReplacementStatus,
    /// The member who asked (or cancelled); `null` once their account is erased.
    pub asked_by: Option<String>,
    /// The asker's note to whoever might take it.
    pub note: Option<String>,
    /// Who took it.
    pub filled_by: Option<String>,
    pub created_at: String,
}

/// What asking for a replacement takes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskInput {
    /// The occurrence: a `slot_start` this signup holds, not yet begun.
    pub slot_start: DateTime<Utc>,
    /// Up to 500 characters, shown with the replacement to members who can see the watch.
    pub note: Option<String>,
}

/// Ask for someone to take one occurrence of my signup. The slot stays mine until someone does;
/// offers go out at once.
#[utoipa::path(
    tag = "Watch changes",
    request_body = AskInput,
    params(
        ("id" = String, Path, description = "Watch id"),
        ("signup_id" = String, Path, description = "Signup id"),
    ),
    responses(
        (status = 201, description = "Asked; offers are on their way", body = Replacement),
        (status = 403, description = "Not the signup's member"),
        (status = 409, description = "The slot has begun, or a replacement for it is already open"),
        (status = 422, description = "Not an occurrence this signup holds"),
    ),
    security(("bearer" = []))
)]
#[post("/watches/{id}/signups/{signup_id}/replacement")]
pub async fn ask(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    Json(input): Json<AskInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let channels = state.channels;
    let wave = state.config.slot_offer_wave;
    let (watch_id, signup_id) = path.into_inner();
    let note = validate::note("note", input.note.as_deref(), NOTE_MAX)?;
    let row = caller
        .write(&state.db, move |conn, user| {
            let watch = store::find(conn, &watch_id)?;
            require_visible(conn, &user, &watch)?;
            let signup = store::find_signup(conn, &watch.id, &signup_id)?;
            if signup.member_id != user.id {
                return Err(AppError::Forbidden(
                    "Only the member who signed up asks for a replacement.".into(),
                ));
            }
            let start = input.slot_start.naive_utc();
            let held: Option<HeldSlotRow> = watch_signup_slots::table
                .filter(watch_signup_slots::signup_id.eq(&signup.id))
                .filter(watch_signup_slots::slot_start.eq(start))
                .select(HeldSlotRow::as_select())
                .first(conn)
                .optional()?;
            let Some(held) = held else {
                return Err(AppError::invalid(
                    "slot_start",
                    "is not an occurrence this signup holds",
                ));
            };
            let now = clock.now();
            if held.slot_start <= now {
                return Err(AppError::conflict(
                    ProblemType::SlotOver,
                    "This slot has begun.",
                ));
            }
            let open: i64 = replacements::table
                .filter(replacements::signup_id.eq(&signup.id))
                .filter(replacements::slot_start.eq(start))
                .filter(replacements::status.eq(ReplacementStatus::Open))
                .count()
                .get_result(conn)?;
            if open > 0 {
                return Err(AppError::conflict(
                    ProblemType::Duplicate,
                    "A replacement for this slot is already open.",
                ));
            }
            let row = new_row(&watch, Some(signup.id.clone()), &held, &user.id, note, now);
            diesel::insert_into(replacements::table)
                .values(&row)
                .execute(conn)?;
            offer_wave(conn, channels, &watch, &row, now, wave)
        })
        .await?;
    Ok(HttpResponse::Created().json(row.view(clock.now())))
}

fn new_row(
    watch: &WatchRow,
    signup_id: Option<String>,
    held: &HeldSlotRow,
    asked_by: &str,
    note: Option<String>,
    now: NaiveDateTime,
) -> ReplacementRow {
    ReplacementRow {
        id: uuid::Uuid::now_v7().to_string(),
        watch_id: watch.id.clone(),
        signup_id,
        slot_start: held.slot_start,
        slot_end: held.slot_end,
        status: ReplacementStatus::Open,
        asked_by: Some(asked_by.to_string()),
        note,
        filled_by: None,
        waves: 0,
        next_wave_at: Some(now),
        escalated: false,
        created_at: now,
        updated_at: now,
    }
}

/// Opens a replacement for each occurrence a cancellation just released that starts within
/// [`SHORT_NOTICE`] and is now below the watch's `min_per_slot`, and sends its first wave.
pub fn after_cancellation(
    conn: &mut DbConnection,
    channels: &[Channel],
    watch: &WatchRow,
    released: &[HeldSlotRow],
    by: &str,
    now: NaiveDateTime,
    wave: i64,
) -> AppResult<()> {
    let soon: Vec<&HeldSlotRow> = released
        .iter()
        .filter(|h| h.slot_start > now && h.slot_start <= now + SHORT_NOTICE)
        .collect();
    if soon.is_empty() {
        return Ok(());
    }
    let starts: Vec<NaiveDateTime> = soon.iter().map(|h| h.slot_start).collect();
    let counts = store::counts_at(conn, &watch.id, &starts)?;
    for held in soon {
        if counts.get(&held.slot_start).copied().unwrap_or(0) >= i64::from(watch.min_per_slot) {
            continue;
        }
        let already: i64 = replacements::table
            .filter(replacements::watch_id.eq(&watch.id))
            .filter(replacements::slot_start.eq(held.slot_start))
            .filter(replacements::status.eq(ReplacementStatus::Open))
            .count()
            .get_result(conn)?;
        if already > 0 {
            continue;
        }
        let row = new_row(watch, None, held, by, None, now);
        diesel::insert_into(replacements::table)
            .values(&row)
            .execute(conn)?;
        offer_wave(conn, channels, watch, &row, now, wave)?;
    }
    Ok(())
}

/// Members who may see `watch`: every active member for the church's, the team and the
/// church's leaders for a team's.
fn who_may_see(conn: &mut DbConnection, watch: &WatchRow) -> AppResult<Vec<String>> {
    let mut query = members::table
        .filter(members::active.eq(true))
        .select(members::id)
        .into_boxed();
    if let Some(team) = &watch.team_id {
        let in_team = team_members::table
            .filter(team_members::team_id.eq(team.clone()))
            .select(team_members::member_id);
        query = query.filter(
            members::id
                .eq_any(in_team)
                .or(members::role.eq(Role::Leader))
                .or(members::role.eq(Role::Admin)),
        );
    }
    Ok(query.load(conn)?)
}

/// Sends the next wave of offers for `row` at `now`: up to `size` members who may see the
/// watch, do not hold that slot, are not blocked out then, are not in their quiet hours, and were
/// not offered it before, fewest slots held in the watch first. Returns the row as it is after.
fn offer_wave(
    conn: &mut DbConnection,
    channels: &[Channel],
    watch: &WatchRow,
    row: &ReplacementRow,
    now: NaiveDateTime,
    size: i64,
) -> AppResult<ReplacementRow> {
    let offered: HashSet<String> = replacement_offers::table
        .filter(replacement_offers::replacement_id.eq(&row.id))
        .select(replacement_offers::member_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let holding: HashSet<String> = watch_signup_slots::table
        .filter(watch_signup_slots::watch_id.eq(&watch.id))
        .filter(watch_signup_slots::slot_start.eq(row.slot_start))
        .select(watch_signup_slots::member_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let away: HashSet<String> = blockouts::table
        .filter(blockouts::starts_at.lt(row.slot_end))
        .filter(blockouts::ends_at.gt(row.slot_start))
        .select(blockouts::member_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let candidates: Vec<String> = who_may_see(conn, watch)?
        .into_iter()
        .filter(|m| {
            Some(m) != row.asked_by.as_ref()
                && !offered.contains(m)
                && !holding.contains(m)
                && !away.contains(m)
        })
        .collect();
    let mut awake = Vec::new();
    for chunk in candidates.chunks(500) {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = members::table
            .left_join(prefs::table.on(prefs::member_id.eq(members::id)))
            .filter(members::id.eq_any(chunk))
            .select((
                members::id,
                members::timezone,
                prefs::quiet_start.nullable(),
                prefs::quiet_end.nullable(),
            ))
            .load(conn)?;
        awake.extend(rows.into_iter().filter_map(|(id, zone, start, end)| {
            let tz: Tz = zone.parse().unwrap_or(chrono_tz::UTC);
            let quiet = match (start.as_deref(), end.as_deref()) {
                (Some(s), Some(e)) => super::slots::parse_hhmm(s, false)
                    .zip(super::slots::parse_hhmm(e, false))
                    .is_some_and(|(s, e)| within_daily(tz, s, e, now)),
                _ => false,
            };
            (!quiet).then_some(id)
        }));
    }
    let mut held_counts: HashMap<String, i64> = HashMap::new();
    for chunk in awake.chunks(500) {
        let rows: Vec<(String, i64)> = watch_signup_slots::table
            .filter(watch_signup_slots::watch_id.eq(&watch.id))
            .filter(watch_signup_slots::slot_start.ge(now))
            .filter(watch_signup_slots::member_id.eq_any(chunk))
            .group_by(watch_signup_slots::member_id)
            .select((watch_signup_slots::member_id, diesel::dsl::count_star()))
            .load(conn)?;
        held_counts.extend(rows);
    }
    awake.sort_by_key(|m| (held_counts.get(m).copied().unwrap_or(0), m.clone()));
    awake.truncate(usize::try_from(size).unwrap_or(0));
    let wave = row.waves + 1;
    for m in &awake {
        diesel::insert_into(replacement_offers::table)
            .values((
                replacement_offers::replacement_id.eq(&row.id),
                replacement_offers::member_id.eq(m),
                replacement_offers::wave.eq(wave),
                replacement_offers::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    let notices: Vec<Notice> = awake
        .into_iter()
        .map(|member_id| Notice {
            event: Event::WatchSlotOpen,
            key: format!("watch.slot_open:{}", row.id),
            data: json!({
                "watch_id": watch.id,
                "replacement_id": row.id,
                "slot_start": instant(row.slot_start),
            }),
            member_id,
            due: None,
        })
        .collect();
    outbox::schedule(conn, now, channels, &notices)?;
    let next = now + WAVE_EVERY;
    diesel::update(replacements::table.find(&row.id))
        .set((
            replacements::waves.eq(wave),
            replacements::next_wave_at.eq(Some(next)),
            replacements::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(ReplacementRow {
        waves: wave,
        next_wave_at: Some(next),
        updated_at: now,
        ..row.clone()
    })
}

/// The members told about a replacement's fate: a team watch's team leaders, or the church's
/// leaders for a church watch.
fn watch_leaders(conn: &mut DbConnection, watch: &WatchRow) -> AppResult<Vec<String>> {
    match &watch.team_id {
        Some(team) => teams::leader_ids(conn, team),
        None => Ok(members::table
            .filter(members::active.eq(true))
            .filter(
                members::role
                    .eq(Role::Leader)
                    .or(members::role.eq(Role::Admin)),
            )
            .select(members::id)
            .load(conn)?),
    }
}

/// The periodic task `slot_offers`: expires open replacements whose slot began, sends the next
/// wave of those due one, and tells the watch's leaders of those still open 12 hours before.
pub fn run(
    conn: &mut DbConnection,
    channels: &[Channel],
    now: NaiveDateTime,
    size: i64,
) -> AppResult<()> {
    diesel::update(
        replacements::table
            .filter(replacements::status.eq(ReplacementStatus::Open))
            .filter(replacements::slot_start.le(now)),
    )
    .set((
        replacements::status.eq(ReplacementStatus::Expired),
        replacements::updated_at.eq(now),
    ))
    .execute(conn)?;
    let due: Vec<ReplacementRow> = replacements::table
        .filter(replacements::status.eq(ReplacementStatus::Open))
        .filter(
            replacements::next_wave_at
                .le(now)
                .or(replacements::escalated
                    .eq(false)
                    .and(replacements::slot_start.le(now + ESCALATE_BEFORE))),
        )
        .select(ReplacementRow::as_select())
        .load(conn)?;
    for row in due {
        let watch = store::find(conn, &row.watch_id)?;
        if row.next_wave_at.is_some_and(|at| at <= now) {
            offer_wave(conn, channels, &watch, &row, now, size)?;
        }
        if !row.escalated && row.slot_start <= now + ESCALATE_BEFORE {
            let to = watch_leaders(conn, &watch)?;
            outbox::tell(
                conn,
                now,
                channels,
                &[News {
                    event: Event::ReplacementUnfilled,
                    key: format!("replacement.unfilled:{}", row.id),
                    data: json!({
                        "watch_id": watch.id,
                        "replacement_id": row.id,
                        "slot_start": instant(row.slot_start),
                    }),
                    members: to,
                }],
            )?;
            diesel::update(replacements::table.find(&row.id))
                .set(replacements::escalated.eq(true))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Whether `replacement_id` is still open at `now`.
pub fn is_open(
    conn: &mut DbConnection,
    replacement_id: &str,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let row: Option<ReplacementRow> = replacements::table
        .find(replacement_id)
        .select(ReplacementRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.is_some_and(|r| r.status_at(now) == ReplacementStatus::Open))
}

/// Whether an offer of `replacement_id` still stands for `member_id` at `now`: still open, the
/// slot not begun, and the member not holding it already.
pub fn offer_stands(
    conn: &mut DbConnection,
    replacement_id: &str,
    member_id: &str,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let row: Option<ReplacementRow> = replacements::table
        .find(replacement_id)
        .select(ReplacementRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(false);
    };
    if row.status_at(now) != ReplacementStatus::Open {
        return Ok(false);
    }
    Ok(!store::holds(
        conn,
        &row.watch_id,
        member_id,
        row.slot_start,
    )?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only replacements in this state.
    pub status: Option<ReplacementStatus>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A watch's replacements, newest first (members who can see the watch).
#[utoipa::path(
    tag = "Watch changes",
    params(("id" = String, Path, description = "Watch id"), ListQuery),
    responses((status = 200, description = "A page of replacements", body = Page<Replacement>)),
    security(("bearer" = []))
)]
#[get("/watches/{id}/replacements")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<ListQuery>,
) -> AppResult<web::Json<Page<Replacement>>> {
    let clock = state.clock;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let page = caller
        .read(&state.db, move |conn, user| {
            let watch = store::find(conn, &id)?;
            require_visible(conn, &user, &watch)?;
            let now = clock.now();
            let mut rows = replacements::table
                .filter(replacements::watch_id.eq(&watch.id))
                .select(ReplacementRow::as_select())
                .order(replacements::id.desc())
                .limit(page.fetch())
                .into_boxed();
            let (open, started) = (
                replacements::status.eq(ReplacementStatus::Open),
                replacements::slot_start.le(now),
            );
            rows = match query.status {
                None => rows,
                Some(ReplacementStatus::Open) => rows.filter(open.and(started.eq(false))),
                Some(ReplacementStatus::Expired) => rows.filter(
                    replacements::status
                        .eq(ReplacementStatus::Expired)
                        .or(open.and(started)),
                ),
                Some(other) => rows.filter(replacements::status.eq(other)),
            };
            if let Some(after) = &page.after {
                rows = rows.filter(replacements::id.lt(after.clone()));
            }
            let rows: Vec<ReplacementRow> = rows.load(conn)?;
            Ok(page.page(rows, |r| r.id.clone(), |r| r.view(now)))
        })
        .await?;
    Ok(web::Json(page))
}

/// Take a replacement: the first to accept holds that one occurrence (a single signup of
/// their own); the asker's signup keeps its other weeks. The asker and the watch's leaders are
/// told.
#[utoipa::path(
    tag = "Watch changes",
    params(("id" = String, Path, description = "Replacement id")),
    responses(
        (status = 200, description = "Taken: the slot is mine", body = Replacement),
        (status = 404, description = "No such replacement, or its watch is hidden from me"),
        (status = 409, description = "Already taken, withdrawn or begun; or I hold that slot already; or the slot is full"),
    ),
    security(("bearer" = []))
)]
#[post("/replacements/{id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Replacement>> {
    let clock = state.clock;
    let channels = state.channels;
    let row = caller
        .write(&state.db, move |conn, user| {
            let row = find(conn, &id)?;
            let watch = store::find(conn, &row.watch_id)?;
            require_visible(conn, &user, &watch)?;
            store::lock(conn, &watch.id)?;
            let now = clock.now();
            if store::holds(conn, &watch.id, &user.id, row.slot_start)? {
                return Err(AppError::conflict(
                    ProblemType::Duplicate,
                    "You already hold this slot.",
                ));
            }
            // The first conditional update wins; every later one finds it no longer open.
            let won = diesel::update(
                replacements::table
                    .filter(replacements::id.eq(&row.id))
                    .filter(replacements::status.eq(ReplacementStatus::Open))
                    .filter(replacements::slot_start.gt(now)),
            )
            .set((
                replacements::status.eq(ReplacementStatus::Filled),
                replacements::filled_by.eq(Some(&user.id)),
                replacements::updated_at.eq(now),
            ))
            .execute(conn)?;
            if won == 0 {
                return Err(AppError::conflict(
                    ProblemType::InvalidState,
                    "This replacement is no longer open: someone took it, it was withdrawn, or the slot has begun.",
                ));
            }
            take(conn, channels, &watch, &row, &user, now)?;
            Ok(find(conn, &row.id)?.view(now))
        })
        .await?;
    Ok(web::Json(row))
}

fn find(conn: &mut DbConnection, id: &str) -> AppResult<ReplacementRow> {
    replacements::table
        .find(id)
        .select(ReplacementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Moves the occurrence from the asker's signup (if it still holds it) to a single signup of the
/// accepter's, the slot's cap still holding, and tells the asker and the watch's leaders.
fn take(
    conn: &mut DbConnection,
    channels: &[Channel],
    watch: &WatchRow,
    row: &ReplacementRow,
    user: &AuthUser,
    now: NaiveDateTime,
) -> AppResult<()> {
    if let Some(signup) = &row.signup_id {
        diesel::delete(
            watch_signup_slots::table
                .filter(watch_signup_slots::signup_id.eq(signup))
                .filter(watch_signup_slots::slot_start.eq(row.slot_start)),
        )
        .execute(conn)?;
    }
    if let Some(max) = watch.max_per_slot {
        let held = store::counts_at(conn, &watch.id, &[row.slot_start])?;
        if held.get(&row.slot_start).copied().unwrap_or(0) >= i64::from(max) {
            return Err(AppError::conflict(
                ProblemType::SlotFull,
                "This slot is full.",
            ));
        }
    }
    let signup = SignupRow {
        id: uuid::Uuid::now_v7().to_string(),
        watch_id: watch.id.clone(),
        member_id: user.id.clone(),
        slot_start: row.slot_start,
        repeat_weekly: false,
        until: None,
        created_at: now,
    };
    let held = HeldSlotRow {
        signup_id: signup.id.clone(),
        watch_id: watch.id.clone(),
        member_id: user.id.clone(),
        slot_start: row.slot_start,
        slot_end: row.slot_end,
    };
    store::insert_signup(conn, &signup, &[held])?;
    reminders::enqueue(conn, channels, now, Some(&signup.id))?;
    let mut to = watch_leaders(conn, watch)?;
    to.extend(row.asked_by.clone());
    to.retain(|m| m != &user.id);
    to.sort();
    to.dedup();
    outbox::tell(
        conn,
        now,
        channels,
        &[News {
            event: Event::ReplacementFilled,
            key: format!("replacement.filled:{}", row.id),
            data: json!({
                "watch_id": watch.id,
                "replacement_id": row.id,
                "slot_start": instant(row.slot_start),
                "member_id": user.id,
            }),
            members: to,
        }],
    )
}

/// Withdraw a replacement (its asker, the watch's team leaders, leaders): the slot simply stays
/// the asker's.
#[utoipa::path(
    tag = "Watch changes",
    params(("id" = String, Path, description = "Replacement id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "Neither its asker nor a leader of the watch"),
        (status = 409, description = "No longer open"),
    ),
    security(("bearer" = []))
)]
#[delete("/replacements/{id}")]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    caller
        .write(&state.db, move |conn, user| {
            let row = find(conn, &id)?;
            let watch = store::find(conn, &row.watch_id)?;
            require_visible(conn, &user, &watch)?;
            if row.asked_by.as_deref() != Some(user.id.as_str()) && !manages(conn, &user, &watch)? {
                return Err(AppError::Forbidden(
                    "Only its asker or a leader of the watch withdraws a replacement.".into(),
                ));
            }
            let now = clock.now();
            let changed = diesel::update(
                replacements::table
                    .filter(replacements::id.eq(&row.id))
                    .filter(replacements::status.eq(ReplacementStatus::Open))
                    .filter(replacements::slot_start.gt(now)),
            )
            .set((
                replacements::status.eq(ReplacementStatus::Cancelled),
                replacements::updated_at.eq(now),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(AppError::conflict(
                    ProblemType::InvalidState,
                    "This replacement is no longer open.",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
