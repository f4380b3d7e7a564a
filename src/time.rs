//! Instants as the API shows them: UTC, RFC 3339 with `Z`, whole seconds; stored as naive UTC
//! timestamps, the one timestamp type SQLite and PostgreSQL share through diesel. What time it is
//! comes from [`crate::clock::Clock`].

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Serializer;

pub fn to_utc(naive: NaiveDateTime) -> DateTime<Utc> {
    naive.and_utc()
}

/// Serializes an instant as `2026-11-25T03:00:00Z`: whole seconds, `Z` (chrono's own
/// serialization would add the fraction).
pub fn rfc3339<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Like [`rfc3339`], for optional instants.
pub fn rfc3339_opt<S: Serializer>(value: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => rfc3339(v, s),
        None => s.serialize_none(),
    }
}

/// Like [`rfc3339`], for an instant as stored (naive UTC), so a row read from the database
/// serializes without a second struct.
pub fn stored<S: Serializer>(value: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    rfc3339(&to_utc(*value), s)
}

/// Like [`stored`], for an optional instant.
pub fn stored_opt<S: Serializer>(value: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => stored(v, s),
        None => s.serialize_none(),
    }
}

/// Like [`stored`], for a list of stored instants.
pub fn stored_list<S: Serializer>(values: &[NaiveDateTime], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        values
            .iter()
            .map(|v| to_utc(*v).to_rfc3339_opts(SecondsFormat::Secs, true)),
    )
}

/// Whether `at`, read on the wall clock of `tz`, falls in the daily span `start..end` (minutes
/// after local midnight; an `end` at or before `start` crosses midnight): quiet hours.
pub fn within_daily(tz: chrono_tz::Tz, start: u32, end: u32, at: NaiveDateTime) -> bool {
    use chrono::Timelike;
    let local = to_utc(at).with_timezone(&tz);
    let minute = local.hour() * 60 + local.minute();
    if start < end {
        (start..end).contains(&minute)
    } else {
        minute >= start || minute < end
    }
}

/// The latest moment in `(since, now]` when the wall clock in `tz` read `at` (08:00, say), with
/// that local date: when a daily task's hour came for that zone. A wall-clock time that a
/// daylight-saving change skips comes at the end of the gap; one that happens twice comes the
/// first time. `None` when it did not come in that span.
pub fn daily_between(
    tz: chrono_tz::Tz,
    at: chrono::NaiveTime,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> Option<(chrono::NaiveDate, NaiveDateTime)> {
    use chrono::{Duration, TimeZone};
    let today = to_utc(now).with_timezone(&tz).date_naive();
    (0..3)
        .map(|back| today - Duration::days(back))
        .find_map(|day| {
            let local = day.and_time(at);
            let instant = tz
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| {
                    (1..=180).find_map(|m| {
                        tz.from_local_datetime(&(local + Duration::minutes(m)))
                            .earliest()
                    })
                })?
                .naive_utc();
            (instant > since && instant <= now).then_some((day, instant))
        })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct At {
        #[serde(serialize_with = "rfc3339")]
        at: DateTime<Utc>,
    }

    fn naive(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    #[test]
    fn a_daily_hour_comes_once_in_the_span_that_holds_it_in_each_zone() {
        let eight = chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap();
        let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
        // 08:00 in Tokyo on 2 June is 23:00Z on 1 June.
        assert_eq!(
            daily_between(
                tokyo,
                eight,
                naive("2027-06-01T22:55:00"),
                naive("2027-06-01T23:00:00")
            ),
            Some((
                NaiveDate::from_ymd_opt(2027, 6, 2).unwrap(),
                naive("2027-06-01T23:00:00")
            ))
        );
        assert_eq!(
            daily_between(
                tokyo,
                eight,
                naive("2027-06-01T23:00:00"),
                naive("2027-06-01T23:05:00")
            ),
            None
        );
        // New York skips 02:00-03:00 on 14 March 2027: a 02:30 task comes at 03:00 EDT (07:00Z).
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let half_two = chrono::NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        assert_eq!(
            daily_between(
                ny,
                half_two,
                naive("2027-03-14T06:00:00"),
                naive("2027-03-14T08:00:00")
            )
            .map(|(_, at)| at),
            Some(naive("2027-03-14T07:00:00"))
        );
    }

    #[test]
    fn instants_are_whole_seconds_in_utc_with_z() {
        let at = NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 678_901)
            .unwrap()
            .and_utc();
        assert_eq!(
            serde_json::to_value(At { at }).unwrap()["at"],
            "2026-11-25T03:04:05Z"
        );
    }
}
