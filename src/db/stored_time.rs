//! Timestamps and dates as rows are read, on a fast path for SQLite.
//!
//! SQLite keeps a timestamp as text. diesel reads it back with chrono's `parse_from_str`, trying
//! up to eighteen formats in turn; even when the first one fits (diesel writes
//! `YYYY-MM-DD HH:MM:SS.fffffffff`), that general-purpose parser cost a tenth of the work of a
//! request list (a page of 20 holds about a hundred timestamps) and a twentieth of GET by id.
//! The row structs read their timestamp and date columns through these types
//! (`#[diesel(deserialize_as = ...)]`): the form diesel writes is parsed by hand, digit by digit,
//! and anything else goes to diesel's own parser, so no value that reads today stops reading.
//! PostgreSQL sends binary values; those go to diesel's decoding as before.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Date, Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};

use super::MultiBackend;

type RawValue<'a> = <MultiBackend as diesel::backend::Backend>::RawValue<'a>;

/// A `Timestamp` column read into a [`NaiveDateTime`].
#[derive(FromSqlRow)]
pub struct StoredTimestamp(NaiveDateTime);

/// A `Nullable<Timestamp>` column read into an `Option<NaiveDateTime>`.
#[derive(FromSqlRow)]
pub struct StoredOptionalTimestamp(Option<NaiveDateTime>);

/// A `Date` column read into a [`NaiveDate`].
#[derive(FromSqlRow)]
pub struct StoredDate(NaiveDate);

/// A `Nullable<Date>` column read into an `Option<NaiveDate>`.
#[derive(FromSqlRow)]
pub struct StoredOptionalDate(Option<NaiveDate>);

impl From<StoredTimestamp> for NaiveDateTime {
    fn from(value: StoredTimestamp) -> Self {
        value.0
    }
}

impl From<StoredOptionalTimestamp> for Option<NaiveDateTime> {
    fn from(value: StoredOptionalTimestamp) -> Self {
        value.0
    }
}

impl From<StoredDate> for NaiveDate {
    fn from(value: StoredDate) -> Self {
        value.0
    }
}

impl From<StoredOptionalDate> for Option<NaiveDate> {
    fn from(value: StoredOptionalDate) -> Self {
        value.0
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTimestamp {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(at) = parse_timestamp(value.read_text()) {
            return Ok(Self(at));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for StoredTimestamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredTimestamp {
    fn from_sql(value: RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl FromSql<Nullable<Timestamp>, MultiBackend> for StoredOptionalTimestamp {
    fn from_sql(value: RawValue<'_>) -> deserialize::Result<Self> {
        <StoredTimestamp as FromSql<Timestamp, MultiBackend>>::from_sql(value)
            .map(|at| Self(Some(at.0)))
    }

    fn from_nullable_sql(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(Self(None)),
        }
    }
}

impl FromSql<Date, Sqlite> for StoredDate {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(day) = parse_date(value.read_text()) {
            return Ok(Self(day));
        }
        <NaiveDate as FromSql<Date, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Date, Pg> for StoredDate {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDate as FromSql<Date, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Date, MultiBackend> for StoredDate {
    fn from_sql(value: RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Date>()
    }
}

impl FromSql<Nullable<Date>, MultiBackend> for StoredOptionalDate {
    fn from_sql(value: RawValue<'_>) -> deserialize::Result<Self> {
        <StoredDate as FromSql<Date, MultiBackend>>::from_sql(value).map(|day| Self(Some(day.0)))
    }

    fn from_nullable_sql(value: Option<RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(Self(None)),
        }
    }
}

/// `YYYY-MM-DD`, exactly; `None` for anything else.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    NaiveDate::from_ymd_opt(year as i32, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DD HH:MM:SS`, with an optional `.` and one to nine digits of fraction: what diesel
/// writes. `None` for anything else (diesel's parser then tries its other forms).
fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let day = parse_date(&text[..10])?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nanos,
    )?;
    Some(day.and_time(time))
}

/// The number written by ASCII digits only (at most nine, so it fits).
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with chrono on every form diesel writes, to the nanosecond.
    #[test]
    fn diesels_own_form_parses_as_chrono_parses_it() {
        for text in [
            "2026-11-26 07:25:43",
            "2026-11-26 07:25:43.1",
            "2026-11-26 07:25:43.123",
            "2026-11-26 07:25:43.123456",
            "2026-11-26 07:25:43.123456789",
            "2024-02-29 23:59:59.000000001",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999999",
        ] {
            let expected = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(parse_timestamp(text), Some(expected), "{text}");
        }
        assert_eq!(
            parse_date("2026-11-26"),
            NaiveDate::from_ymd_opt(2026, 11, 26)
        );
    }

    /// Anything else is left to diesel's parser (or refused there), never misread.
    #[test]
    fn other_forms_are_left_to_diesel() {
        for text in [
            "",
            "2026-11-26",
            "2026-11-26T07:25:43",
            "2026-11-26 07:25",
            "2026-11-26 07:25:43Z",
            "2026-11-26 07:25:43+01:00",
            "2026-11-26 07:25:43.",
            "2026-11-26 07:25:43.1234567890",
            "2026-13-01 00:00:00",
            "2026-02-30 00:00:00",
            "2026-11-26 24:00:00",
            "2026-11-26 07:25:4x",
            "2026-1a-26 07:25:43",
            "+026-11-26 07:25:43",
            "2026-11-26 07:25:43.12a",
            "２０２６-11-26 07:25:43",
            "2458813.5",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        for text in [
            "2026-11-26 ",
            "2026-11-2",
            "2026/11/26",
            "2026-02-29",
            "-026-11-26",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
