//! The service's own clock. Every time-dependent behaviour (token lifetimes, check-in windows,
//! fast days, expiry, reminders, digests) reads it, never the system clock directly and never the
//! database's `now()`, so that one process behaves as at one time on either database.
//!
//! `CLOCK_START` (development and tests only; refused with `APP_ENV=production`) starts it at a
//! given instant when the service starts; from there it runs on in real time. A test starts the
//! service an hour before a slot on a daylight-saving day and watches the reminder go, without
//! sleeping for real hours.

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};

/// The real clock shifted by a fixed offset (zero unless `CLOCK_START` was given). Copied into
/// every closure that needs the time; it holds no state that changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    offset: TimeDelta,
}

impl Clock {
    /// The system's clock, unshifted.
    pub fn real() -> Self {
        Self::default()
    }

    /// A clock that reads `start` now and runs on in real time; the real clock for `None`.
    pub fn starting_at(start: Option<DateTime<Utc>>) -> Self {
        match start {
            Some(start) => Self {
                offset: start - Utc::now(),
            },
            None => Self::real(),
        }
    }

    /// Now, as an instant.
    pub fn now_utc(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// Now as stored: naive UTC truncated to microseconds, so that what PostgreSQL stores equals
    /// what was computed.
    pub fn now(&self) -> NaiveDateTime {
        self.now_utc().naive_utc().trunc_subsecs(6)
    }

    /// Whether this clock is shifted from the system's.
    pub fn is_shifted(&self) -> bool {
        self.offset != TimeDelta::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_clock_reads_its_start_and_runs_on_in_real_time() {
        let start: DateTime<Utc> = "2027-11-07T04:59:00Z".parse().unwrap();
        let clock = Clock::starting_at(Some(start));
        let first = clock.now_utc();
        assert!((first - start).num_milliseconds().abs() < 1_000, "{first}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now_utc() > first);
        assert!(clock.is_shifted());
        assert!(!Clock::real().is_shifted());
        assert!((Clock::real().now_utc() - Utc::now()).num_seconds().abs() < 1);
    }
}
