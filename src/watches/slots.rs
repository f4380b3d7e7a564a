//! Slot arithmetic for prayer watches: pure functions, no database.
//!
//! A watch lays slots in its own time zone, every day from `day_start` to `day_end` (a window that
//! may cross midnight), in steps of `slot_minutes`. Slots are labelled by wall-clock time and mapped
//! to true UTC instants:
//! - a label that does not exist (the hour skipped when clocks go forward) has no slot;
//! - a label that exists twice (the hour repeated when clocks go back) has two slots, one per
//!   offset, told apart by their UTC instants and their RFC 3339 offsets;
//! - a slot ends where the next boundary of its window falls, in real time, so a three-hour watch
//!   across the spring change lasts two real hours and one across the autumn change four.
//!
//! Within a window, slots tile it exactly: sorted, no gaps, no overlaps.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::FieldError;

/// Minutes in a day; `day_end` may be exactly this ("24:00").
pub const DAY: u32 = 1440;

/// How a watch lays its slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub tz: Tz,
    pub starts_on: NaiveDate,
    /// Last day a window starts on, if any.
    pub ends_on: Option<NaiveDate>,
    pub slot_minutes: u32,
    /// Minutes after local midnight, 0..1440.
    pub day_start: u32,
    /// Minutes after local midnight, 1..=1440; at or before `day_start` the window crosses midnight.
    pub day_end: u32,
}

/// One slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The wall-clock label of its start.
    pub label: NaiveDateTime,
    /// The local date whose window the slot belongs to.
    pub day: NaiveDate,
}

/// Why a schedule is invalid, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

