//! Rate limits (login per client address and per account, the public form per address, password
//! reset emails per address asked for and per client), held in the database so that every instance
//! behind a load balancer counts against one allowance.
//!
//! Each check is one statement: an upsert of the key's row that moves its GCRA "theoretical arrival
//! time" (`tat`) on only when the event fits, `RETURNING` the row when it did (crates.io keeps its
//! publish limits the same way). "30 a minute" lets a burst of 30 through, then one every two
//! seconds, as governor did in memory before several instances had to agree. Keys are hashed: a
//! stranger's email address asked for in a password reset is not kept in the table. Times are
//! whole milliseconds on the service's clock ([`crate::clock`]), so the arithmetic is the same
//! integers on SQLite and PostgreSQL; rows whose `tat` has passed hold nothing and are swept by the
//! `rate_limit_sweep` periodic task.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::db::schema::rate_limits;
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};

/// One limit: at most `burst` events per `period` per key, refilled evenly.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Names the limit inside its keys, so one address has separate allowances per limit.
    name: &'static str,
    burst: i64,
    period_ms: i64,
}

impl Limit {
    /// `burst` events per `period`, at least one.
    pub fn new(name: &'static str, burst: u32, period: Duration) -> Self {
        Self {
            name,
            burst: i64::from(burst.max(1)),
            period_ms: i64::try_from(period.as_millis()).unwrap_or(i64::MAX / 4),
        }
    }

    /// The time one event's allowance takes to come back.
    fn interval_ms(&self) -> i64 {
        (self.period_ms / self.burst).max(1)
    }

    /// The row key for `value` (an address, an account's email).
    fn key(&self, value: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(self.name.as_bytes());
        hash.update([0]);
        hash.update(value.as_bytes());
        hash.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Counts one event for `value` at `now`. `Ok(None)` when it fits; `Ok(Some(secs))` when the
    /// key is over its limit, with the whole seconds until one more event fits. A refused event
    /// changes nothing.
    pub fn take(
        &self,
        conn: &mut DbConnection,
        value: &str,
        now: NaiveDateTime,
    ) -> AppResult<Option<u64>> {
        let key = self.key(value);
        let now_ms = now.and_utc().timestamp_millis();
        let interval = self.interval_ms();
        // The key's allowance is spent while its next event's `tat` would be more than a period
        // ahead: the WHERE refuses the update, and nothing is returned.
        const TAKE: &str = "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE \
             SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
             WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 <= $2 + $4 \
             RETURNING tat";
        #[derive(QueryableByName)]
        struct Tat {
            #[diesel(sql_type = BigInt)]
            #[allow(dead_code)]
            tat: i64,
        }
        let taken: Option<Tat> = match conn {
            DbConnection::Postgresql(pg) => diesel::sql_query(TAKE)
                .bind::<Text, _>(&key)
                .bind::<BigInt, _>(now_ms)
                .bind::<BigInt, _>(interval)
                .bind::<BigInt, _>(self.period_ms)
                .get_result(pg)
                .optional()?,
            // SQLite numbers its parameters `?N`; `$N` would be named ones, numbered by first use.
            DbConnection::Sqlite(lite) => diesel::sql_query(TAKE.replace('$', "?"))
                .bind::<Text, _>(&key)
                .bind::<BigInt, _>(now_ms)
                .bind::<BigInt, _>(interval)
                .bind::<BigInt, _>(self.period_ms)
                .get_result(lite)
                .optional()?,
        };
        if taken.is_some() {
            return Ok(None);
        }
        // Refused: one more read, on this rare path only, for `Retry-After`.
        let tat: Option<i64> = rate_limits::table
            .find(&key)
            .select(rate_limits::tat)
            .first(conn)
            .optional()?;
        let wait_ms = tat.unwrap_or(now_ms) + interval - self.period_ms - now_ms;
        Ok(Some(
            u64::try_from(wait_ms.max(1)).unwrap_or(1).div_ceil(1000),
        ))
    }
}

/// The limits the service enforces.
pub struct RateLimits {
    pub login_per_address: Limit,
    pub login_per_account: Limit,
    pub public_requests_per_address: Limit,
    /// Password reset emails asked for one address.
    pub resets_per_email: Limit,
    /// Password reset emails asked for from one client address (four times the per-address
    /// limit: a household shares one).
    pub resets_per_client: Limit,
}

impl RateLimits {
    pub fn new(login_per_minute: u32, public_per_hour: u32, resets_per_hour: u32) -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        Self {
            login_per_address: Limit::new("login_address", login_per_minute, MINUTE),
            // An account is attacked from many addresses: hold it to a third of one address's limit.
            login_per_account: Limit::new("login_account", (login_per_minute / 3).max(1), MINUTE),
            public_requests_per_address: Limit::new("public_form", public_per_hour, HOUR),
            resets_per_email: Limit::new("reset_email", resets_per_hour, HOUR),
            resets_per_client: Limit::new("reset_client", resets_per_hour.saturating_mul(4), HOUR),
        }
    }
}

