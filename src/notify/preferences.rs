//! A member's notification preferences: `GET` and `PUT /me/notification-preferences`, and what
//! the workers read when they deliver (a notice is judged by the preference at delivery time).

use std::collections::{BTreeMap, HashMap};

use actix_web::{get, put, web};
use chrono::{NaiveDateTime, Timelike};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::Caller;
use crate::db::schema::notification_preferences as prefs;
use crate::db::{in_ids, DbConnection};
use crate::error::AppResult;
use crate::fasts::reminders::DEFAULT_TIME as DEFAULT_FAST_TIME;
use crate::http::validate::Validator;
use crate::http::Json;
use crate::outbox::{Channel, Event};
use crate::state::AppState;
use crate::watches::reminders::DEFAULT_LEAD_MINUTES;
use crate::watches::slots::{format_hhmm, local_instant, parse_hhmm};

#[derive(OpenApi)]
#[openapi(paths(get_preferences, put_preferences))]
pub struct PreferencesApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_preferences).service(put_preferences);
}

/// The hours during which email waits (in the member's own zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`; before `start` when the quiet spans midnight (`22:00` to `07:00`).
    pub end: String,
}

/// A member's notification preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Preferences {
    /// Per event, whether it comes by email (every event is listed).
    #[schema(value_type = BTreeMap<String, bool>)]
    pub email: BTreeMap<Event, bool>,
    /// Per event, whether it comes to the in-app inbox (every event is listed).
    #[schema(value_type = BTreeMap<String, bool>)]
    pub in_app: BTreeMap<Event, bool>,
    /// How long before a held watch slot its reminder goes, 5 to 1440 minutes.
    pub reminder_lead_minutes: i32,
    /// `HH:MM` in the member's zone: when a fast's check-in reminder goes.
    pub fast_reminder_time: String,
    /// `null`: none.
    pub quiet_hours: Option<QuietHours>,
    /// `true`: emails say only what kind of thing happened, with a link.
    pub discreet: bool,
}

/// What `PUT` takes: the whole object; an omitted field takes its default, as does an event left
/// out of a channel's map. An unknown event name, or a time that is not `HH:MM`, is 422.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// Event name to on/off; `request.prayed_digest` is off by default, every other event on.
    pub email: Option<BTreeMap<String, bool>>,
    /// Event name to on/off; every event is on by default.
    pub in_app: Option<BTreeMap<String, bool>>,
    /// 5 to 1440; 60 when omitted.
    pub reminder_lead_minutes: Option<i32>,
    /// `HH:MM`; `20:00` when omitted.
    pub fast_reminder_time: Option<String>,
    pub quiet_hours: Option<QuietHours>,
    /// `false` when omitted.
    pub discreet: Option<bool>,
}

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = prefs)]
#[diesel(treat_none_as_default_value = false, treat_none_as_null = true)]
struct PreferencesRow {
    member_id: String,
    email: String,
    in_app: String,
    reminder_lead_minutes: i32,
    fast_reminder_time: String,
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    discreet: bool,
    updated_at: NaiveDateTime,
}

/// Whether an event the member never set comes on `channel`: every event on both channels,
/// except the daily prayed digest by email (api.md: a daily email is opted into).
fn default_on(channel: Channel, event: Event) -> bool {
    !(channel == Channel::Email && event == Event::RequestPrayedDigest)
}

impl Preferences {
    fn defaults() -> Self {
        let all = |channel| {
            Event::FOR_MEMBERS
                .iter()
                .map(|e| (*e, default_on(channel, *e)))
                .collect()
        };
        Preferences {
            email: all(Channel::Email),
            in_app: all(Channel::InApp),
            reminder_lead_minutes: DEFAULT_LEAD_MINUTES,
            fast_reminder_time: DEFAULT_FAST_TIME.into(),
            quiet_hours: None,
            discreet: false,
        }
    }

    /// Whether `event` may come to this member on `channel`.
    pub fn wants(&self, channel: Channel, event: Event) -> bool {
        let map = match channel {
            Channel::InApp => &self.in_app,
            Channel::Email => &self.email,
            // A webhook is the church's own integration, not a member's choice.
            Channel::Webhook => return true,
        };
        map.get(&event)
            .copied()
            .unwrap_or_else(|| default_on(channel, event))
    }

    /// Switches `event` on or off for `channel`.
    pub fn set(&mut self, channel: Channel, event: Event, on: bool) {
        let map = match channel {
            Channel::InApp => &mut self.in_app,
            Channel::Email => &mut self.email,
            Channel::Webhook => return,
        };
        map.insert(event, on);
    }

