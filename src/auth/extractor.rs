//! The signed-in caller: [`Caller`], the one extractor of every authenticated endpoint. Taking it
//! makes a handler require a valid access token (401 otherwise, before the handler runs); it
//! checks the token only, and the member behind it is read as an [`AuthUser`] in one of two ways:
//!
//! - [`Caller::member`]: on its own, before the handler's work (most handlers);
//! - [`Caller::read`], [`Caller::write`]: inside the handler's own database call, on the same
//!   connection or in the same transaction, saving a trip through the blocking pool. Measured
//!   (docs/benchmarks.md, #17): reading the member first cost POST prayers 25% of its
//!   throughput and GET by id 17%, so the endpoints church apps call most use these.
//!
//! Either way the member is read on every request, so a role change or a deactivation applies to
//! the very next request whatever tokens are still out.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};

use super::member::{find_profile, MemberProfile};
use super::Role;
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The signed-in, active member making the request, as read for this request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub role: Role,
    /// The member as read for this request, so handlers need not read it again.
    pub member: MemberProfile,
}

/// A caller whose access token is valid (signature, issuer, audience, expiry), not yet known to be
/// an active member: the only way to an [`AuthUser`] is to read the member.
#[derive(Debug)]
pub struct Caller {
    member_id: String,
}

impl Caller {
    /// The member id the token names; whether that member is still active, and in which role,
    /// is known only once the member has been read.
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// Reads the member behind the token: the active member, or 401.
    pub fn resolve(&self, conn: &mut DbConnection) -> AppResult<AuthUser> {
        let member = find_profile(conn, &self.member_id)?
            .filter(|m| m.active)
            .ok_or_else(Self::no_longer_active)?;
        Ok(AuthUser {
            role: member.role,
            id: member.id.clone(),
            member,
        })
    }

    /// The answer to a caller whose member is gone or deactivated, for a handler that reads the
    /// member in a statement of its own making instead of through [`Caller::resolve`].
    pub fn no_longer_active() -> AppError {
        AppError::Unauthorized("This account is no longer active.".into())
    }

    /// The member, read on its own.
    pub async fn member(self, db: &Db) -> AppResult<AuthUser> {
        db.read(move |conn| self.resolve(conn)).await
    }

    /// [`Db::read`], with the caller read as an [`AuthUser`] on the same connection first.
    pub async fn read<T, F>(self, db: &Db, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection, AuthUser) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        db.read(move |conn| {
            let user = self.resolve(conn)?;
            f(conn, user)
        })
        .await
    }

    /// [`Db::write`], with the caller read as an [`AuthUser`] inside the same transaction first.
    pub async fn write<T, F>(self, db: &Db, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection, AuthUser) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        db.write(move |conn| {
            let user = self.resolve(conn)?;
            f(conn, user)
        })
        .await
    }
}

fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Checks the bearer token; no database.
fn caller(req: &HttpRequest) -> AppResult<Caller> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::bug("application state missing"))?;
    let token = bearer_token(req).ok_or_else(|| {
        AppError::Unauthorized("Sign in first: send `Authorization: Bearer <access_token>`.".into())
    })?;
    let member_id = state.tokens.verify_access(token)?;
    Ok(Caller { member_id })
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req))
    }
}
