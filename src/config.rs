//! Configuration: read from the environment once at start-up, validated, then passed down.
//!
//! Every variable is listed in `.env.example`. A bad value stops start-up with a message that names
//! the variable, rather than surfacing later as a confusing runtime failure.

use std::fmt;

use rand::RngCore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Anyone may register an account.
    Open,
    /// Only leaders add members (by calling `POST /auth/register` with their own token).
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The HS256 signing key. Its `Debug` never prints the key.
#[derive(Clone)]
pub struct JwtSecret {
    bytes: Vec<u8>,
    /// True when no `JWT_SECRET` was given and a random one was made for this process.
    pub generated: bool,
}

impl JwtSecret {
    pub const MIN_BYTES: usize = 32;

    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            generated: false,
        }
    }

    pub fn random() -> Self {
        let mut bytes = vec![0u8; 64];
        rand::rng().fill_bytes(&mut bytes);
        Self {
            bytes,
            generated: true,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JwtSecret(<redacted>, generated: {})", self.generated)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: String,
    /// `DATABASE_MIGRATION_URL`: where migrations run when `DATABASE_URL` is a pooler's address.
    pub database_migration_url: Option<String>,
    /// `DATABASE_REPLICA_URL`: a streaming replica for reads ([`crate::db::DbSettings`]).
    pub database_replica_url: Option<String>,
    /// `DATABASE_PREPARED_STATEMENTS`: `false` behind pgbouncer in transaction mode.
    pub database_prepared_statements: bool,
    /// `DATABASE_POOL_SIZE`: connections this instance holds (to the database, and as many to the
    /// replica); `None`: `db::postgres_pool_default` on PostgreSQL, 8 on SQLite. Sized with the
    /// other instances against pgbouncer's or PostgreSQL's own limit (docs/deploy.md).
    pub database_pool_size: Option<u32>,
    /// `SQLITE_MMAP_MIB`: how much of a SQLite file each connection reads through a memory map
    /// (`PRAGMA mmap_size`), in MiB; 0 (the default) reads it with `read()` as SQLite does by
    /// default. See [`crate::db::DbSettings::sqlite_mmap_mib`].
    pub sqlite_mmap_mib: u32,
    pub bind_addr: String,
    pub jwt_secret: JwtSecret,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub registration: Registration,
    pub require_approval: bool,
    /// Days until a new or reopened prayer request expires, unless it names its own `expires_on`.
    pub request_expiry_days: i64,
    /// `intercede purge` deletes requests that ended more than this many days ago.
    pub purge_after_days: i64,
    pub cors_origins: Vec<String>,
    /// The address people reach the service at, without a trailing slash
    /// (`https://prayer.example.org`, or with a path prefix behind a proxy). Every absolute URL the
    /// service writes (the calendar feed's, links in messages) starts with it; a request's `Host`
    /// and `X-Forwarded-*` headers never choose it, since anyone can write them.
    pub public_base_url: String,
    pub login_attempts_per_minute: u32,
    pub public_requests_per_hour: u32,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// `HTTP_WORKERS`: HTTP worker threads; `None` lets actix use one per core. Instances that share
    /// a machine's cores are given fewer (docs/deploy.md).
    pub workers: Option<usize>,
    /// Whether this instance delivers notifications (`WORKERS_ENABLED`); an instance with them off
    /// serves HTTP and delivers nothing.
    pub workers_enabled: bool,
    /// Where email goes; `None` (no `SMTP_URL`): the service sends no email and writes none to
    /// its outbox.
    pub mail: Option<MailConfig>,
    /// `WEBHOOK_ALLOW_PRIVATE`: webhooks may point at private, loopback and link-local addresses
    /// (a receiver on the church's own network; the tests' receiver on loopback).
    pub webhook_allow_private: bool,
    /// `OUTBOX_LEASE_SECS`: how long a worker's claim on a notification holds before another
    /// may take it (the time an instance that died keeps what it held). Longer than any one
    /// delivery may take: SMTP commands time out after 30 s, webhooks after 15 s.
    pub outbox_lease_secs: i64,
    /// `INVITATION_TTL_HOURS`: how long an invitation's link works.
    pub invitation_ttl_hours: i64,
    /// `PASSWORD_RESETS_PER_HOUR`: reset emails asked for one address per hour (a client
    /// address may ask for four times as many).
    pub password_resets_per_hour: u32,
    /// `CLOCK_START`: the instant the service's clock reads when it starts (development and tests
    /// only; see [`crate::clock`]). `None`: the real time.
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// `UNPRAYED_NUDGE_HOURS`: how long a live assignment may go without a prayer before its
    /// intercessor is nudged (twice this: the assigner or the team's leaders are told).
    pub unprayed_nudge_hours: i64,
    /// `SLOT_OFFER_WAVE`: how many members each wave of a replacement's offers goes to.
    pub slot_offer_wave: i64,
    /// `TRUSTED_PROXIES`: the load balancers whose `X-Forwarded-For` names the client
    /// ([`crate::http::client`]). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// The SMTP relay and the sender (`SMTP_URL`, `MAIL_FROM`).
#[derive(Clone)]
pub struct MailConfig {
    /// lettre's URL form: `smtp://host:25` (plain, for a relay on the same host),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://user:password@host`.
    /// It may hold a password, so it is never logged ([`fmt::Debug`] hides it).
    pub smtp_url: String,
    /// `Prayer ministry <prayer@example.org>`.
    pub from: lettre::message::Mailbox,
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &"<redacted>")
            .field("from", &self.from.to_string())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite://intercede.db";
    pub const DEFAULT_PUBLIC_BASE_URL: &'static str = "http://127.0.0.1:8080";

    /// Reads the process environment (after `.env`, which `main` loads when present).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable lookup, so the rules are testable without
    /// touching the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let app_env = match var("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") | Some("test") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "APP_ENV must be `development` or `production`, not `{other}`"
                )))
            }
        };

        let jwt_secret = match var("JWT_SECRET") {
            Some(s) if s.len() >= JwtSecret::MIN_BYTES => JwtSecret::new(s.into_bytes()),
            Some(s) => {
                return Err(ConfigError(format!(
                    "JWT_SECRET must be at least {} bytes (it has {})",
                    JwtSecret::MIN_BYTES,
                    s.len()
                )))
            }
            None if app_env == AppEnv::Production => {
                return Err(ConfigError(
                    "JWT_SECRET is required when APP_ENV=production (at least 32 bytes)".into(),
                ))
            }
            None => JwtSecret::random(),
        };

        let registration = match var("REGISTRATION").as_deref() {
            None | Some("open") => Registration::Open,
            Some("closed") => Registration::Closed,
            Some(other) => {
                return Err(ConfigError(format!(
                    "REGISTRATION must be `open` or `closed`, not `{other}`"
                )))
            }
        };

        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be `text` or `json`, not `{other}`"
                )))
            }
        };

        let clock_start = match var("CLOCK_START") {
            None => None,
            Some(_) if app_env == AppEnv::Production => {
                return Err(ConfigError(
                    "CLOCK_START is for development and tests; it is refused when APP_ENV=production"
                        .into(),
                ))
            }
            Some(value) => Some(
                chrono::DateTime::parse_from_rfc3339(&value)
                    .map_err(|_| {
                        ConfigError(format!(
                            "CLOCK_START: `{value}` is not an RFC 3339 instant like 2027-11-07T04:00:00Z"
                        ))
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };

        Ok(Config {
            app_env,
            clock_start,
            database_url: var("DATABASE_URL").unwrap_or_else(|| Self::DEFAULT_DATABASE_URL.into()),
            database_migration_url: var("DATABASE_MIGRATION_URL"),
            database_replica_url: var("DATABASE_REPLICA_URL"),
            database_prepared_statements: boolean(&var, "DATABASE_PREPARED_STATEMENTS", true)?,
            database_pool_size: optional_number(&var, "DATABASE_POOL_SIZE", 1..=1_000)?
                .map(|n| n as u32),
            sqlite_mmap_mib: number(&var, "SQLITE_MMAP_MIB", 0, 0..=1_048_576)? as u32,
            bind_addr: var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_secret,
            access_token_ttl_secs: number(&var, "ACCESS_TOKEN_TTL_SECS", 900, 1..=86_400)?,
            refresh_token_ttl_secs: number(
                &var,
                "REFRESH_TOKEN_TTL_SECS",
                2_592_000,
                60..=31_622_400,
            )?,
            registration,
            require_approval: boolean(&var, "REQUIRE_APPROVAL", false)?,
            request_expiry_days: number(&var, "REQUEST_EXPIRY_DAYS", 30, 1..=366)?,
            purge_after_days: number(&var, "PURGE_AFTER_DAYS", 365, 1..=36_500)?,
            cors_origins: cors_origins(var("CORS_ORIGINS").as_deref().unwrap_or(""))?,
            public_base_url: public_base_url(
                var("PUBLIC_BASE_URL")
                    .as_deref()
                    .unwrap_or(Self::DEFAULT_PUBLIC_BASE_URL),
            )?,
            login_attempts_per_minute: number(&var, "LOGIN_ATTEMPTS_PER_MINUTE", 30, 1..=1_000_000)?
                as u32,
            public_requests_per_hour: number(&var, "PUBLIC_REQUESTS_PER_HOUR", 5, 1..=1_000_000)?
                as u32,
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            workers: optional_number(&var, "HTTP_WORKERS", 1..=256)?.map(|n| n as usize),
            workers_enabled: boolean(&var, "WORKERS_ENABLED", true)?,
            mail: mail(var("SMTP_URL"), var("MAIL_FROM"))?,
            webhook_allow_private: boolean(&var, "WEBHOOK_ALLOW_PRIVATE", false)?,
            invitation_ttl_hours: number(&var, "INVITATION_TTL_HOURS", 168, 1..=8_760)?,
            outbox_lease_secs: number(&var, "OUTBOX_LEASE_SECS", 300, 10..=3_600)?,
            password_resets_per_hour: number(&var, "PASSWORD_RESETS_PER_HOUR", 5, 1..=1_000_000)?
                as u32,
            unprayed_nudge_hours: number(&var, "UNPRAYED_NUDGE_HOURS", 48, 1..=8_760)?,
            slot_offer_wave: number(&var, "SLOT_OFFER_WAVE", 10, 1..=1_000)?,
            trusted_proxies: trusted_proxies(var("TRUSTED_PROXIES").as_deref().unwrap_or(""))?,
        })
    }

    /// The databases this configuration names, for [`crate::db::Db::open`].
    pub fn db_settings(&self) -> crate::db::DbSettings {
        crate::db::DbSettings {
            url: self.database_url.clone(),
            migration_url: self.database_migration_url.clone(),
            replica_url: self.database_replica_url.clone(),
            prepared_statements: self.database_prepared_statements,
            pool_size: self.database_pool_size,
            sqlite_mmap_mib: self.sqlite_mmap_mib,
        }
    }

    /// A configuration for tests and tools: defaults, the given database, a fixed secret.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let mut config = Self::from_lookup(|_| None).expect("defaults are valid");
        config.database_url = database_url.into();
        config
    }
}

