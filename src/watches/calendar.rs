//! The personal calendar feed: a secret URL serving RFC 5545 iCalendar with one's watch slots.
//!
//! Single slots are events in UTC. A weekly signup is one event with an RRULE in the watch's zone
//! (so it keeps its local time across daylight saving), with the zone's VTIMEZONE included and an
//! EXDATE for each week it does not hold.

use std::collections::{BTreeMap, HashSet};

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};
use diesel::prelude::*;
use icalendar::{CalendarDateTime, Component, Event, EventLike, Property};
use utoipa::OpenApi;

use super::model::{CalendarFeed, HeldSlotRow, SignupRow, WatchRow};
use super::slots::Schedule;
use super::store;
use crate::auth::tokens::{new_refresh_token, refresh_token_hash};
use crate::auth::Caller;
use crate::db::schema::calendar_tokens;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(new_calendar_token, calendar_feed))]
pub struct CalendarApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(new_calendar_token).service(calendar_feed);
}

/// Make a new secret calendar URL; the old one stops working at once.
#[utoipa::path(
    tag = "Calendar",
    responses((status = 200, description = "The feed's URL", body = CalendarFeed)),
    security(("bearer" = []))
)]
#[post("/me/calendar-token")]
pub async fn new_calendar_token(
    state: web::Data<AppState>,
    caller: Caller,
) -> AppResult<web::Json<CalendarFeed>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let token = new_refresh_token();
    let hash = refresh_token_hash(&token);
    state
        .db
        .write(move |conn| {
            diesel::delete(calendar_tokens::table.find(&user.id)).execute(conn)?;
            diesel::insert_into(calendar_tokens::table)
                .values((
                    calendar_tokens::member_id.eq(&user.id),
                    calendar_tokens::token_hash.eq(&hash),
                    calendar_tokens::created_at.eq(clock.now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(web::Json(CalendarFeed {
        url: format!(
            "{}/api/v1/calendar/{token}.ics",
            state.config.public_base_url
        ),
    }))
}

/// The calendar feed (whoever holds the secret URL; no token needed).
#[utoipa::path(
    tag = "Calendar",
    params(("token" = String, Path, description = "The secret from `POST /me/calendar-token`")),
    responses(
        (status = 200, description = "RFC 5545 iCalendar", content_type = "text/calendar", body = String),
        (status = 404, description = "Unknown or replaced secret"),
    )
)]
#[get("/calendar/{token}.ics")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let hash = refresh_token_hash(&token.into_inner());
    let body = state
        .db
        .read(move |conn| {
            let member_id: String = calendar_tokens::table
                .filter(calendar_tokens::token_hash.eq(&hash))
                .select(calendar_tokens::member_id)
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            feed(conn, &member_id, clock.now_utc())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(body))
}

fn feed(conn: &mut DbConnection, member_id: &str, stamp: DateTime<Utc>) -> AppResult<String> {
    let signups = store::member_signups(conn, member_id)?;
    let mut ids: Vec<String> = signups.iter().map(|(s, _)| s.watch_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let watches: BTreeMap<String, WatchRow> = store::find_many(conn, &ids)?
        .into_iter()
        .map(|w| (w.id.clone(), w))
        .collect();
    let mut cal = Calendar::new(stamp);
    for (signup, held) in &signups {
        let Some(watch) = watches.get(&signup.watch_id) else {
            continue;
        };
        let schedule = watch.schedule()?;
        if signup.repeat_weekly {
            cal.weekly(watch, &schedule, signup, held);
        } else {
            for slot in held {
                cal.single(watch, slot);
            }
        }
    }
    // Fast days the member committed to, as all-day events.
    let parts = crate::fasts::store::participations(conn, member_id)?;
    let fast_ids: Vec<String> = parts.iter().map(|p| p.fast_id.clone()).collect();
    let mut focus = crate::fasts::store::focus_for(conn, &fast_ids)?;
    for fast in crate::fasts::store::find_many(conn, &fast_ids)? {
        let calendar = fast.calendar()?;
        let titles: BTreeMap<i32, String> = focus
            .remove(&fast.id)
            .unwrap_or_default()
            .into_iter()
            .map(|f| (f.day, f.title))
            .collect();
        for day in crate::fasts::store::commitments_of(conn, &fast.id, member_id)? {
            let date = calendar.date_of(day);
            cal.fast_day(&fast.id, &fast.name, day, fast.days, date, titles.get(&day));
        }
    }
    Ok(cal.finish())
}

/// The feed being built. Events go through the `icalendar` crate, which escapes their text and
/// folds their lines; the calendar's own header and the VTIMEZONEs are written here, because the
/// crate writes a `UID` and `DTSTAMP` into every component it prints, and RFC 5545 allows neither
/// in a VTIMEZONE or its observances. Those lines hold no client text and stay under 75 octets
/// (`vtimezone_lines_need_no_folding_or_escaping`).
struct Calendar {
    stamp: DateTime<Utc>,
    events: Vec<Event>,
    /// Zones used by weekly events, with the span of years they need.
    zones: BTreeMap<String, (i32, i32)>,
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// A content line of the header or a VTIMEZONE, ended with CRLF.
fn line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

impl Calendar {
    fn new(stamp: DateTime<Utc>) -> Self {
        Self {
            stamp,
            events: Vec::new(),
            zones: BTreeMap::new(),
        }
    }

    fn event(&mut self, uid: &str, summary: &str) -> &mut Event {
        let mut event = Event::new();
        event.uid(uid).timestamp(self.stamp).summary(summary);
        self.events.push(event);
        self.events.last_mut().expect("just pushed")
    }

    fn single(&mut self, watch: &WatchRow, slot: &HeldSlotRow) {
        let uid = format!(
            "{}-{}@intercede",
            slot.signup_id,
            slot.slot_start.and_utc().timestamp()
        );
        self.event(&uid, &format!("Prayer watch: {}", watch.name))
            .starts(to_utc(slot.slot_start))
            .ends(to_utc(slot.slot_end));
    }

    fn weekly(
        &mut self,
        watch: &WatchRow,
        schedule: &Schedule,
        signup: &SignupRow,
        held: &[HeldSlotRow],
    ) {
        let Some(first) = schedule.slot_starting_at(to_utc(signup.slot_start)) else {
            return;
        };
        let until = signup.until.unwrap_or(first.day);
        let tz = schedule.tz;
        let held_starts: HashSet<NaiveDateTime> = held.iter().map(|h| h.slot_start).collect();
        // Every week the rule produces, and those the signup does not hold (skipped or given up).
        let mut excluded = Vec::new();
        let mut weeks = 0;
        for (label, slot) in schedule.weekly_series(&first, until) {
            weeks += 1;
            if !slot.is_some_and(|s| held_starts.contains(&s.start.naive_utc())) {
                excluded.push(label);
            }
        }
        if excluded.len() == weeks {
            return;
        }
        let until_instant =
            schedule.day_start_instant(until + Duration::days(1)) - Duration::seconds(1);
        let years = (first.day.year() - 1, until.year() + 1);
        let span = self.zones.entry(tz.name().to_string()).or_insert(years);
        span.0 = span.0.min(years.0);
        span.1 = span.1.max(years.1);
        let event = self
            .event(
                &format!("{}@intercede", signup.id),
                &format!("Prayer watch: {}", watch.name),
            )
            .starts(CalendarDateTime::WithTimezone {
                date_time: first.label,
                tzid: tz.name().to_string(),
            })
            .add_property("DURATION", format!("PT{}M", watch.slot_minutes))
            .add_property(
                "RRULE",
                format!("FREQ=WEEKLY;UNTIL={}", utc_stamp(until_instant)),
            );
        for label in excluded {
            event.append_multi_property(
                Property::new("EXDATE", local_stamp(label))
                    .add_parameter("TZID", tz.name())
                    .done(),
            );
        }
    }

    fn fast_day(
        &mut self,
        fast_id: &str,
        name: &str,
        day: i32,
        days: i32,
        date: chrono::NaiveDate,
        focus: Option<&String>,
    ) {
        let summary = match focus {
            Some(title) => format!("Fast: {name} (day {day} of {days}): {title}"),
            None => format!("Fast: {name} (day {day} of {days})"),
        };
        self.event(&format!("{fast_id}-day{day}@intercede"), &summary)
            .starts(date)
            .ends(date + Duration::days(1))
            .add_property("TRANSP", "TRANSPARENT");
    }

    fn finish(self) -> String {
        let mut out = String::new();
        for header in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//intercede//prayer watches//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:My prayer watches",
        ] {
            line(&mut out, header);
        }
        for (name, (from, to)) in &self.zones {
            if let Ok(tz) = name.parse::<Tz>() {
                vtimezone(&mut out, tz, *from, *to);
            }
        }
        for event in &self.events {
            out.push_str(&Component::to_string(event));
        }
        line(&mut out, "END:VCALENDAR");
        out
    }
}

/// A VTIMEZONE for `tz` covering the years `from..=to`: its offset at the start, then one
/// observance for each change of offset, found by scanning hour by hour and narrowing to the
/// minute.
fn vtimezone(out: &mut String, tz: Tz, from: i32, to: i32) {
    let start = Utc.with_ymd_and_hms(from, 1, 1, 0, 0, 0).single();
    let end = Utc.with_ymd_and_hms(to + 1, 1, 1, 0, 0, 0).single();
    let (Some(start), Some(end)) = (start, end) else {
        return;
    };
    let info = |t: DateTime<Utc>| {
        let o = tz.offset_from_utc_datetime(&t.naive_utc());
        (
            o.fix().local_minus_utc(),
            !o.dst_offset().is_zero(),
            o.abbreviation().unwrap_or("").to_string(),
        )
    };
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{}", tz.name()));
    let observe = |out: &mut String, at: DateTime<Utc>, before: i32, after: (i32, bool, String)| {
        let kind = if after.1 { "DAYLIGHT" } else { "STANDARD" };
        let local = at.naive_utc() + Duration::seconds(i64::from(before));
        line(out, &format!("BEGIN:{kind}"));
        line(out, &format!("DTSTART:{}", local_stamp(local)));
        line(out, &format!("TZOFFSETFROM:{}", offset(before)));
        line(out, &format!("TZOFFSETTO:{}", offset(after.0)));
        if !after.2.is_empty() {
            line(out, &format!("TZNAME:{}", after.2));
        }
        line(out, &format!("END:{kind}"));
    };
    let first = info(start);
    observe(out, start, first.0, first.clone());
    let mut current = first;
    let mut t = start;
    while t < end {
        let next = t + Duration::hours(1);
        let after = info(next);
        if after.0 != current.0 || after.1 != current.1 {
            // Narrow the change to the minute.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::minutes(1) {
                let mid = lo + (hi - lo) / 2;
                if info(mid).0 == current.0 && info(mid).1 == current.1 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            observe(out, hi, current.0, after.clone());
            current = after;
        }
        t = next;
    }
    line(out, "END:VTIMEZONE");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_with_summary(summary: &str) -> String {
        let mut cal = Calendar::new(chrono::Utc::now());
        cal.event("x@intercede", summary);
        cal.finish()
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let out = feed_with_summary(&"🙏".repeat(40));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert!(
            unfolded.contains(&format!("\r\nSUMMARY:{}\r\n", "🙏".repeat(40))),
            "{unfolded}"
        );
    }

    #[test]
    fn text_is_escaped() {
        let out = feed_with_summary("a, b; c\\d\ne");
        assert!(out.contains("SUMMARY:a\\, b\\; c\\\\d\\ne\r\n"), "{out}");
    }

    #[test]
    fn new_york_has_its_changes_in_the_vtimezone() {
        let mut out = String::new();
        vtimezone(&mut out, "America/New_York".parse().unwrap(), 2027, 2027);
        assert!(out.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400"), "{out}");
        assert!(out.contains("BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500"), "{out}");
    }

    /// The VTIMEZONE is written without the crate's folding and escaping: true only while no zone
    /// name or abbreviation needs either. Checked for every zone a watch may name.
    #[test]
    fn vtimezone_lines_need_no_folding_or_escaping() {
        for tz in chrono_tz::TZ_VARIANTS {
            let mut out = String::new();
            vtimezone(&mut out, tz, 2026, 2027);
            for l in out.split("\r\n") {
                assert!(l.len() <= 75, "{}: {l}", tz.name());
                assert!(!l.contains(['\\', ';', ',', '\n']), "{}: {l}", tz.name());
            }
        }
    }
}