    /// When email may go again, if `at` falls in this member's quiet hours (read in `tz`, the
    /// member's zone): the next local `end`, as a UTC instant (past a daylight-saving gap when
    /// the end falls in one). `None` outside quiet hours.
    pub fn quiet_until(&self, tz: Tz, at: NaiveDateTime) -> Option<NaiveDateTime> {
        let q = self.quiet_hours.as_ref()?;
        let start = parse_hhmm(&q.start, false)?;
        let end = parse_hhmm(&q.end, false)?;
        if !crate::time::within_daily(tz, start, end, at) {
            return None;
        }
        let local = at.and_utc().with_timezone(&tz).naive_local();
        let minute = local.hour() * 60 + local.minute();
        let day = if minute < end {
            local.date()
        } else {
            local.date().succ_opt()?
        };
        let end_label = day.and_hms_opt(end / 60, end % 60, 0)?;
        Some(local_instant(tz, end_label).naive_utc())
    }

    fn from_row(row: PreferencesRow) -> Self {
        let mut p = Self::defaults();
        for (stored, map) in [(&row.email, &mut p.email), (&row.in_app, &mut p.in_app)] {
            let set: BTreeMap<String, bool> = serde_json::from_str(stored).unwrap_or_default();
            for (name, on) in set {
                if let Some(event) = Event::parse(&name) {
                    map.insert(event, on);
                }
            }
        }
        p.reminder_lead_minutes = row.reminder_lead_minutes;
        p.fast_reminder_time = row.fast_reminder_time;
        p.quiet_hours = match (row.quiet_start, row.quiet_end) {
            (Some(start), Some(end)) => Some(QuietHours { start, end }),
            _ => None,
        };
        p.discreet = row.discreet;
        p
    }
}

/// The member's preferences (the defaults when they never set any).
pub fn load(conn: &mut DbConnection, member_id: &str) -> AppResult<Preferences> {
    let row = prefs::table
        .find(member_id)
        .select(PreferencesRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map_or_else(Preferences::defaults, Preferences::from_row))
}

/// The preferences of each of `member_ids` (the defaults for those who never set any), in one
/// statement.
pub fn load_many(
    conn: &mut DbConnection,
    member_ids: &[String],
) -> AppResult<HashMap<String, Preferences>> {
    let rows: Vec<PreferencesRow> = prefs::table
        .filter(in_ids(prefs::member_id, member_ids))
        .select(PreferencesRow::as_select())
        .load(conn)?;
    let mut found: HashMap<String, Preferences> = rows
        .into_iter()
        .map(|row| (row.member_id.clone(), Preferences::from_row(row)))
        .collect();
    for id in member_ids {
        found
            .entry(id.clone())
            .or_insert_with(Preferences::defaults);
    }
    Ok(found)
}

/// Stores `p` as the member's preferences, replacing what was there.
pub fn save(
    conn: &mut DbConnection,
    member_id: &str,
    p: &Preferences,
    now: NaiveDateTime,
) -> AppResult<()> {
    let row = row_of(member_id, p, now);
    match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(prefs::table)
            .values(&row)
            .on_conflict(prefs::member_id)
            .do_update()
            .set(&row)
            .execute(pg)?,
        DbConnection::Sqlite(lite) => diesel::replace_into(prefs::table)
            .values(&row)
            .execute(lite)?,
    };
    Ok(())
}