/// `https://app.example.org, http://localhost:3000` → each origin checked: a scheme, a host, an
/// optional port, nothing else (a browser's `Origin` header never has a path).
fn cors_origins(value: &str) -> Result<Vec<String>, ConfigError> {
    value
        .split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let valid = origin
                .split_once("://")
                .filter(|(scheme, _)| *scheme == "http" || *scheme == "https")
                .is_some_and(|(_, host)| {
                    !host.is_empty()
                        && !host.contains(['/', '?', '#', '*', ' ', '@'])
                        && origin.parse::<actix_web::http::Uri>().is_ok()
                });
            if valid {
                Ok(origin.to_string())
            } else {
                Err(ConfigError(format!(
                    "CORS_ORIGINS: `{origin}` is not an origin like https://app.example.org"
                )))
            }
        })
        .collect()
}

/// `10.0.0.0/8, 192.168.1.10` → networks; a bare address is a network of one.
fn trusted_proxies(value: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse::<ipnet::IpNet>()
                .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    ConfigError(format!(
                        "TRUSTED_PROXIES: `{n}` is not an address or network like 10.0.0.0/8"
                    ))
                })
        })
        .collect()
}

/// `SMTP_URL` and `MAIL_FROM`, both or neither; each checked as lettre will read it.
fn mail(url: Option<String>, from: Option<String>) -> Result<Option<MailConfig>, ConfigError> {
    use lettre::{AsyncSmtpTransport, Tokio1Executor};
    let (url, from) = match (url, from) {
        (None, None) => return Ok(None),
        (Some(url), Some(from)) => (url, from),
        (Some(_), None) => {
            return Err(ConfigError(
                "MAIL_FROM is required with SMTP_URL (`Prayer ministry <prayer@example.org>`)"
                    .into(),
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError(
                "SMTP_URL is required with MAIL_FROM (`smtp://127.0.0.1:25`)".into(),
            ))
        }
    };
    if let Err(e) = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url) {
        // The URL may hold a password: the message names the problem, never the value.
        return Err(ConfigError(format!(
            "SMTP_URL is not an SMTP address like smtp://host:25 or smtps://user:password@host ({})",
            e.to_string().split(':').next().unwrap_or("invalid")
        )));
    }
    let from = from.parse().map_err(|_| {
        ConfigError(format!(
            "MAIL_FROM: `{from}` is not an address like `Prayer ministry <prayer@example.org>`"
        ))
    })?;
    Ok(Some(MailConfig {
        smtp_url: url,
        from,
    }))
}