/// Parses `HH:MM`; `24:00` only when `allow_24` (for `day_end`).
pub fn parse_hhmm(value: &str, allow_24: bool) -> Option<u32> {
    let (h, m) = value.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if allow_24 => Some(DAY),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

pub fn format_hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl Schedule {
    /// The window's length in minutes: `day_end - day_start`, wrapping past midnight; a window
    /// that ends where it starts is a whole day.
    pub fn window_minutes(&self) -> u32 {
        match (self.day_end + DAY - self.day_start) % DAY {
            0 => DAY,
            n => n,
        }
    }

    /// Checks the rules that do not depend on the database.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if !(5..=720).contains(&self.slot_minutes) {
            return Err(ScheduleError {
                field: "slot_minutes",
                message: "must be from 5 to 720".into(),
            });
        }
        if self.window_minutes() % self.slot_minutes != 0 {
            return Err(ScheduleError {
                field: "slot_minutes",
                message: format!(
                    "must divide the daily window of {} minutes ({} to {})",
                    self.window_minutes(),
                    format_hhmm(self.day_start),
                    format_hhmm(self.day_end)
                ),
            });
        }
        if self.ends_on.is_some_and(|end| end < self.starts_on) {
            return Err(ScheduleError {
                field: "ends_on",
                message: "must not be before starts_on".into(),
            });
        }
        Ok(())
    }

    fn slots_per_window(&self) -> u32 {
        self.window_minutes() / self.slot_minutes
    }

    fn runs_on(&self, day: NaiveDate) -> bool {
        day >= self.starts_on && self.ends_on.is_none_or(|end| day <= end)
    }

    /// The wall-clock label of boundary `k` of `day`'s window (k = 0 is its start).
    fn label(&self, day: NaiveDate, k: u32) -> NaiveDateTime {
        day.and_time(NaiveTime::MIN)
            + Duration::minutes(i64::from(self.day_start + k * self.slot_minutes))
    }

    /// The slots of the window that starts on `day` (none when the watch does not run that day).
    pub fn window(&self, day: NaiveDate) -> Vec<Slot> {
        if !self.runs_on(day) {
            return Vec::new();
        }
        let n = self.slots_per_window();
        // Every boundary's instants, with whether it starts a slot. A label in a gap has none,
        // except the window's own end, which falls at the end of the gap.
        let mut boundaries: Vec<(DateTime<Utc>, Option<NaiveDateTime>)> = Vec::new();
        for k in 0..=n {
            let label = self.label(day, k);
            let starts = (k < n).then_some(label);
            match self.tz.from_local_datetime(&label) {
                LocalResult::Single(t) => boundaries.push((t.with_timezone(&Utc), starts)),
                LocalResult::Ambiguous(a, b) => {
                    boundaries.push((a.with_timezone(&Utc), starts));
                    boundaries.push((b.with_timezone(&Utc), starts));
                }
                LocalResult::None if k == n => boundaries.push((self.after_gap(label), None)),
                LocalResult::None => {}
            }
        }
        boundaries.sort_by_key(|(t, _)| *t);
        boundaries.dedup_by_key(|(t, _)| *t);
        boundaries
            .windows(2)
            .filter_map(|pair| {
                let (start, label) = pair[0];
                let (end, _) = pair[1];
                label.map(|label| Slot {
                    start,
                    end,
                    label,
                    day,
                })
            })
            .collect()
    }

    /// For a wall-clock time that falls in a gap: the instant the gap ends, which is the first
    /// wall-clock minute after it that exists (clocks jump to it).
    fn after_gap(&self, label: NaiveDateTime) -> DateTime<Utc> {
        after_gap(self.tz, label)
    }

    /// Every slot whose window starts on a local date in `from..to` (half-open), in order.
    pub fn slots(&self, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut day = from.max(self.starts_on);
        while day < to && self.ends_on.is_none_or(|end| day <= end) {
            out.extend(self.window(day));
            day = day.succ_opt().expect("dates stay in range");
        }
        out
    }

    /// The slot that starts exactly at `start`, if there is one.
    pub fn slot_starting_at(&self, start: DateTime<Utc>) -> Option<Slot> {
        let local = start.with_timezone(&self.tz).date_naive();
        // A window that crosses midnight started the day before.
        [local.pred_opt()?, local]
            .into_iter()
            .flat_map(|day| self.window(day))
            .find(|slot| slot.start == start)
    }

    /// The slot in progress at `at`, if any.
    pub fn slot_at(&self, at: DateTime<Utc>) -> Option<Slot> {
        let local = at.with_timezone(&self.tz).date_naive();
        [local.pred_opt()?, local]
            .into_iter()
            .flat_map(|day| self.window(day))
            .find(|slot| slot.start <= at && at < slot.end)
    }

    /// The first slot starting at or after `at`, within a year.
    pub fn next_slot(&self, at: DateTime<Utc>) -> Option<Slot> {
        let local = at.with_timezone(&self.tz).date_naive();
        let mut day = local.pred_opt()?.max(self.starts_on);
        for _ in 0..370 {
            if self.ends_on.is_some_and(|end| day > end) {
                return None;
            }
            if let Some(slot) = self.window(day).into_iter().find(|s| s.start >= at) {
                return Some(slot);
            }
            day = day.succ_opt()?;
        }
        None
    }

    /// The slot a weekly signup holds `weeks` after `first`: the same wall-clock label on the same
    /// weekday. Where the label is repeated (clocks going back) it is the first of the two; where it
    /// does not exist that week (clocks going forward) there is none.
    pub fn weekly(&self, first: &Slot, weeks: u32) -> Option<Slot> {
        if weeks == 0 {
            return Some(*first);
        }
        let day = first.day + Duration::weeks(i64::from(weeks));
        let label = first.label + Duration::weeks(i64::from(weeks));
        self.window(day).into_iter().find(|s| s.label == label)
    }

    /// Every week of a weekly signup from `first` to `until` (a local date, inclusive): the week's
    /// wall-clock label, and the slot it holds that week, if the label exists then (see
    /// [`Schedule::weekly`]).
    pub fn weekly_series<'a>(
        &'a self,
        first: &'a Slot,
        until: NaiveDate,
    ) -> impl Iterator<Item = (NaiveDateTime, Option<Slot>)> + 'a {
        (0u32..).map_while(move |week| {
            let day = first.day + Duration::weeks(i64::from(week));
            (day <= until).then(|| {
                let label = first.label + Duration::weeks(i64::from(week));
                (label, self.weekly(first, week))
            })
        })
    }

    /// The RFC 3339 form of an instant in the watch's zone, offset included
    /// (`2027-11-07T01:00:00-04:00`).
    pub fn local(&self, at: DateTime<Utc>) -> String {
        local_in(self.tz, at)
    }

    /// Local midnight starting `day` in the watch's zone, as an instant.
    pub fn day_start_instant(&self, day: NaiveDate) -> DateTime<Utc> {
        day_start_in(self.tz, day)
    }

    /// The watch's own "today", which decides default ranges.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz).date_naive()
    }
}

