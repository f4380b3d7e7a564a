//! One-click unsubscribe (RFC 8058): every email carries a link that switches that event's email
//! off for its recipient, `POST /unsubscribe/{token}`.
//!
//! The token is the member and the event, signed: HMAC-SHA256 under a key derived from
//! `JWT_SECRET`, so no table holds a token per email and a forged or altered one is simply
//! unknown (404). The cost: links die when `JWT_SECRET` changes (and on every restart of a
//! development instance that generates its secret), which the email's own preference link
//! survives.

use actix_web::{post, web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use utoipa::OpenApi;

use super::preferences;
use crate::accounts::store as members;
use crate::error::{AppError, AppResult};
use crate::outbox::{Channel, Event};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(unsubscribe))]
pub struct UnsubscribeApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(unsubscribe);
}

/// Bytes of the MAC kept in a token: 128 bits, past guessing.
const TAG_BYTES: usize = 16;

/// Signs and checks unsubscribe tokens.
#[derive(Clone)]
pub struct Unsubscribes {
    key: Vec<u8>,
}

impl Unsubscribes {
    /// Keys derived from the service's secret, for this purpose only.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        mac.update(b"intercede unsubscribe v1");
        Unsubscribes {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(payload);
        mac
    }

    /// The token that switches `event`'s email off for `member_id`.
    pub fn token(&self, member_id: &str, event: Event) -> String {
        let payload = format!("{member_id} {}", event.as_str());
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES])
        )
    }

    /// The member and event a token names, when it is one this service signed.
    pub fn check(&self, token: &str) -> Option<(String, Event)> {
        let (payload, tag) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        self.mac(&payload).verify_truncated_left(&tag).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let (member_id, event) = payload.split_once(' ')?;
        Some((member_id.to_string(), Event::parse(event)?))
    }
}

/// Stop one kind of email (RFC 8058 one-click): the link's event is switched off for email in
/// its member's preferences. Mail programs send `List-Unsubscribe=One-Click` as the body; any
/// body is accepted and none is read.
#[utoipa::path(
    tag = "Notifications",
    params(("token" = String, Path, description = "From the email's `List-Unsubscribe` header")),
    responses(
        (status = 204, description = "That event's email is off for that member"),
        (status = 404, description = "Unknown token"),
    )
)]
#[post("/unsubscribe/{token}")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let (member_id, event) = state.unsubscribes.check(&token).ok_or(AppError::NotFound)?;
    state
        .db
        .write(move |conn| {
            members::find(conn, &member_id)?.ok_or(AppError::NotFound)?;
            let mut p = preferences::load(conn, &member_id)?;
            p.set(Channel::Email, event, false);
            preferences::save(conn, &member_id, &p, clock.now())
        })
        .await?;
    tracing::info!(event = event.as_str(), "an email was unsubscribed from");
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_member_and_event_and_nothing_else_passes() {
        let keys = Unsubscribes::new(b"a secret of at least thirty-two bytes!!");
        let token = keys.token("m-1", Event::RequestUpdate);
        assert_eq!(
            keys.check(&token),
            Some(("m-1".to_string(), Event::RequestUpdate))
        );
        let other = Unsubscribes::new(b"another secret of thirty-two bytes or so");
        assert_eq!(other.check(&token), None, "another key");
        let (payload, tag) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode("m-2 request.update");
        assert_eq!(keys.check(&format!("{forged}.{tag}")), None, "altered");
        assert_eq!(keys.check(payload), None, "no tag");
        assert_eq!(
            keys.check(&format!("{payload}.{}", &tag[..4])),
            None,
            "short"
        );
        assert_eq!(keys.check("not a token"), None);
    }
}
