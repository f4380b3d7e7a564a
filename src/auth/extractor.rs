//! The signed-in member, [`AuthUser`]: a handler that takes it requires a valid access token
//! (401 otherwise, before the handler runs), and gets the member as read from the database for
//! this request, so a role change or a deactivation applies to the very next request whatever
//! tokens are still out.
//!
//! One extractor for every endpoint. A second form that read the member inside the handler's own
//! database call (saving one trip through the blocking pool, about a tenth of a GET by id) was
//! folded into this one under the 20% rule (docs/architecture.md).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::member::{find_profile, MemberProfile};
use super::Role;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The signed-in, active member making the request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub role: Role,
    /// The member as read for this request, so handlers need not read it again.
    pub member: MemberProfile,
}

/// Reads the member an access token names: the active member, or 401.
fn resolve(conn: &mut DbConnection, member_id: &str) -> AppResult<AuthUser> {
    let member = find_profile(conn, member_id)?
        .filter(|m| m.active)
        .ok_or_else(|| AppError::Unauthorized("This account is no longer active.".into()))?;
    Ok(AuthUser {
        role: member.role,
        id: member.id.clone(),
        member,
    })
}

fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks the bearer token (no database): the app state and the member id it names.
fn verified(req: &HttpRequest) -> AppResult<(web::Data<AppState>, String)> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::bug("application state missing"))?;
    let token = bearer_token(req).ok_or_else(|| {
        AppError::Unauthorized("Sign in first: send `Authorization: Bearer <access_token>`.".into())
    })?;
    let member_id = state.tokens.verify_access(token)?;
    Ok((state, member_id))
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = verified(req);
        Box::pin(async move {
            let (state, member_id) = checked?;
            state.db.read(move |conn| resolve(conn, &member_id)).await
        })
    }
}
