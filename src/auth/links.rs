//! The tokens of links sent by email (invitations, password resets).
//!
//! A link's token is 16 random bytes (the salt) followed by 16 bytes of HMAC-SHA256 of the salt
//! under a key derived from `JWT_SECRET`: 256 bits, base64url. The database keeps only the
//! token's SHA-256 ([`hash`]). The email is written later, by a worker, from the outbox row,
//! which holds only the salt: the token is made again from it ([`LinkKeys::token_for`]), so no
//! table ever holds a usable token, and the salt alone opens nothing. The cost: a link whose
//! email waits in the outbox across a change of `JWT_SECRET` cannot be made again, and its email
//! is dropped.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::tokens::refresh_token_hash;

const SALT_BYTES: usize = 16;

/// Makes link tokens.
#[derive(Clone)]
pub struct LinkKeys {
    key: Vec<u8>,
}

impl LinkKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"intercede email links v1");
        LinkKeys {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    /// A new link: its salt (base64url, for the outbox row) and its token's hash (for the
    /// table).
    pub fn new_link(&self) -> (String, String) {
        let salt = new_salt();
        let token = self.token_for(&salt).expect("a fresh salt");
        (salt, hash(&token))
    }

    /// The token of the link made with `salt`.
    pub fn token_for(&self, salt: &str) -> Option<String> {
        let salt = URL_SAFE_NO_PAD.decode(salt).ok()?;
        if salt.len() != SALT_BYTES {
            return None;
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(&salt);
        let tag = mac.finalize().into_bytes();
        let mut token = salt;
        token.extend_from_slice(&tag[..16]);
        Some(URL_SAFE_NO_PAD.encode(token))
    }
}

/// A new link's salt (base64url): 16 random bytes. The token is made from it when the email is
/// written ([`LinkKeys::token_for`]).
pub fn new_salt() -> String {
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    URL_SAFE_NO_PAD.encode(salt)
}

/// What the database keeps of a link's token.
pub fn hash(token: &str) -> String {
    refresh_token_hash(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_made_again_from_its_salt_and_only_with_its_key() {
        let keys = LinkKeys::new(b"a secret of at least thirty-two bytes!!");
        let (salt, stored) = keys.new_link();
        let token = keys.token_for(&salt).unwrap();
        assert_eq!(hash(&token), stored);
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        let other = LinkKeys::new(b"another secret of thirty-two bytes or so");
        assert_ne!(hash(&other.token_for(&salt).unwrap()), stored);
        let (salt2, stored2) = keys.new_link();
        assert_ne!(salt, salt2);
        assert_ne!(stored, stored2);
        assert_eq!(keys.token_for("short"), None);
    }
}
