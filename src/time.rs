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
