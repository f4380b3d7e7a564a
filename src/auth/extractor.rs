//! `AuthUser`: taking it as a handler argument makes the handler require a valid access token.
//!
//! The member is read from the database on every request, so a role change or a deactivation
//! applies to the very next request whatever tokens are still out.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::Role;
use crate::accounts::model::MemberRow;
use crate::accounts::store as members;
use crate::error::AppError;
use crate::state::AppState;

/// The signed-in, active member making the request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub role: Role,
    /// The member as read for this request, so handlers need not read it again.
    pub member: MemberRow,
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let token = token.ok_or_else(|| {
                AppError::Unauthorized(
                    "Sign in first: send `Authorization: Bearer <access_token>`.".into(),
                )
            })?;
            let claims = state.tokens.verify_access(&token)?;
            let member = state
                .db
                .read(move |conn| members::find(conn, &claims.sub))
                .await?
                .filter(|m| m.active)
                .ok_or_else(|| {
                    AppError::Unauthorized("This account is no longer active.".into())
                })?;
            Ok(AuthUser {
                role: Role::from_db(&member.role)?,
                id: member.id.clone(),
                member,
            })
        })
    }
}
