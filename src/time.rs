//! Instants as the API shows them: UTC, RFC 3339 with `Z`, whole seconds; stored as naive UTC
//! timestamps, the one timestamp type SQLite and PostgreSQL share through diesel.

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, SubsecRound, Timelike, Utc,
};
use serde::Serializer;

/// Now, truncated to microseconds so that what PostgreSQL stores equals what was computed.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub fn to_utc(naive: NaiveDateTime) -> DateTime<Utc> {
    naive.and_utc()
}

/// Serializes an instant as `2026-11-25T03:00:00Z`.
///
/// Written digit by digit into a buffer on the stack: chrono's `to_rfc3339_opts` goes through
/// `fmt` and a fresh `String`, and a list page writes three instants per request (a fifth of its
/// JSON time). Years outside 0000-9999, which RFC 3339 cannot write plainly, go to chrono.
pub fn rfc3339<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let date = value.date_naive();
    let time = value.time();
    let mut buf = *b"0000-00-00T00:00:00Z";
    if !put_date(&mut buf, date) {
        return s.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    put_two(&mut buf[11..13], time.hour());
    put_two(&mut buf[14..16], time.minute());
    // A leap second (chrono's second 59 with 1_000_000_000+ nanoseconds) reads as :60, as chrono
    // writes it.
    let leap = u32::from(time.nanosecond() >= 1_000_000_000);
    put_two(&mut buf[17..19], time.second() + leap);
    s.serialize_str(std::str::from_utf8(&buf).expect("ASCII digits"))
}

/// Serializes a day as `2026-11-25`, as chrono does, without its `fmt` machinery (see
/// [`rfc3339`]).
pub fn date<S: Serializer>(value: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = *b"0000-00-00";
    if !put_date(&mut buf, *value) {
        return s.collect_str(value);
    }
    s.serialize_str(std::str::from_utf8(&buf).expect("ASCII digits"))
}

/// Writes `YYYY-MM-DD` at the start of `buf`; false (nothing written) for years that are not
/// four digits.
fn put_date(buf: &mut [u8], date: NaiveDate) -> bool {
    let Ok(year) = u32::try_from(date.year()) else {
        return false;
    };
    if year > 9999 {
        return false;
    }
    put_two(&mut buf[0..2], year / 100);
    put_two(&mut buf[2..4], year % 100);
    put_two(&mut buf[5..7], date.month());
    put_two(&mut buf[8..10], date.day());
    true
}

fn put_two(out: &mut [u8], n: u32) {
    out[0] = b'0' + (n / 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// Like [`rfc3339`], for optional instants.
pub fn rfc3339_opt<S: Serializer>(value: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => rfc3339(v, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Both {
        #[serde(serialize_with = "rfc3339")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "date")]
        on: NaiveDate,
    }

    /// The hand-written digits say what chrono says, for every kind of day and instant: the
    /// ordinary ones, the edges of four-digit years, beyond them, and a leap second.
    #[test]
    fn hand_written_instants_and_days_match_chrono() {
        let days = [
            NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-1, 6, 15).unwrap(),
            NaiveDate::from_ymd_opt(7, 7, 7).unwrap(),
        ];
        let times = [
            NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            NaiveTime::from_hms_micro_opt(3, 4, 5, 678_901).unwrap(),
            NaiveTime::from_hms_opt(23, 59, 59).unwrap(),
            NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap(),
        ];
        let mut checked = 0;
        for day in days {
            for time in times {
                let at = day.and_time(time).and_utc();
                let ours = serde_json::to_value(Both { at, on: day }).unwrap();
                let chrono_at = at.to_rfc3339_opts(SecondsFormat::Secs, true);
                let chrono_on = serde_json::to_value(day).unwrap();
                assert_eq!(ours["at"], chrono_at.as_str(), "{at:?}");
                assert_eq!(ours["on"], chrono_on, "{day:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 32);
    }
}