/// Counts one event against each `(limit, value)` in order, in one write, stopping at the first
/// that is over its limit: 429 with its `Retry-After`. The events counted before the refusal stay
/// counted (an attempt refused for its account still spent its address's allowance).
///
/// The time counted is read inside the write, once it holds the database's write lock (SQLite)
/// or is about to take the row's (PostgreSQL), not before it queued: an attempt read earlier but
/// run after one read later would find the key's `tat` ahead of its own now and be refused one
/// event short of the burst (three instances on one SQLite file did, now and then).
pub async fn check(db: &Db, clock: Clock, checks: Vec<(Limit, String)>) -> AppResult<()> {
    let refused = db
        .write(move |conn| {
            let now = clock.now();
            for (limit, value) in &checks {
                if let Some(wait) = limit.take(conn, value, now)? {
                    return Ok(Some(wait));
                }
            }
            Ok(None)
        })
        .await?;
    match refused {
        None => Ok(()),
        Some(retry_after_secs) => Err(AppError::TooManyRequests { retry_after_secs }),
    }
}

/// Forgets the keys whose allowance is whole again (their `tat` has passed): they hold nothing.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<usize> {
    Ok(diesel::delete(
        rate_limits::table.filter(rate_limits::tat.lt(now.and_utc().timestamp_millis())),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration as Span, NaiveDate};

    use super::*;
    use crate::db::testing::fresh;

    fn at(secs: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2027, 3, 14)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            + Span::seconds(secs)
    }

    #[test]
    fn a_burst_is_allowed_then_refused_with_the_wait_then_one_more_after_it() {
        let mut conn = fresh();
        let limit = Limit::new("test", 3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limit.take(&mut conn, "a", at(0)).unwrap(), None);
        }
        // One event's allowance comes back every 20 s.
        assert_eq!(limit.take(&mut conn, "a", at(0)).unwrap(), Some(20));
        assert_eq!(limit.take(&mut conn, "a", at(5)).unwrap(), Some(15));
        // Another key, and the same value under another limit, have their own allowance.
        assert_eq!(limit.take(&mut conn, "b", at(5)).unwrap(), None);
        let other = Limit::new("other", 1, Duration::from_secs(60));
        assert_eq!(other.take(&mut conn, "a", at(5)).unwrap(), None);
        // Refusals spent nothing: 20 s after the burst, exactly one more fits.
        assert_eq!(limit.take(&mut conn, "a", at(20)).unwrap(), None);
        assert!(limit.take(&mut conn, "a", at(20)).unwrap().is_some());
        // A minute later the whole burst is back.
        for _ in 0..3 {
            assert_eq!(limit.take(&mut conn, "a", at(80)).unwrap(), None);
        }
    }

    #[test]
    fn the_sweep_forgets_only_keys_whose_allowance_is_whole() {
        let mut conn = fresh();
        let limit = Limit::new("test", 2, Duration::from_secs(60));
        limit.take(&mut conn, "early", at(0)).unwrap();
        limit.take(&mut conn, "late", at(50)).unwrap();
        assert_eq!(sweep(&mut conn, at(40)).unwrap(), 1);
        let left: i64 = rate_limits::table.count().get_result(&mut conn).unwrap();
        assert_eq!(left, 1);
    }

    #[test]
    fn keys_do_not_hold_the_address_or_email_they_limit() {
        let limit = Limit::new("reset_email", 1, Duration::from_secs(60));
        let key = limit.key("someone@example.org");
        assert_eq!(key.len(), 32);
        assert!(!key.contains("example"));
        assert_ne!(
            key,
            Limit::new("login_account", 1, Duration::from_secs(60)).key("someone@example.org")
        );
    }
}
