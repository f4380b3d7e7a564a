//! What every handler shares: configuration, the database, token keys and rate limits.

use crate::auth::links::LinkKeys;
use crate::auth::passwords;
use crate::auth::tokens::TokenService;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::notify::unsubscribe::Unsubscribes;
use crate::outbox::Channel;
use crate::ratelimit::RateLimits;

pub struct AppState {
    pub config: Config,
    /// The service's clock: every time-dependent behaviour reads it ([`Clock`]).
    pub clock: Clock,
    pub db: Db,
    pub tokens: TokenService,
    pub limits: RateLimits,
    /// See [`passwords::decoy_hash`].
    pub decoy_hash: String,
    /// The channels notifications are written for: in-app always, email when SMTP is configured.
    /// A feature passes it to [`crate::outbox::enqueue`].
    pub channels: &'static [Channel],
    /// Signs the one-click unsubscribe links of emails.
    pub unsubscribes: Unsubscribes,
    /// Makes the tokens of invitation and password reset links.
    pub links: LinkKeys,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Self {
        let clock = Clock::starting_at(config.clock_start);
        Self {
            clock,
            tokens: TokenService::new(&config.jwt_secret, config.access_token_ttl_secs, clock),
            limits: RateLimits::new(
                config.login_attempts_per_minute,
                config.public_requests_per_hour,
                config.password_resets_per_hour,
            ),
            decoy_hash: passwords::decoy_hash(),
            unsubscribes: Unsubscribes::new(config.jwt_secret.bytes()),
            links: LinkKeys::new(config.jwt_secret.bytes()),
            channels: if config.mail.is_some() {
                &[Channel::InApp, Channel::Email]
            } else {
                &[Channel::InApp]
            },
            db,
            config,
        }
    }
}
