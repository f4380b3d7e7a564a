//! Access tokens (HS256 JWTs, short-lived) and refresh tokens (random, stored only as hashes).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::config::JwtSecret;
use crate::error::AppError;

pub const ISSUER: &str = "intercede";
pub const AUDIENCE: &str = "intercede-api";

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The member's id.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub aud: String,
    /// Unique per token, so two tokens issued in one second still differ.
    pub jti: String,
}

pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl_secs: i64,
    clock: Clock,
}

/// Seconds of grace for a token's `exp`, for clocks of several instances a little apart.
const LEEWAY_SECS: i64 = 5;

impl TokenService {
    pub fn new(secret: &JwtSecret, access_ttl_secs: i64, clock: Clock) -> Self {
        // The algorithm is pinned: a token claiming `none`, RS256 or any other is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked against the service's clock below, not the system's (jsonwebtoken
        // reads the system clock, which `CLOCK_START` does not move).
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(secret.bytes()),
            decoding: DecodingKey::from_secret(secret.bytes()),
            validation,
            access_ttl_secs,
            clock,
        }
    }

    pub fn issue_access(&self, member_id: &str) -> Result<String, AppError> {
        let now = self.clock.now_utc().timestamp();
        let claims = Claims {
            sub: member_id.to_string(),
            iat: now,
            exp: now + self.access_ttl_secs,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: uuid::Uuid::now_v7().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// The member id an access token names, once its signature, algorithm, issuer, audience and
    /// expiry check out.
    pub fn verify_access(&self, token: &str) -> Result<String, AppError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid_token())?
            .claims;
        if claims.exp + LEEWAY_SECS < self.clock.now_utc().timestamp() {
            return Err(invalid_token());
        }
        Ok(claims.sub)
    }
}

fn invalid_token() -> AppError {
    AppError::Unauthorized("The access token is invalid or expired.".into())
}

/// A new refresh token: 256 random bits, base64url.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token: its SHA-256, so a leaked table grants nothing.
pub fn refresh_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key() {
        let service = TokenService::new(&JwtSecret::new(vec![7u8; 32]), 900, Clock::real());
        let token = service.issue_access("m1").unwrap();
        assert_eq!(service.verify_access(&token).unwrap(), "m1");
        let other = TokenService::new(&JwtSecret::new(vec![8u8; 32]), 900, Clock::real());
        assert!(other.verify_access(&token).is_err());
        // One character of the signature changed.
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(service
            .verify_access(&String::from_utf8(altered).unwrap())
            .is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let service = TokenService::new(&JwtSecret::new(vec![7u8; 32]), -60, Clock::real());
        let token = service.issue_access("m1").unwrap();
        assert!(service.verify_access(&token).is_err());
    }

    #[test]
    fn expiry_is_judged_by_the_services_clock_not_the_systems() {
        let secret = JwtSecret::new(vec![7u8; 32]);
        let past = Clock::starting_at(Some("2026-03-08T06:00:00Z".parse().unwrap()));
        let then = TokenService::new(&secret, 900, past);
        let token = then.issue_access("m1").unwrap();
        // Long expired by the system's clock, fresh by the service's.
        assert_eq!(then.verify_access(&token).unwrap(), "m1");
        let now = TokenService::new(&secret, 900, Clock::real());
        assert!(now.verify_access(&token).is_err());
        let later = Clock::starting_at(Some(Utc::now() + chrono::Duration::hours(1)));
        let fresh = now.issue_access("m1").unwrap();
        assert!(TokenService::new(&secret, 900, later)
            .verify_access(&fresh)
            .is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(refresh_token_hash(&a), refresh_token_hash(&a));
        assert_ne!(refresh_token_hash(&a), a);
    }
}
