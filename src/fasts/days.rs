//! The calendar of a fast, in its own time zone: which day it is, the date of a day, streaks.
//! Pure, so the rules are tested without a database.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// A fast's days: `days` consecutive local dates from `starts_on` in `tz`.
#[derive(Debug, Clone, Copy)]
pub struct FastCalendar {
    pub tz: Tz,
    pub starts_on: NaiveDate,
    pub days: i32,
}

impl FastCalendar {
    /// The local date in the fast's zone at `at`.
    pub fn today(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Day number `at` falls on (1-based): `None` before the first day and after the last. Day 1
    /// begins at local midnight in the fast's zone, wherever the member is.
    pub fn current_day(&self, at: DateTime<Utc>) -> Option<i32> {
        let n = (self.today(at) - self.starts_on).num_days() + 1;
        (1..=i64::from(self.days)).contains(&n).then_some(n as i32)
    }

    /// The last day that has begun by `at` (0 before the fast, `days` after it).
    pub fn begun(&self, at: DateTime<Utc>) -> i32 {
        let n = (self.today(at) - self.starts_on).num_days() + 1;
        n.clamp(0, i64::from(self.days)) as i32
    }

    pub fn date_of(&self, day: i32) -> NaiveDate {
        self.starts_on + Duration::days(i64::from(day - 1))
    }
}

/// The current streak: consecutive committed days, counting back from the latest begun one, kept
/// (fully or partly). Today does not break it before its check-in is in.
pub fn streak(
    committed: &[i32],
    kept: impl Fn(i32) -> Option<bool>,
    begun: i32,
    today: Option<i32>,
) -> i32 {
    let mut days: Vec<i32> = committed.iter().copied().filter(|d| *d <= begun).collect();
    days.sort_unstable_by(|a, b| b.cmp(a));
    let mut count = 0;
    for day in days {
        match kept(day) {
            Some(true) => count += 1,
            None if Some(day) == today => continue,
            _ => break,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(tz: &str, starts_on: &str, days: i32) -> FastCalendar {
        FastCalendar {
            tz: tz.parse().unwrap(),
            starts_on: starts_on.parse().unwrap(),
            days,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_day_is_counted_in_the_fasts_zone() {
        let auckland = cal("Pacific/Auckland", "2027-01-04", 21);
        // 11:30 UTC on 3 January is already 00:30 on 4 January in Auckland (UTC+13 in summer),
        // while Los Angeles is still on the 3rd.
        assert_eq!(auckland.current_day(utc("2027-01-03T11:30:00Z")), Some(1));
        assert_eq!(auckland.current_day(utc("2027-01-03T10:30:00Z")), None);
        assert_eq!(auckland.current_day(utc("2027-01-24T10:59:00Z")), Some(21));
        assert_eq!(auckland.current_day(utc("2027-01-24T11:00:00Z")), None);
        assert_eq!(auckland.begun(utc("2027-02-01T00:00:00Z")), 21);
        assert_eq!(auckland.begun(utc("2026-12-01T00:00:00Z")), 0);
        assert_eq!(auckland.date_of(21).to_string(), "2027-01-24");
    }

    #[test]
    fn a_streak_counts_back_over_kept_days_and_forgives_today() {
        let kept = |d: i32| match d {
            1 | 2 => Some(true),
            3 => Some(false),
            4 | 5 => Some(true),
            _ => None,
        };
        let all: Vec<i32> = (1..=7).collect();
        assert_eq!(streak(&all, kept, 5, Some(5)), 2);
        assert_eq!(
            streak(&all, kept, 6, Some(6)),
            2,
            "today not yet checked in"
        );
        assert_eq!(streak(&all, kept, 7, Some(7)), 0, "yesterday was missed");
        // A chain member committed to days 1, 2, 4, 5: day 3 was never theirs, so it breaks nothing.
        assert_eq!(streak(&[1, 2, 4, 5], kept, 5, Some(5)), 4);
        assert_eq!(streak(&[1, 2], kept, 2, Some(2)), 2);
        assert_eq!(streak(&[], kept, 5, Some(5)), 0);
    }
}