/// `https://prayer.example.org/` → `https://prayer.example.org`: http or https, a host, an
/// optional port and path prefix; no query, fragment or credentials.
fn public_base_url(value: &str) -> Result<String, ConfigError> {
    let base = value.trim().trim_end_matches('/');
    let valid = base
        .split_once("://")
        .filter(|(scheme, _)| *scheme == "http" || *scheme == "https")
        .is_some_and(|(_, rest)| {
            let host = rest.split('/').next().unwrap_or("");
            !host.is_empty()
                && !rest.contains(['?', '#', '@', ' ', '*'])
                && base.parse::<actix_web::http::Uri>().is_ok()
        });
    if valid {
        Ok(base.to_string())
    } else {
        Err(ConfigError(format!(
            "PUBLIC_BASE_URL: `{value}` is not an address like https://prayer.example.org"
        )))
    }
}

fn number(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError(format!(
                "{name} must be a whole number from {} to {}, not `{raw}`",
                range.start(),
                range.end()
            ))),
        },
    }
}

/// A number that has no default: unset is `None`.
fn optional_number(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ConfigError> {
    match var(name) {
        None => Ok(None),
        Some(_) => number(var, name, 0, range).map(Some),
    }
}

fn boolean(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match var(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some("false") | Some("0") | Some("no") => Ok(false),
        Some(other) => Err(ConfigError(format!(
            "{name} must be `true` or `false`, not `{other}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://intercede.db");
        assert_eq!(c.bind_addr, "127.0.0.1:8080");
        assert_eq!(c.access_token_ttl_secs, 900);
        assert_eq!(c.refresh_token_ttl_secs, 2_592_000);
        assert_eq!(c.registration, Registration::Open);
        assert!(!c.require_approval);
        assert_eq!(c.request_expiry_days, 30);
        assert_eq!(c.login_attempts_per_minute, 30);
        assert_eq!(c.public_requests_per_hour, 5);
        assert!(c.jwt_secret.generated);
        assert!(c.jwt_secret.bytes().len() >= 32);
    }

    #[test]
    fn trusted_proxies_are_networks_or_single_addresses() {
        let c = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1 ,::1")]).unwrap();
        let nets: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        assert!(config(&[]).unwrap().trusted_proxies.is_empty());
        let err = config(&[("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")]).unwrap_err();
        assert!(err.0.contains("`proxy.local`"), "{err}");
    }

    #[test]
    fn production_refuses_to_start_without_a_long_secret() {
        let err = config(&[("APP_ENV", "production")]).unwrap_err();
        assert!(err.0.contains("JWT_SECRET"), "{err}");
        let err = config(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(err.0.contains("at least 32 bytes"), "{err}");
        let ok = config(&[("APP_ENV", "production"), ("JWT_SECRET", &"x".repeat(32))]).unwrap();
        assert!(!ok.jwt_secret.generated);
    }

    #[test]
    fn the_clock_may_be_started_elsewhere_only_outside_production() {
        let c = config(&[("CLOCK_START", "2027-11-07T04:59:00Z")]).unwrap();
        assert_eq!(
            c.clock_start.unwrap().to_rfc3339(),
            "2027-11-07T04:59:00+00:00"
        );
        assert!(config(&[]).unwrap().clock_start.is_none());
        let err = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"x".repeat(32)),
            ("CLOCK_START", "2027-11-07T04:59:00Z"),
        ])
        .unwrap_err();
        assert!(err.0.contains("CLOCK_START"), "{err}");
        let err = config(&[("CLOCK_START", "tomorrow")]).unwrap_err();
        assert!(err.0.contains("CLOCK_START"), "{err}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("REGISTRATION", "maybe"),
            ("REQUIRE_APPROVAL", "perhaps"),
            ("ACCESS_TOKEN_TTL_SECS", "-5"),
            ("LOGIN_ATTEMPTS_PER_MINUTE", "lots"),
            ("LOG_FORMAT", "xml"),
            ("APP_ENV", "staging"),
            ("HTTP_WORKERS", "0"),
            ("DATABASE_POOL_SIZE", "many"),
            ("SQLITE_MMAP_MIB", "-1"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert!(err.0.contains(name), "{name}: {err}");
        }
    }

    /// Unset, actix and the pool choose by the machine and the backend; set, they are taken as
    /// given (an instance sharing cores with others).
    #[test]
    fn workers_and_pool_size_are_the_operators_when_set() {
        let c = config(&[]).unwrap();
        assert_eq!((c.workers, c.db_settings().pool_size), (None, None));
        let c = config(&[("HTTP_WORKERS", "1"), ("DATABASE_POOL_SIZE", "6")]).unwrap();
        assert_eq!((c.workers, c.db_settings().pool_size), (Some(1), Some(6)));
    }

    #[test]
    fn sqlite_reads_through_a_memory_map_only_when_asked() {
        assert_eq!(config(&[]).unwrap().db_settings().sqlite_mmap_mib, 0);
        let c = config(&[("SQLITE_MMAP_MIB", "2048")]).unwrap();
        assert_eq!(c.db_settings().sqlite_mmap_mib, 2048);
    }

    #[test]
    fn cors_origins_are_split_and_trimmed() {
        let c = config(&[("CORS_ORIGINS", "https://a.example, https://b.example/ ,")]).unwrap();
        assert_eq!(
            c.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn cors_origins_must_be_origins() {
        for bad in [
            "*",
            "app.example.org",
            "https://",
            "https://a.example/path",
            "ftp://a.example",
        ] {
            let err = config(&[("CORS_ORIGINS", bad)]).unwrap_err();
            assert!(err.0.contains("CORS_ORIGINS"), "{bad}: {err}");
        }
        let ok = config(&[("CORS_ORIGINS", "http://localhost:3000")]).unwrap();
        assert_eq!(ok.cors_origins, vec!["http://localhost:3000"]);
    }

    #[test]
    fn the_public_base_url_is_an_http_address_without_a_trailing_slash() {
        assert_eq!(
            config(&[]).unwrap().public_base_url,
            "http://127.0.0.1:8080"
        );
        let c = config(&[("PUBLIC_BASE_URL", "https://prayer.example.org/church/")]).unwrap();
        assert_eq!(c.public_base_url, "https://prayer.example.org/church");
        for bad in [
            "prayer.example.org",
            "ftp://x.org",
            "https://",
            "https://x.org/?a=1",
            "https://u@x.org",
        ] {
            let err = config(&[("PUBLIC_BASE_URL", bad)]).unwrap_err();
            assert!(err.0.contains("PUBLIC_BASE_URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let c = config(&[("JWT_SECRET", "super-secret-value-that-is-long-enough")]).unwrap();
        assert!(!format!("{c:?}").contains("super-secret"));
    }

    #[test]
    fn email_needs_both_an_smtp_url_and_a_sender_and_never_repeats_the_password() {
        assert!(config(&[]).unwrap().mail.is_none());
        let c = config(&[
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("MAIL_FROM", "Prayer ministry <prayer@example.org>"),
        ])
        .unwrap();
        let mail = c.mail.expect("mail configured");
        assert_eq!(mail.from.email.to_string(), "prayer@example.org");
        assert!(
            !format!("{mail:?}").contains("2525"),
            "the URL is not printed"
        );
        let e = config(&[("SMTP_URL", "smtp://127.0.0.1:2525")]).unwrap_err();
        assert!(e.0.contains("MAIL_FROM is required"), "{e}");
        let e = config(&[("MAIL_FROM", "prayer@example.org")]).unwrap_err();
        assert!(e.0.contains("SMTP_URL is required"), "{e}");
        let e = config(&[
            ("SMTP_URL", "http://user:hunter2secret@mail.example.org"),
            ("MAIL_FROM", "prayer@example.org"),
        ])
        .unwrap_err();
        assert!(e.0.starts_with("SMTP_URL is not"), "{e}");
        assert!(!e.0.contains("hunter2secret"), "{e}");
        let e = config(&[
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("MAIL_FROM", "not an address"),
        ])
        .unwrap_err();
        assert!(e.0.starts_with("MAIL_FROM"), "{e}");
    }
}
