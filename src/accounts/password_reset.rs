//! Password reset by email (api.md, "Invitations", password reset), and what every password
//! change does after.
//!
//! `POST /auth/password-reset` does the same work whoever's address it names: it writes one
//! outbox row holding the address and a link salt ([`crate::auth::links`]) and answers 202. The
//! worker that delivers it finds the member ([`prepare`]); for a stranger's address it drops the
//! row and nothing is sent. So the answer, and its time, say nothing about who is a member. The
//! reset link (one hour from the request) is made then: its hash is stored, older links of the
//! member end.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use super::model::{MemberChanges, MemberRow};
use super::store;
use crate::auth::links::{self, LinkKeys};
use crate::auth::passwords;
use crate::db::schema::password_resets;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::client::ClientAddr;
use crate::http::validate;
use crate::http::Json;
use crate::outbox::{self, Channel, Event};
use crate::ratelimit;
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(request_reset, read_reset, use_reset))]
pub struct PasswordResetApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(request_reset)
        .service(read_reset)
        .service(use_reset);
}

/// How long a reset link works, from the request.
pub const LINK_LIFETIME: Duration = Duration::hours(1);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = password_resets)]
#[diesel(treat_none_as_default_value = false)]
struct ResetRow {
    id: String,
    member_id: String,
    token_hash: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

/// Ask for a password reset link (anyone). Always 202, in the same time, whether or not the
/// address is a member's; a member's address gets an email with a link valid for an hour.
#[utoipa::path(
    tag = "Accounts",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "If the address is a member's, a link is on its way"),
        (status = 422, description = "Not an email address"),
        (status = 429, description = "Too many requests for this address or from this client; see `Retry-After`"),
    )
)]
#[post("/auth/password-reset")]
pub async fn request_reset(
    client: ClientAddr,
    state: web::Data<AppState>,
    Json(input): Json<ResetRequest>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let email =
        validate::email("email", &input.email).map_err(|e| AppError::Validation(vec![e]))?;
    let limits = &state.limits;
    ratelimit::check(
        &state.db,
        clock,
        vec![
            (limits.resets_per_client, client.key()),
            (limits.resets_per_email, email.clone()),
        ],
    )
    .await?;
    let salt = links::new_salt();
    let channels = state.channels;
    state
        .db
        .write(move |conn| {
            outbox::enqueue_mail(
                conn,
                clock.now(),
                channels,
                Event::PasswordReset,
                &format!("password.reset:{}", uuid::Uuid::now_v7()),
                None,
                &json!({"email": email, "salt": salt}),
            )
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// For the worker delivering a `password.reset` row: the member the address belongs to and the
/// link's token, the link stored (its hash) and the member's older links ended. `None` when
/// nothing is to be sent: no active member has the address, the hour is over, or the link cannot
/// be made again (the secret changed). Run again for a retried delivery, it finds the link it
/// stored and sends the same one.
pub fn prepare(
    conn: &mut DbConnection,
    keys: &LinkKeys,
    email: &str,
    salt: &str,
    requested_at: NaiveDateTime,
    at: NaiveDateTime,
) -> AppResult<Option<(MemberRow, String)>> {
    let expires_at = requested_at + LINK_LIFETIME;
    if at >= expires_at {
        return Ok(None);
    }
    let Some(member) = store::find_by_email(conn, email)?.filter(|m| m.active) else {
        return Ok(None);
    };
    let Some(token) = keys.token_for(salt) else {
        return Ok(None);
    };
    let hash = links::hash(&token);
    let stored = password_resets::table
        .filter(password_resets::token_hash.eq(&hash))
        .count()
        .get_result::<i64>(conn)?;
    if stored == 0 {
        diesel::update(
            password_resets::table
                .filter(password_resets::member_id.eq(&member.id))
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::ended_at.is_null()),
        )
        .set(password_resets::ended_at.eq(at))
        .execute(conn)?;
        diesel::insert_into(password_resets::table)
            .values(&ResetRow {
                id: uuid::Uuid::now_v7().to_string(),
                member_id: member.id.clone(),
                token_hash: hash,
                expires_at,
                used_at: None,
                ended_at: None,
                created_at: at,
            })
            .execute(conn)?;
    }
    Ok(Some((member, token)))
}

/// The reset a link stands for while it can be used: 404 unknown, 410 expired, used or ended by
/// a newer one.
fn live(conn: &mut DbConnection, token: &str, at: NaiveDateTime) -> AppResult<ResetRow> {
    let row = password_resets::table
        .filter(password_resets::token_hash.eq(links::hash(token)))
        .select(ResetRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    if row.used_at.is_some() || row.ended_at.is_some() {
        return Err(AppError::Gone(
            "This link was used, or a newer one was sent: use the newest.".into(),
        ));
    }
    if at >= row.expires_at {
        return Err(AppError::Gone(
            "This link has expired: ask for a new one.".into(),
        ));
    }
    Ok(row)
}

/// What a reset link shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetPreview {
    pub email: String,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

/// Read a reset link (whoever holds it). Changes nothing.
#[utoipa::path(
    tag = "Accounts",
    params(("token" = String, Path, description = "From the email's link")),
    responses(
        (status = 200, description = "The link works", body = ResetPreview),
        (status = 404, description = "Unknown link"),
        (status = 410, description = "Expired, used, or replaced by a newer link"),
    )
)]
#[get("/auth/password-reset/{token}")]
pub async fn read_reset(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<web::Json<ResetPreview>> {
    let clock = state.clock;
    let token = token.into_inner();
    let preview = state
        .db
        .read(move |conn| {
            let row = live(conn, &token, clock.now())?;
            let member = store::find(conn, &row.member_id)?.ok_or(AppError::NotFound)?;
            Ok(ResetPreview {
                email: member.email,
                expires_at: to_utc(row.expires_at),
            })
        })
        .await?;
    Ok(web::Json(preview))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// 8 to 128 characters.
    pub new_password: String,
}

/// Set a new password with a reset link (whoever holds it): once only. Every session of the
/// member ends, and a `password.changed` email tells them.
#[utoipa::path(
    tag = "Accounts",
    params(("token" = String, Path, description = "From the email's link")),
    request_body = NewPassword,
    responses(
        (status = 204, description = "Changed; sign in with the new password"),
        (status = 404, description = "Unknown link"),
        (status = 410, description = "Expired, used, or replaced by a newer link"),
        (status = 422, description = "The new password is invalid"),
    )
)]
#[post("/auth/password-reset/{token}")]
pub async fn use_reset(
    state: web::Data<AppState>,
    token: web::Path<String>,
    Json(input): Json<NewPassword>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    validate::password("new_password", &input.new_password)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let token = token.into_inner();
    {
        let token = token.clone();
        state
            .db
            .read(move |conn| live(conn, &token, clock.now()).map(|_| ()))
            .await?;
    }
    let hash = passwords::hash_blocking(input.new_password).await?;
    let channels = state.channels;
    state
        .db
        .write(move |conn| {
            let at = clock.now();
            let row = live(conn, &token, at)?;
            let used = diesel::update(
                password_resets::table
                    .filter(password_resets::id.eq(&row.id))
                    .filter(password_resets::used_at.is_null())
                    .filter(password_resets::ended_at.is_null()),
            )
            .set(password_resets::used_at.eq(at))
            .execute(conn)?;
            if used != 1 {
                return Err(AppError::Gone("This link was already used.".into()));
            }
            set_password(conn, channels, &row.member_id, hash, clock.now())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stores a new password hash for `member_id`, ends every session of theirs, and tells them by
/// email (`password.changed`, whatever their preferences).
pub fn set_password(
    conn: &mut DbConnection,
    channels: &[Channel],
    member_id: &str,
    hash: String,
    at: NaiveDateTime,
) -> AppResult<()> {
    let changes = MemberChanges {
        password_hash: Some(hash),
        updated_at: Some(at),
        ..Default::default()
    };
    store::update(conn, member_id, &changes)?;
    store::revoke_all_for_member(conn, member_id, at)?;
    outbox::enqueue_mail(
        conn,
        at,
        channels,
        Event::PasswordChanged,
        &format!(
            "password.changed:{member_id}:{}",
            at.and_utc().timestamp_micros()
        ),
        Some(member_id),
        &json!({"member_id": member_id, "changed_at": to_utc(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}),
    )
}

/// Deletes reset links that expired before `now`: used, ended or not, they open nothing.
pub fn forget_expired(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<usize> {
    Ok(
        diesel::delete(password_resets::table.filter(password_resets::expires_at.lt(now)))
            .execute(conn)?,
    )
}
