//! Per-key rate limits (client address, account) for login and the public prayer form.
//!
//! governor's GCRA lets a burst of `n` through, then one every `period / n`: "30 a minute" means 30
//! at once, then one every two seconds. State is in memory, per process; replicas each keep their own.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

/// Keys above this many make the limiter forget keys that are back at full allowance.
const MAX_TRACKED_KEYS: usize = 100_000;

pub struct Limiter {
    inner: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Limiter {
    /// `burst` events per `period`, at least one.
    pub fn new(burst: u32, period: Duration) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
        let quota = Quota::with_period(period / burst.get())
            .expect("period is positive")
            .allow_burst(burst);
        Self {
            inner: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one event for `key`; 429 with the wait when the key is over its limit.
    pub fn check(&self, key: &str) -> Result<(), AppError> {
        if self.inner.len() > MAX_TRACKED_KEYS {
            self.inner.retain_recent();
        }
        self.inner.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::TooManyRequests {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// The limits the service enforces.
pub struct RateLimits {
    pub login_per_address: Limiter,
    pub login_per_account: Limiter,
    pub public_requests_per_address: Limiter,
    /// Password reset emails asked for one address.
    pub resets_per_email: Limiter,
    /// Password reset emails asked for from one client address (four times the per-address
    /// limit: a household shares one).
    pub resets_per_client: Limiter,
}

impl RateLimits {
    pub fn new(login_per_minute: u32, public_per_hour: u32, resets_per_hour: u32) -> Self {
        Self {
            login_per_address: Limiter::new(login_per_minute, Duration::from_secs(60)),
            // An account is attacked from many addresses: hold it to a third of one address's limit.
            login_per_account: Limiter::new((login_per_minute / 3).max(1), Duration::from_secs(60)),
            public_requests_per_address: Limiter::new(public_per_hour, Duration::from_secs(3600)),
            resets_per_email: Limiter::new(resets_per_hour, Duration::from_secs(3600)),
            resets_per_client: Limiter::new(
                resets_per_hour.saturating_mul(4),
                Duration::from_secs(3600),
            ),
        }
    }
}

/// The address limits are counted against: the TCP peer. Forwarded headers are not trusted, since
/// any client can set them.
pub fn client_address(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let limiter = Limiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            limiter.check("a").unwrap();
        }
        match limiter.check("a") {
            Err(AppError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected 429, got {other:?}"),
        }
        limiter.check("b").unwrap();
    }
}
