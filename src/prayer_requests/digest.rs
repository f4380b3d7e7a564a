//! The requester's daily prayed digest (`request.prayed_digest`): once a day at 08:00 in the
//! requester's own zone, when someone prayed for their requests since the previous 08:00, how many
//! times and by how many intercessors. Counts only: never who, never which prayer.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde_json::json;

use crate::db::schema::{members, prayer_requests, prayers};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{self, Channel, Event, Notice};
use crate::time::daily_between;

/// When the digest goes, in the requester's zone.
pub const AT: NaiveTime = NaiveTime::from_hms_opt(8, 0, 0).expect("a valid time");

/// A digest whose hour came longer ago than this (the service was down) is not written.
const CATCH_UP: Duration = Duration::hours(12);

/// Writes the digests whose 08:00 came in `(since, now]` in their requester's zone, for
/// requesters whose requests were prayed for (by someone else) in the day before it. Keyed by
/// member and local date: one a day, however often the task runs.
pub fn enqueue(
    conn: &mut DbConnection,
    channels: &[Channel],
    since: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> AppResult<usize> {
    let since = since
        .unwrap_or(now - Duration::minutes(5))
        .max(now - CATCH_UP);
    let zones: Vec<String> = members::table
        .filter(members::active.eq(true))
        .select(members::timezone)
        .distinct()
        .load(conn)?;
    let mut notices = Vec::new();
    for zone in zones {
        let Ok(tz) = zone.parse::<Tz>() else {
            continue;
        };
        let Some((day, until)) = daily_between(tz, AT, since, now) else {
            continue;
        };
        // The previous 08:00 there (a day of 23 or 25 hours across a daylight-saving change).
        let from = daily_between(
            tz,
            AT,
            until - Duration::hours(26),
            until - Duration::hours(1),
        )
        .map_or(until - Duration::hours(24), |(_, at)| at);
        let rows: Vec<(String, Option<String>)> = prayers::table
            .inner_join(prayer_requests::table.on(prayer_requests::id.eq(prayers::request_id)))
            .inner_join(members::table.on(members::id.nullable().eq(prayer_requests::requester_id)))
            .filter(members::timezone.eq(&zone))
            .filter(members::active.eq(true))
            .filter(prayers::created_at.ge(from))
            .filter(prayers::created_at.lt(until))
            .select((members::id, prayers::member_id))
            .load(conn)?;
        let mut counts: HashMap<String, (i64, HashSet<String>)> = HashMap::new();
        for (requester, by) in rows {
            if by.as_deref() == Some(requester.as_str()) {
                continue;
            }
            let entry = counts.entry(requester).or_default();
            entry.0 += 1;
            if let Some(by) = by {
                entry.1.insert(by);
            }
        }
        for (member_id, (times, by)) in counts {
            notices.push(Notice {
                event: Event::RequestPrayedDigest,
                key: format!("request.prayed_digest:{day}"),
                data: json!({
                    "times": times,
                    "intercessors": by.len(),
                    "date": day.to_string(),
                }),
                member_id,
                due: None,
            });
        }
    }
    outbox::enqueue(conn, now, channels, &notices)?;
    Ok(notices.len())
}
