//! Fast check-in reminders (`fast.check_in_reminder`): at the participant's
//! `fast_reminder_time` (default 20:00) in their own zone, on each day they committed to and have
//! not checked in on. Like watch reminders, they are enqueued over a rolling [`WINDOW`] (by the
//! join itself and by a periodic task) with their `run_at`, and re-checked when due.
//!
//! The fast's days are counted in the fast's zone; the reminder for day `n` goes at the
//! member's time on that day's date in the member's zone, and never before the day has begun in
//! the fast's zone (a check-in is refused until then).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use super::model::FastRow;
use crate::db::schema::{
    fast_check_ins, fast_commitments, fast_participants, fasts, members,
    notification_preferences as prefs,
};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{self, Channel, Event, Notice};

/// How far ahead reminders are enqueued.
pub const WINDOW: Duration = Duration::hours(48);

/// A reminder found due later than this (the service was down) is dropped.
pub const LATE: Duration = Duration::hours(2);

/// When the reminder goes for a member who has not chosen (api.md: 20:00).
pub const DEFAULT_TIME: &str = "20:00";

/// The instant a wall-clock time names in `tz`: the earlier of two when the clocks go back, an
/// hour later when it falls in the gap of clocks going forward.
fn instant_in(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

/// When the reminder for `day` of `fast` goes to a member in `member_tz` who wants it at `time`.
pub fn due_at(
    fast: &FastRow,
    day: i32,
    member_tz: Tz,
    time: &str,
) -> AppResult<Option<NaiveDateTime>> {
    let calendar = fast.calendar()?;
    let Ok(time) = NaiveTime::parse_from_str(time, "%H:%M") else {
        return Ok(None);
    };
    let date = calendar.date_of(day);
    let wanted = instant_in(member_tz, date, time);
    let begins = instant_in(calendar.tz, date, NaiveTime::MIN);
    Ok(Some(wanted.max(begins).naive_utc()))
}

/// The outbox key of one reminder; the time is in it, so a changed time makes a new reminder
/// (and the old one is dropped when due).
pub fn key(fast_id: &str, member_id: &str, day: i32, time: &str) -> String {
    format!("fast.check_in_reminder:{fast_id}:{member_id}:{day}:{time}")
}

/// Enqueues the reminders due within [`WINDOW`] of `now` (only `member_id`'s on `fast_id`, when
/// given): committed days not checked in, not due before the member joined, nor more than
/// [`LATE`] ago.
pub fn enqueue(
    conn: &mut DbConnection,
    channels: &[Channel],
    now: NaiveDateTime,
    only: Option<(&str, &str)>,
) -> AppResult<usize> {
    // Fasts with a day anywhere near the window (a day is at most ~26 hours in any zone).
    let earliest = (now - Duration::days(2)).date();
    let latest = (now + WINDOW + Duration::days(2)).date();
    let mut running = fasts::table
        .filter(fasts::starts_on.le(latest))
        .select(FastRow::as_select())
        .into_boxed();
    if let Some((fast_id, _)) = only {
        running = running.filter(fasts::id.eq(fast_id));
    }
    let running: Vec<FastRow> = running
        .load(conn)?
        .into_iter()
        .filter(|f| f.starts_on + Duration::days(i64::from(f.days)) >= earliest)
        .collect();
    let mut notices = Vec::new();
    for fast in &running {
        let mut owed = fast_commitments::table
            .inner_join(
                fast_participants::table.on(fast_participants::fast_id
                    .eq(fast_commitments::fast_id)
                    .and(fast_participants::member_id.eq(fast_commitments::member_id))),
            )
            .inner_join(members::table.on(members::id.eq(fast_commitments::member_id)))
            .left_join(prefs::table.on(prefs::member_id.eq(fast_commitments::member_id)))
            .left_join(
                fast_check_ins::table.on(fast_check_ins::fast_id
                    .eq(fast_commitments::fast_id)
                    .and(fast_check_ins::member_id.eq(fast_commitments::member_id))
                    .and(fast_check_ins::day.eq(fast_commitments::day))),
            )
            .filter(fast_commitments::fast_id.eq(&fast.id))
            .filter(fast_check_ins::day.nullable().is_null())
            .select((
                fast_commitments::member_id,
                fast_commitments::day,
                members::timezone,
                prefs::fast_reminder_time.nullable(),
                fast_participants::joined_at,
            ))
            .into_boxed();
        if let Some((_, member_id)) = only {
            owed = owed.filter(fast_commitments::member_id.eq(member_id));
        }
        let owed: Vec<(String, i32, String, Option<String>, NaiveDateTime)> = owed.load(conn)?;
        for (member_id, day, zone, time, joined_at) in owed {
            let time = time.unwrap_or_else(|| DEFAULT_TIME.to_string());
            let tz: Tz = zone.parse().unwrap_or(chrono_tz::UTC);
            let Some(due) = due_at(fast, day, tz, &time)? else {
                continue;
            };
            if due < now - LATE || due > now + WINDOW || due < joined_at {
                continue;
            }
            notices.push(Notice {
                event: Event::FastCheckInReminder,
                key: key(&fast.id, &member_id, day, &time),
                data: json!({"fast_id": fast.id, "member_id": member_id, "day": day,
                             "reminder_time": time}),
                member_id,
                due: Some(due),
            });
        }
    }
    outbox::schedule(conn, now, channels, &notices)?;
    Ok(notices.len())
}

/// Whether a reminder for `day` of `fast` still stands for `member_id` at `now`: still committed
/// to that day, not checked in, the same reminder time, and not more than [`LATE`] overdue.
pub fn stands(
    conn: &mut DbConnection,
    fast: &FastRow,
    member_id: &str,
    member_tz: Tz,
    day: i32,
    time: &str,
    now: NaiveDateTime,
) -> AppResult<bool> {
    let current: Option<String> = prefs::table
        .find(member_id)
        .select(prefs::fast_reminder_time)
        .first(conn)
        .optional()?;
    if current.as_deref().unwrap_or(DEFAULT_TIME) != time {
        return Ok(false);
    }
    let Some(due) = due_at(fast, day, member_tz, time)? else {
        return Ok(false);
    };
    if now > due + LATE {
        return Ok(false);
    }
    let committed: i64 = fast_commitments::table
        .filter(fast_commitments::fast_id.eq(&fast.id))
        .filter(fast_commitments::member_id.eq(member_id))
        .filter(fast_commitments::day.eq(day))
        .count()
        .get_result(conn)?;
    let checked_in: i64 = fast_check_ins::table
        .filter(fast_check_ins::fast_id.eq(&fast.id))
        .filter(fast_check_ins::member_id.eq(member_id))
        .filter(fast_check_ins::day.eq(day))
        .count()
        .get_result(conn)?;
    Ok(committed == 1 && checked_in == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fasts::model::FastType;

    fn fast(tz: &str, starts_on: &str) -> FastRow {
        let at = "2027-01-01T00:00:00".parse().unwrap();
        FastRow {
            id: "f".into(),
            name: "Daniel fast".into(),
            description: None,
            fast_type: FastType::Daniel,
            starts_on: starts_on.parse().unwrap(),
            days: 21,
            timezone: tz.into(),
            team_id: None,
            min_per_day: None,
            created_by: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn due(f: &FastRow, day: i32, tz: &str, time: &str) -> String {
        due_at(f, day, tz.parse().unwrap(), time)
            .unwrap()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_reminder_goes_at_the_members_time_on_the_days_date_never_before_the_day_begins() {
        let ny = fast("America/New_York", "2027-02-01");
        // Day 2 is 2 February; 20:00 in Tokyo then is 11:00Z, after New York's day began (05:00Z).
        assert_eq!(due(&ny, 2, "Asia/Tokyo", "20:00"), "2027-02-02 11:00:00");
        assert_eq!(
            due(&ny, 2, "America/New_York", "21:00"),
            "2027-02-03 02:00:00"
        );
        // 07:00 in Kiritimati (UTC+14) on 2 February is 17:00Z on the 1st: before the day begins
        // in New York, so it waits for 05:00Z.
        assert_eq!(
            due(&ny, 2, "Pacific/Kiritimati", "07:00"),
            "2027-02-02 05:00:00"
        );
        // A time in the gap of clocks going forward is an hour later.
        let spring = fast("America/New_York", "2027-03-13");
        assert_eq!(
            due(&spring, 2, "America/New_York", "02:30"),
            "2027-03-14 07:30:00"
        );
    }
}