/// Checks `input` whole: every unknown event and bad time is reported at once.
fn checked(input: PreferencesInput) -> AppResult<Preferences> {
    let mut v = Validator::default();
    let mut p = Preferences::defaults();
    for (field, given, map) in [
        ("email", input.email, &mut p.email),
        ("in_app", input.in_app, &mut p.in_app),
    ] {
        for (name, on) in given.unwrap_or_default() {
            match Event::parse(&name).filter(|e| Event::FOR_MEMBERS.contains(e)) {
                Some(event) => {
                    map.insert(event, on);
                }
                None => v.add(
                    format!("{field}.{name}"),
                    format!(
                        "is not an event; events: {}",
                        Event::FOR_MEMBERS
                            .iter()
                            .map(|e| e.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
    }
    if let Some(minutes) = input.reminder_lead_minutes {
        if (5..=1440).contains(&minutes) {
            p.reminder_lead_minutes = minutes;
        } else {
            v.add("reminder_lead_minutes", "must be from 5 to 1440");
        }
    }
    let time = |v: &mut Validator, field: &str, value: &str| match parse_hhmm(value, false) {
        Some(m) => Some(format_hhmm(m)),
        None => {
            v.add(field, "must be HH:MM (00:00 to 23:59)");
            None
        }
    };
    if let Some(t) = input.fast_reminder_time.as_deref() {
        if let Some(t) = time(&mut v, "fast_reminder_time", t) {
            p.fast_reminder_time = t;
        }
    }
    if let Some(q) = input.quiet_hours {
        let start = time(&mut v, "quiet_hours.start", &q.start);
        let end = time(&mut v, "quiet_hours.end", &q.end);
        if let (Some(start), Some(end)) = (start, end) {
            if start == end {
                v.add("quiet_hours.end", "must differ from start");
            } else {
                p.quiet_hours = Some(QuietHours { start, end });
            }
        }
    }
    p.discreet = input.discreet.unwrap_or(false);
    v.finish()?;
    Ok(p)
}

fn row_of(member_id: &str, p: &Preferences, now: NaiveDateTime) -> PreferencesRow {
    let stored = |map: &BTreeMap<Event, bool>| {
        let named: BTreeMap<&str, bool> = map.iter().map(|(e, on)| (e.as_str(), *on)).collect();
        serde_json::to_string(&named).unwrap_or_else(|_| "{}".into())
    };
    PreferencesRow {
        member_id: member_id.to_string(),
        email: stored(&p.email),
        in_app: stored(&p.in_app),
        reminder_lead_minutes: p.reminder_lead_minutes,
        fast_reminder_time: p.fast_reminder_time.clone(),
        quiet_start: p.quiet_hours.as_ref().map(|q| q.start.clone()),
        quiet_end: p.quiet_hours.as_ref().map(|q| q.end.clone()),
        discreet: p.discreet,
        updated_at: now,
    }
}

/// My notification preferences.
#[utoipa::path(
    tag = "Notifications",
    responses((status = 200, description = "My preferences", body = Preferences)),
    security(("bearer" = []))
)]
#[get("/me/notification-preferences")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<Preferences>> {
    let p = caller
        .read(&state.db, move |conn, user| load(conn, &user.id))
        .await?;
    Ok(web::Json(p))
}

/// Replace my notification preferences (the whole object; omitted fields take their defaults).
#[utoipa::path(
    tag = "Notifications",
    request_body = PreferencesInput,
    responses((status = 200, description = "My preferences, as stored", body = Preferences)),
    security(("bearer" = []))
)]
#[put("/me/notification-preferences")]
pub async fn put_preferences(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<PreferencesInput>,
) -> AppResult<web::Json<Preferences>> {
    let clock = state.clock;
    let p = checked(input)?;
    let stored = p.clone();
    caller
        .write(&state.db, move |conn, user| {
            save(conn, &user.id, &stored, clock.now())
        })
        .await?;
    Ok(web::Json(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn quiet(start: &str, end: &str) -> Preferences {
        let mut p = Preferences::defaults();
        p.quiet_hours = Some(QuietHours {
            start: start.into(),
            end: end.into(),
        });
        p
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn quiet_hours_across_midnight_end_on_the_right_local_morning() {
        let p = quiet("22:00", "07:00");
        let tz: Tz = "Europe/London".parse().unwrap();
        // 23:30 in London (winter, UTC+0): quiet until 07:00 the next morning.
        assert_eq!(
            p.quiet_until(tz, utc(2026, 12, 1, 23, 30)),
            Some(utc(2026, 12, 2, 7, 0))
        );
        // 05:00: quiet until 07:00 the same morning.
        assert_eq!(
            p.quiet_until(tz, utc(2026, 12, 2, 5, 0)),
            Some(utc(2026, 12, 2, 7, 0))
        );
        // 07:00 and 21:59 are not quiet.
        assert_eq!(p.quiet_until(tz, utc(2026, 12, 2, 7, 0)), None);
        assert_eq!(p.quiet_until(tz, utc(2026, 12, 2, 21, 59)), None);
        // Summer (UTC+1): 22:30 local is 21:30 UTC, quiet until 06:00 UTC.
        assert_eq!(
            p.quiet_until(tz, utc(2027, 7, 1, 21, 30)),
            Some(utc(2027, 7, 2, 6, 0))
        );
        // No quiet hours: never.
        assert_eq!(
            Preferences::defaults().quiet_until(tz, utc(2026, 12, 1, 23, 30)),
            None
        );
    }

    #[test]
    fn quiet_hours_read_in_the_members_zone_across_daylight_saving() {
        let tz: Tz = "America/New_York".parse().unwrap();
        // The night the clocks go forward (2027-03-14, 02:00 → 03:00): quiet 01:00 to 02:30
        // ends when the gap does, 03:00 EDT = 07:00 UTC.
        let p = quiet("01:00", "02:30");
        assert_eq!(
            p.quiet_until(tz, utc(2027, 3, 14, 6, 30)), // 01:30 EST
            Some(utc(2027, 3, 14, 7, 0))
        );
        // The night they go back (2027-11-07): 07:00 is EST, UTC-5.
        let p = quiet("22:00", "07:00");
        assert_eq!(
            p.quiet_until(tz, utc(2027, 11, 7, 3, 0)), // 23:00 EDT on the 6th
            Some(utc(2027, 11, 7, 12, 0))
        );
        // A zone ahead of UTC: 08:00 in Tokyo is 23:00 UTC the day before.
        let p = quiet("21:00", "08:00");
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            p.quiet_until(tokyo, utc(2026, 12, 1, 14, 0)), // 23:00 in Tokyo
            Some(utc(2026, 12, 1, 23, 0))
        );
    }
}