/// Local midnight starting `day` in `tz`, as an instant (the first instant of the day where
/// midnight itself is skipped).
pub fn day_start_in(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    local_instant(tz, day.and_time(NaiveTime::MIN))
}

/// The instant a wall-clock time in `tz` names: the earlier one when the clocks go back and it
/// happens twice, the end of the gap when the clocks go forward over it.
pub fn local_instant(tz: Tz, label: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&label) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => after_gap(tz, label),
    }
}

/// `at` as local time in `tz`, RFC 3339 with its offset.
pub fn local_in(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// For a wall-clock time in `tz` that falls in a gap: the instant the gap ends.
fn after_gap(tz: Tz, label: NaiveDateTime) -> DateTime<Utc> {
    let mut t = label;
    for _ in 0..(24 * 60) {
        t += Duration::minutes(1);
        if let Some(found) = tz.from_local_datetime(&t).earliest() {
            return found.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&label)
}

/// `from..to` in local dates: defaults (today, a week), `to` after `from`, at most `max_days`.
pub fn date_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
    max_days: i64,
) -> Result<(NaiveDate, NaiveDate), FieldError> {
    let from = from.unwrap_or(today);
    let to = to.unwrap_or(from + Duration::days(7.min(max_days)));
    if to <= from {
        return Err(FieldError::new("to", "must be after from"));
    }
    if (to - from).num_days() > max_days {
        return Err(FieldError::new(
            "to",
            format!("must be at most {max_days} days after from"),
        ));
    }
    Ok((from, to))
}

/// The stored starts that `slots` (in order) cover, as a half-open range for a query: from the
/// first slot's start to just after the last one's.
pub fn starts_span(slots: &[Slot]) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let (first, last) = (slots.first()?, slots.last()?);
    Some((
        first.start.naive_utc(),
        last.start.naive_utc() + Duration::seconds(1),
    ))
}

