//! The leaders' daily gaps digest (`watch.gaps_digest`): at 07:00 in the watch's zone, when the
//! next 72 hours have slots below `min_per_slot`, the gaps, merged, to the church's leaders and,
//! for a team's watch, its team leaders.

use chrono::{Duration, NaiveDateTime, NaiveTime, SecondsFormat};
use diesel::prelude::*;
use serde_json::json;

use super::model::WatchRow;
use super::routes::coverage_of;
use super::store;
use crate::auth::Role;
use crate::db::schema::{members, watches};
use crate::db::DbConnection;
use crate::error::AppResult;
use crate::outbox::{self, Channel, Event, Notice};
use crate::teams::store as teams;
use crate::time::daily_between;

/// When the digest goes, in the watch's zone.
pub const AT: NaiveTime = NaiveTime::from_hms_opt(7, 0, 0).expect("a valid time");

/// How far ahead it looks.
pub const AHEAD: Duration = Duration::hours(72);

/// A digest whose hour came longer ago than this (the service was down) is not written.
const CATCH_UP: Duration = Duration::hours(12);

/// Writes the digests of the watches whose 07:00 came in `(since, now]` in their zone and whose
/// next 72 hours (from then) have gaps. Keyed by watch and local date: one a day.
pub fn enqueue(
    conn: &mut DbConnection,
    channels: &[Channel],
    since: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> AppResult<usize> {
    let since = since
        .unwrap_or(now - Duration::minutes(5))
        .max(now - CATCH_UP);
    let running: Vec<WatchRow> = watches::table
        .filter(watches::starts_on.le((now + AHEAD).date() + Duration::days(1)))
        .filter(
            watches::ends_on
                .is_null()
                .or(watches::ends_on.ge((now - Duration::days(1)).date())),
        )
        .select(WatchRow::as_select())
        .load(conn)?;
    let mut leaders: Option<Vec<String>> = None;
    let mut notices = Vec::new();
    for watch in running {
        let schedule = watch.schedule()?;
        let Some((day, at)) = daily_between(schedule.tz, AT, since, now) else {
            continue;
        };
        let until = at + AHEAD;
        let slots: Vec<_> = schedule
            .slots(day - Duration::days(1), (until.date()) + Duration::days(2))
            .into_iter()
            .filter(|s| s.start.naive_utc() >= at && s.start.naive_utc() < until)
            .collect();
        let counts = store::counts_between(conn, &watch.id, at, until)?;
        let coverage = coverage_of(&schedule, &slots, &counts, watch.min_per_slot);
        if coverage.gaps.is_empty() {
            continue;
        }
        let leaders = match &leaders {
            Some(l) => l.clone(),
            None => {
                let l: Vec<String> = members::table
                    .filter(members::active.eq(true))
                    .filter(
                        members::role
                            .eq(Role::Admin)
                            .or(members::role.eq(Role::Leader)),
                    )
                    .select(members::id)
                    .load(conn)?;
                leaders = Some(l.clone());
                l
            }
        };
        let mut to = leaders;
        if let Some(team) = &watch.team_id {
            to.extend(teams::leader_ids(conn, team)?);
        }
        to.sort();
        to.dedup();
        let gaps: Vec<_> = coverage
            .gaps
            .iter()
            .map(|g| {
                json!({
                    "start": g.start.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "end": g.end.to_rfc3339_opts(SecondsFormat::Secs, true),
                })
            })
            .collect();
        let open = slots.len() as i64 - coverage.slots_filled;
        for member_id in to {
            notices.push(Notice {
                event: Event::WatchGapsDigest,
                key: format!("watch.gaps_digest:{}:{day}", watch.id),
                data: json!({
                    "watch_id": watch.id,
                    "date": day.to_string(),
                    "open_slots": open,
                    "gaps": gaps,
                }),
                member_id,
                due: None,
            });
        }
    }
    outbox::enqueue(conn, now, channels, &notices)?;
    Ok(notices.len())
}
