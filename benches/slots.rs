//! Micro-benchmarks (criterion) of the pure hot spots behind the watch endpoints: laying out a
//! watch's slots across time zones and daylight saving, and computing its coverage. They time the
//! computation alone, without HTTP or a database; `scripts/bench.py` measures the endpoints.
//!
//! `cargo bench --bench slots`

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use criterion::{criterion_group, criterion_main, Criterion};
use intercede::watches::routes::coverage_of;
use intercede::watches::slots::{Schedule, Slot};

fn schedule(tz: &str, slot_minutes: u32, day_start: u32, day_end: u32) -> Schedule {
    Schedule {
        tz: tz.parse().expect("a known zone"),
        starts_on: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2027, 12, 31),
        slot_minutes,
        day_start,
        day_end,
    }
}

fn year() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2028, 1, 1).unwrap(),
    )
}

/// Every third slot held by one person, a few by two: the shape of a watch 5,000 signups fill.
fn counts_for(slots: &[Slot]) -> HashMap<NaiveDateTime, i64> {
    slots
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(i, s)| (s.start.naive_utc(), if i % 7 == 0 { 2 } else { 1 }))
        .collect()
}

fn slot_generation(c: &mut Criterion) {
    let (from, to) = year();
    let mut group = c.benchmark_group("slots");
    let cases = [
        (
            "a year, 24/7 hourly, New York (DST)",
            schedule("America/New_York", 60, 0, 1440),
        ),
        ("a year, 24/7 hourly, UTC", schedule("UTC", 60, 0, 1440)),
        (
            "a year, 15-minute slots, London (DST)",
            schedule("Europe/London", 15, 0, 1440),
        ),
        (
            "a year, night watch 22:00-06:00, Sydney",
            schedule("Australia/Sydney", 60, 22 * 60, 6 * 60),
        ),
    ];
    for (name, s) in &cases {
        group.bench_function(*name, |b| b.iter(|| s.slots(from, to)));
    }
    let week_to = from + chrono::Duration::days(7);
    let ny = &cases[0].1;
    group.bench_function("a week, 24/7 hourly, New York", |b| {
        b.iter(|| ny.slots(from, week_to))
    });
    group.finish();
}

fn coverage(c: &mut Criterion) {
    let (from, to) = year();
    let s = schedule("America/New_York", 60, 0, 1440);
    let slots = s.slots(from, to);
    let counts = counts_for(&slots);
    c.bench_function("coverage: a year of a 24/7 hourly watch", |b| {
        b.iter(|| coverage_of(&s, &slots, &counts, 1))
    });
    let london = schedule("Europe/London", 15, 0, 1440);
    let quarter_hours = london.slots(from, to);
    let counts = counts_for(&quarter_hours);
    c.bench_function("coverage: a year of 15-minute slots", |b| {
        b.iter(|| coverage_of(&london, &quarter_hours, &counts, 1))
    });
}

criterion_group!(benches, slot_generation, coverage);
criterion_main!(benches);