/// Merges runs of adjacent slots into `(start, end)` spans: coverage gaps.
pub fn merge(slots: impl IntoIterator<Item = Slot>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for slot in slots {
        match spans.last_mut() {
            Some(last) if last.1 == slot.start => last.1 = slot.end,
            _ => spans.push((slot.start, slot.end)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_date_range_defaults_to_a_week_from_today_and_refuses_backwards_or_long_ones() {
        let today = date("2027-03-10");
        assert_eq!(
            date_range(None, None, today, 31).unwrap(),
            (today, date("2027-03-17"))
        );
        assert_eq!(
            date_range(None, None, today, 3).unwrap(),
            (today, date("2027-03-13"))
        );
        assert!(date_range(Some(today), Some(today), today, 31).is_err());
        assert!(date_range(Some(today), Some(date("2027-03-09")), today, 31).is_err());
        assert!(date_range(Some(today), Some(date("2027-04-11")), today, 31).is_err());
        assert!(date_range(Some(today), Some(date("2027-04-10")), today, 31).is_ok());
    }

    #[test]
    fn midnight_skipped_by_daylight_saving_starts_the_day_when_clocks_jump() {
        // Havana springs forward at midnight: 2027-03-14 begins at 01:00 local (05:00Z).
        let tz: Tz = "America/Havana".parse().unwrap();
        let start = day_start_in(tz, date("2027-03-14"));
        assert_eq!(local_in(tz, start), "2027-03-14T01:00:00-04:00");
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn schedule(tz: &str, slot_minutes: u32, day_start: &str, day_end: &str) -> Schedule {
        Schedule {
            tz: tz.parse().unwrap(),
            starts_on: date("2026-01-01"),
            ends_on: None,
            slot_minutes,
            day_start: parse_hhmm(day_start, false).unwrap(),
            day_end: parse_hhmm(day_end, true).unwrap(),
        }
    }

    fn locals(s: &Schedule, slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|x| s.local(x.start)).collect()
    }

    #[test]
    fn times_parse_as_hh_mm_and_24_00_only_ends_a_day() {
        assert_eq!(parse_hhmm("00:00", false), Some(0));
        assert_eq!(parse_hhmm("22:30", false), Some(1350));
        assert_eq!(parse_hhmm("24:00", true), Some(1440));
        assert_eq!(parse_hhmm("24:00", false), None);
        for bad in ["7:00", "07:60", "25:00", "0700", "ab:cd", "", "07:00:00"] {
            assert_eq!(parse_hhmm(bad, true), None, "{bad}");
        }
    }

    #[test]
    fn slot_minutes_must_divide_the_window() {
        assert!(schedule("UTC", 60, "00:00", "24:00").validate().is_ok());
        assert!(schedule("UTC", 180, "00:00", "24:00").validate().is_ok());
        assert!(schedule("UTC", 120, "22:00", "06:00").validate().is_ok());
        assert_eq!(
            schedule("UTC", 7, "00:00", "24:00")
                .validate()
                .unwrap_err()
                .field,
            "slot_minutes"
        );
        assert_eq!(
            schedule("UTC", 180, "22:00", "06:00")
                .validate()
                .unwrap_err()
                .field,
            "slot_minutes"
        );
        assert_eq!(
            schedule("UTC", 4, "00:00", "24:00")
                .validate()
                .unwrap_err()
                .field,
            "slot_minutes"
        );
        assert_eq!(
            schedule("UTC", 721, "00:00", "24:00")
                .validate()
                .unwrap_err()
                .field,
            "slot_minutes"
        );
        let mut s = schedule("UTC", 60, "00:00", "24:00");
        s.ends_on = Some(date("2025-12-31"));
        assert_eq!(s.validate().unwrap_err().field, "ends_on");
    }

    #[test]
    fn a_24_7_watch_has_24_hourly_slots_a_day_and_8760_a_year() {
        let s = schedule("UTC", 60, "00:00", "24:00");
        assert_eq!(s.window(date("2027-03-01")).len(), 24);
        assert_eq!(s.slots(date("2027-01-01"), date("2028-01-01")).len(), 8760);
    }

    #[test]
    fn a_night_watch_crosses_midnight() {
        let s = schedule("Africa/Lagos", 120, "22:00", "06:00");
        let slots = s.window(date("2027-05-01"));
        assert_eq!(
            locals(&s, &slots),
            vec![
                "2027-05-01T22:00:00+01:00",
                "2027-05-02T00:00:00+01:00",
                "2027-05-02T02:00:00+01:00",
                "2027-05-02T04:00:00+01:00"
            ]
        );
        assert_eq!(slots[3].end, utc("2027-05-02T05:00:00Z"));
        assert!(slots.iter().all(|x| x.day == date("2027-05-01")));
    }

    #[test]
    fn new_york_spring_forward_skips_the_missing_hour() {
        let s = schedule("America/New_York", 60, "00:00", "24:00");
        let slots = s.window(date("2027-03-14"));
        assert_eq!(slots.len(), 23);
        let labels: Vec<String> = slots
            .iter()
            .map(|x| x.label.format("%H:%M").to_string())
            .collect();
        assert!(!labels.contains(&"02:00".to_string()));
        // 01:00 EST lasts one real hour, until 03:00 EDT.
        assert_eq!(slots[1].start, utc("2027-03-14T06:00:00Z"));
        assert_eq!(slots[1].end, utc("2027-03-14T07:00:00Z"));
        assert_eq!(s.local(slots[2].start), "2027-03-14T03:00:00-04:00");
    }

    #[test]
    fn new_york_fall_back_repeats_the_hour_as_two_distinct_slots() {
        let s = schedule("America/New_York", 60, "00:00", "24:00");
        let slots = s.window(date("2027-11-07"));
        assert_eq!(slots.len(), 25);
        assert_eq!(s.local(slots[1].start), "2027-11-07T01:00:00-04:00");
        assert_eq!(s.local(slots[2].start), "2027-11-07T01:00:00-05:00");
        assert_eq!(slots[1].label, slots[2].label);
        assert_ne!(slots[1].start, slots[2].start);
        assert_eq!(slots[2].end - slots[2].start, Duration::hours(1));
    }

    #[test]
    fn half_hour_slots_repeat_in_real_time_order_through_the_fall_back() {
        let s = schedule("America/New_York", 30, "00:00", "24:00");
        let slots = s.window(date("2027-11-07"));
        let around: Vec<String> = locals(&s, &slots[2..6]);
        assert_eq!(
            around,
            vec![
                "2027-11-07T01:00:00-04:00",
                "2027-11-07T01:30:00-04:00",
                "2027-11-07T01:00:00-05:00",
                "2027-11-07T01:30:00-05:00"
            ]
        );
    }

    #[test]
    fn three_hour_watches_keep_their_labels_and_true_lengths_across_changes() {
        let s = schedule("America/New_York", 180, "00:00", "24:00");
        let spring = s.window(date("2027-03-14"));
        assert_eq!(spring.len(), 8);
        assert_eq!(spring[0].end - spring[0].start, Duration::hours(2));
        let autumn = s.window(date("2027-11-07"));
        assert_eq!(autumn.len(), 8);
        assert_eq!(autumn[0].end - autumn[0].start, Duration::hours(4));
    }

    #[test]
    fn london_changes_at_one_in_the_morning() {
        let s = schedule("Europe/London", 60, "00:00", "24:00");
        let spring = s.window(date("2027-03-28"));
        assert_eq!(spring.len(), 23);
        assert_eq!(s.local(spring[1].start), "2027-03-28T02:00:00+01:00");
        let autumn = s.window(date("2027-10-31"));
        assert_eq!(autumn.len(), 25);
        assert_eq!(s.local(autumn[1].start), "2027-10-31T01:00:00+01:00");
        assert_eq!(s.local(autumn[2].start), "2027-10-31T01:00:00+00:00");
    }

    #[test]
    fn a_zone_without_daylight_saving_is_always_24_slots() {
        let s = schedule("Asia/Tokyo", 60, "00:00", "24:00");
        for day in s.slots(date("2027-01-01"), date("2027-12-31")).chunks(24) {
            assert_eq!(day.len(), 24);
        }
        assert_eq!(s.slots(date("2027-01-01"), date("2028-01-01")).len(), 8760);
    }

    #[test]
    fn a_window_ending_in_the_skipped_hour_ends_when_clocks_jump() {
        let s = schedule("America/New_York", 30, "22:00", "02:30");
        let slots = s.window(date("2027-03-13"));
        let last = slots.last().unwrap();
        assert_eq!(s.local(last.start), "2027-03-14T01:30:00-05:00");
        assert_eq!(last.end, utc("2027-03-14T07:00:00Z"));
    }

    #[test]
    fn a_slot_is_found_by_its_exact_start_and_nothing_else_is_a_slot() {
        let s = schedule("America/New_York", 60, "22:00", "06:00");
        let slot = s.slot_starting_at(utc("2027-06-02T05:00:00Z")).unwrap();
        assert_eq!(slot.day, date("2027-06-01"));
        assert!(s.slot_starting_at(utc("2027-06-02T05:30:00Z")).is_none());
        assert!(s.slot_starting_at(utc("2027-06-02T15:00:00Z")).is_none());
        let now = s.slot_at(utc("2027-06-02T05:45:00Z")).unwrap();
        assert_eq!(now.start, utc("2027-06-02T05:00:00Z"));
        assert!(s.slot_at(utc("2027-06-02T15:00:00Z")).is_none());
        assert_eq!(
            s.next_slot(utc("2027-06-02T15:00:00Z")).unwrap().start,
            utc("2027-06-03T02:00:00Z")
        );
    }

    #[test]
    fn the_watch_runs_from_its_first_to_its_last_day() {
        let mut s = schedule("UTC", 60, "00:00", "24:00");
        s.starts_on = date("2027-01-10");
        s.ends_on = Some(date("2027-01-11"));
        assert_eq!(s.slots(date("2027-01-01"), date("2027-02-01")).len(), 48);
        assert!(s.window(date("2027-01-09")).is_empty());
        assert!(s.window(date("2027-01-12")).is_empty());
    }

    #[test]
    fn weekly_slots_keep_their_local_time_across_daylight_saving() {
        let s = schedule("America/New_York", 60, "00:00", "24:00");
        let first = s.slot_starting_at(utc("2027-03-09T08:00:00Z")).unwrap(); // Tue 03:00 EST
        let next = s.weekly(&first, 1).unwrap();
        assert_eq!(s.local(next.start), "2027-03-16T03:00:00-04:00");
        // 02:00 does not exist on 14 March: a Sunday-02:00 weekly skips that week.
        let sunday = s.slot_starting_at(utc("2027-03-07T07:00:00Z")).unwrap();
        assert_eq!(sunday.label.format("%H:%M").to_string(), "02:00");
        assert!(s.weekly(&sunday, 1).is_none());
        assert_eq!(
            s.local(s.weekly(&sunday, 2).unwrap().start),
            "2027-03-21T02:00:00-04:00"
        );
    }

    #[test]
    fn gaps_merge_adjacent_slots() {
        let s = schedule("UTC", 60, "00:00", "24:00");
        let slots = s.window(date("2027-01-01"));
        let empty: Vec<Slot> = slots
            .iter()
            .copied()
            .filter(|x| {
                ![3usize, 4].contains(&(x.start.format("%H").to_string().parse::<usize>().unwrap()))
            })
            .collect();
        let spans = merge(empty);
        assert_eq!(spans.len(), 2);
        assert_eq!(
            spans[0],
            (utc("2027-01-01T00:00:00Z"), utc("2027-01-01T03:00:00Z"))
        );
        assert_eq!(
            spans[1],
            (utc("2027-01-01T05:00:00Z"), utc("2027-01-02T00:00:00Z"))
        );
    }

    /// Any watch, any range: slots are sorted, never overlap, have positive length, and tile each
    /// window exactly.
    #[test]
    fn property_slots_are_sorted_disjoint_and_tile_each_window() {
        let zones = [
            "UTC",
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "America/Santiago",
            "Asia/Tokyo",
            "Africa/Casablanca",
            "Pacific/Apia",
        ];
        let steps = [
            5u32, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720,
        ];
        let mut rng = StdRng::seed_from_u64(20261125);
        let mut checked = 0;
        while checked < 300 {
            let tz: Tz = zones[rng.random_range(0..zones.len())].parse().unwrap();
            let slot_minutes = steps[rng.random_range(0..steps.len())];
            let day_start = rng.random_range(0..96u32) * 15;
            let day_end = rng.random_range(1..=96u32) * 15;
            let s = Schedule {
                tz,
                starts_on: date("2026-01-01"),
                ends_on: None,
                slot_minutes,
                day_start,
                day_end,
            };
            if s.validate().is_err() {
                continue;
            }
            checked += 1;
            let from = date("2026-01-01") + Duration::days(rng.random_range(0..700));
            let to = from + Duration::days(rng.random_range(1..20));
            let slots = s.slots(from, to);
            for pair in slots.windows(2) {
                assert!(
                    pair[0].start < pair[1].start,
                    "{s:?} unsorted at {:?}",
                    pair[0]
                );
                assert!(
                    pair[0].end <= pair[1].start,
                    "{s:?} overlap at {:?}",
                    pair[0]
                );
            }
            for day in slots.chunk_by(|a, b| a.day == b.day) {
                for pair in day.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "{s:?} gap at {:?}", pair[0]);
                }
                for slot in day {
                    assert!(slot.start < slot.end, "{s:?} empty slot {slot:?}");
                }
                // Finding a slot by its start: checked on a sample, as it recomputes windows.
                let probe = day[rng.random_range(0..day.len())];
                assert_eq!(s.slot_starting_at(probe.start), Some(probe), "{s:?}");
            }
        }
    }
}
