//! Access tokens (HS256 JWTs, short-lived) and refresh tokens (random, stored only as hashes).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// Access tokens this process has verified, by their exact text, with their subject and
    /// expiry. An app sends the same token with every request of its lifetime, and decoding it
    /// again each time (two base64 and two JSON documents, and an HMAC) was a twentieth of the
    /// CPU of reading one request. Only tokens that passed every check are kept, so a forged or
    /// altered token is never found here; a kept one still expires on time.
    verified: Mutex<HashMap<Box<str>, Verified>>,
}

/// What is kept of a verified access token.
struct Verified {
    sub: String,
    exp: i64,
}

/// At most this many verified tokens are kept (about 1.5 MiB); when full, the expired ones go,
/// and if none has expired, all of them.
const VERIFIED_MAX: usize = 4096;

impl TokenService {
    pub fn new(secret: &JwtSecret, access_ttl_secs: i64) -> Self {
        // The algorithm is pinned: a token claiming `none`, RS256 or any other is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.bytes()),
            decoding: DecodingKey::from_secret(secret.bytes()),
            validation,
            access_ttl_secs,
            verified: Mutex::new(HashMap::new()),
        }
    }

    pub fn issue_access(&self, member_id: &str) -> Result<String, AppError> {
        let now = Utc::now().timestamp();
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
        let now = Utc::now().timestamp();
        let leeway = self.validation.leeway as i64;
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = verified.get(token) {
            if known.exp + leeway >= now {
                return Ok(known.sub.clone());
            }
            verified.remove(token);
            return Err(invalid_token());
        }
        drop(verified);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| invalid_token())?
            .claims;
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_MAX {
            verified.retain(|_, known| known.exp + leeway >= now);
            if verified.len() >= VERIFIED_MAX {
                verified.clear();
            }
        }
        verified.insert(
            token.into(),
            Verified {
                sub: claims.sub.clone(),
                exp: claims.exp,
            },
        );
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
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key() {
        let service = TokenService::new(&JwtSecret::new(vec![7u8; 32]), 900);
        let token = service.issue_access("m1").unwrap();
        assert_eq!(service.verify_access(&token).unwrap(), "m1");
        // Again, now from the verified tokens.
        assert_eq!(service.verify_access(&token).unwrap(), "m1");
        let other = TokenService::new(&JwtSecret::new(vec![8u8; 32]), 900);
        assert!(other.verify_access(&token).is_err());
        // One character changed: not the kept token, and its signature fails.
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(service
            .verify_access(&String::from_utf8(altered).unwrap())
            .is_err());
    }

    /// A kept token still expires on time: the check does not end when it was first verified.
    #[test]
    fn a_verified_token_expires_on_time() {
        let service = TokenService::new(&JwtSecret::new(vec![7u8; 32]), 900);
        let token = service.issue_access("m1").unwrap();
        assert_eq!(service.verify_access(&token).unwrap(), "m1");
        service
            .verified
            .lock()
            .unwrap()
            .get_mut(token.as_str())
            .unwrap()
            .exp = Utc::now().timestamp() - 60;
        assert!(service.verify_access(&token).is_err());
        assert!(service.verified.lock().unwrap().is_empty());
    }

    /// Expired tokens never reach the kept ones.
    #[test]
    fn expired_tokens_are_refused_and_not_kept() {
        let service = TokenService::new(&JwtSecret::new(vec![7u8; 32]), -60);
        let token = service.issue_access("m1").unwrap();
        assert!(service.verify_access(&token).is_err());
        assert!(service.verified.lock().unwrap().is_empty());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(refresh_token_hash(&a), refresh_token_hash(&a));
        assert_ne!(refresh_token_hash(&a), a);
    }
}
