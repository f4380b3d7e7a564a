//! HTTP handlers for `/auth/*`, `/me` and `/members`.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use utoipa::OpenApi;

use super::model::{
    search_key, ChangePasswordInput, LoginInput, Member, MemberChanges, MemberListQuery,
    RefreshInput, RegisterInput, TokenPair, UpdateMeInput, UpdateMemberInput,
};
use super::sessions::{self, Refresh};
use super::{store, DISPLAY_NAME_MAX};
use crate::audit::{self, AuditKind};
use crate::auth::roles::{require_admin, require_leader, require_self_or_leader};
use crate::auth::{passwords, Caller, Role};
use crate::config::Registration;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::client::ClientAddr;
use crate::http::validate::{self, Validator};
use crate::http::{Json, Page, PageParams, Query};
use crate::ratelimit;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(
    register,
    login,
    refresh,
    logout,
    get_me,
    update_me,
    change_password,
    list_members,
    get_member,
    update_member
))]
pub struct AccountsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(get_me)
        .service(update_me)
        .service(change_password)
        .service(list_members)
        .service(get_member)
        .service(update_member);
}

pub(crate) async fn token_pair(state: &AppState, member_id: String) -> AppResult<TokenPair> {
    let clock = state.clock;
    let ttl = state.config.refresh_token_ttl_secs;
    let id = member_id.clone();
    let refresh_token = state
        .db
        .write(move |conn| sessions::start(conn, &id, ttl, clock.now()))
        .await?;
    Ok(TokenPair {
        access_token: state.tokens.issue_access(&member_id)?,
        token_type: "Bearer",
        expires_in: state.tokens.access_ttl_secs,
        refresh_token,
    })
}

/// Register a new member.
///
/// Anyone may register while `REGISTRATION=open`. When it is `closed`, only a leader can add
/// members, by calling this endpoint with their own access token. New accounts are `member`s.
#[utoipa::path(
    tag = "Accounts",
    request_body = RegisterInput,
    responses(
        (status = 201, description = "The new member", body = Member),
        (status = 403, description = "Registration is closed and the caller is not a leader"),
        (status = 409, description = "An account with this email already exists"),
    ),
    security((), ("bearer" = []))
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    Json(input): Json<RegisterInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    // A token that is not an active member's counts as no token (anyone may register when open).
    let caller = match caller {
        Some(caller) => caller.member(&state.db).await.ok(),
        None => None,
    };
    if state.config.registration == Registration::Closed
        && !caller.as_ref().is_some_and(|c| c.role.is_leader())
    {
        return Err(AppError::Forbidden(
            "Registration is closed: ask a leader to add you.".into(),
        ));
    }
    let new = input.validate()?;
    let hash = passwords::hash_blocking(new.password.clone()).await?;
    let row = new.into_row(hash, Role::Member, clock.now());
    let row = state
        .db
        .write(move |conn| store::insert(conn, &row).map(|_| row))
        .await?;
    let location = format!("/api/v1/members/{}", row.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(Member::try_from(row)?))
}

/// Sign in with email and password.
///
/// An unknown email and a wrong password get the same 401, in the same time. Attempts are
/// limited per client address (`LOGIN_ATTEMPTS_PER_MINUTE`) and per account (a third of that).
#[utoipa::path(
    tag = "Accounts",
    request_body = LoginInput,
    responses(
        (status = 200, description = "A new session", body = TokenPair),
        (status = 401, description = "Email or password is wrong, or the account is deactivated"),
        (status = 429, description = "Too many attempts; see `Retry-After`"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    client: ClientAddr,
    state: web::Data<AppState>,
    Json(input): Json<LoginInput>,
) -> AppResult<HttpResponse> {
    let email = input.email.trim().to_lowercase();
    let limits = &state.limits;
    ratelimit::check(
        &state.db,
        state.clock,
        vec![
            (limits.login_per_address, client.key()),
            (limits.login_per_account, email.clone()),
        ],
    )
    .await?;
    let member = state
        .db
        .read(move |conn| store::find_by_email(conn, &email))
        .await?;
    let hash = member
        .as_ref()
        .map(|m| m.password_hash.clone())
        .unwrap_or_else(|| state.decoy_hash.clone());
    let matches = passwords::verify_blocking(input.password, hash).await?;
    let member = match member {
        Some(m) if matches && m.active => m,
        _ => return Err(AppError::Unauthorized("Email or password is wrong.".into())),
    };
    Ok(HttpResponse::Ok().json(token_pair(&state, member.id).await?))
}

/// Trade a refresh token for a new token pair.
///
/// The refresh token is single-use. Presenting one that was already used revokes every token of
/// that session (401): whoever copied it and the rightful holder must both sign in again.
#[utoipa::path(
    tag = "Accounts",
    request_body = RefreshInput,
    responses(
        (status = 200, description = "A new token pair; the old refresh token is dead", body = TokenPair),
        (status = 401, description = "Unknown, expired, reused or revoked refresh token"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    Json(input): Json<RefreshInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let ttl = state.config.refresh_token_ttl_secs;
    let outcome = state
        .db
        .write(move |conn| sessions::rotate(conn, &input.refresh_token, ttl, clock.now()))
        .await?;
    match outcome {
        Refresh::Rotated {
            member_id,
            refresh_token,
        } => Ok(HttpResponse::Ok().json(TokenPair {
            access_token: state.tokens.issue_access(&member_id)?,
            token_type: "Bearer",
            expires_in: state.tokens.access_ttl_secs,
            refresh_token,
        })),
        Refresh::Refused => Err(AppError::Unauthorized(
            "The refresh token is invalid, expired or already used.".into(),
        )),
    }
}

/// End the session the refresh token belongs to.
///
/// Always 204, also for unknown tokens, so logging out twice is harmless. Access tokens already
/// issued stay valid until they expire (`ACCESS_TOKEN_TTL_SECS`).
#[utoipa::path(
    tag = "Accounts",
    request_body = RefreshInput,
    responses((status = 204, description = "Signed out"))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    Json(input): Json<RefreshInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    state
        .db
        .write(move |conn| sessions::end(conn, &input.refresh_token, clock.now()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in member.
#[utoipa::path(
    tag = "Accounts",
    responses((status = 200, description = "The caller's account", body = Member)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, caller: Caller) -> AppResult<web::Json<Member>> {
    let user = caller.member(&state.db).await?;
    Ok(web::Json(Member::try_from(user.member)?))
}

/// Change one's own display name, time zone or assignment limit.
#[utoipa::path(
    tag = "Accounts",
    request_body = UpdateMeInput,
    responses((status = 200, description = "The updated account", body = Member)),
    security(("bearer" = []))
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<UpdateMeInput>,
) -> AppResult<web::Json<Member>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let mut v = Validator::new();
    let display_name = input
        .display_name
        .as_deref()
        .and_then(|n| v.take(validate::line("display_name", n, 1, DISPLAY_NAME_MAX)));
    let timezone = input.timezone.as_deref().and_then(|tz| {
        v.take(validate::timezone("timezone", tz))
            .map(|tz| tz.name().to_string())
    });
    if let Some(Some(n)) = input.max_active_assignments {
        if !(0..=1000).contains(&n) {
            v.add(
                "max_active_assignments",
                "must be from 0 to 1000, or null for no limit",
            );
        }
    }
    v.finish()?;
    let changes = MemberChanges {
        search_key: display_name
            .as_deref()
            .map(|name| search_key(name, &user.member.email)),
        display_name,
        timezone,
        max_active_assignments: input.max_active_assignments,
        updated_at: Some(clock.now()),
        ..Default::default()
    };
    let row = state
        .db
        .write(move |conn| store::update(conn, &user.id, &changes))
        .await?;
    Ok(web::Json(Member::try_from(row)?))
}

/// Change one's own password. Every session (refresh token) of the account is ended.
#[utoipa::path(
    tag = "Accounts",
    request_body = ChangePasswordInput,
    responses(
        (status = 204, description = "Password changed; sign in again on other devices"),
        (status = 422, description = "`current_password` is wrong or `new_password` is invalid"),
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<ChangePasswordInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    validate::password("new_password", &input.new_password)
        .map_err(|e| AppError::Validation(vec![e]))?;
    if !super::is_own_password(&state.db, &user.id, input.current_password).await? {
        return Err(AppError::invalid(
            "current_password",
            "is not the account's current password",
        ));
    }
    let hash = passwords::hash_blocking(input.new_password).await?;
    let channels = state.channels;
    state
        .db
        .write(move |conn| {
            super::password_reset::set_password(conn, channels, &user.id, hash, clock.now())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List members (leaders).
///
/// In the order they joined. `q` matches display name or email, case-insensitively.
#[utoipa::path(
    tag = "Members",
    params(MemberListQuery),
    responses(
        (status = 200, description = "A page of members", body = Page<Member>),
        (status = 403, description = "The caller is not a leader"),
    ),
    security(("bearer" = []))
)]
#[get("/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<MemberListQuery>,
) -> AppResult<web::Json<Page<Member>>> {
    let user = caller.member(&state.db).await?;
    require_leader(&user)?;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let filter = store::MemberFilter {
        q: query
            .q
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty()),
        role: query.role,
        active: query.active,
    };
    let page = state
        .db
        .read(move |conn| {
            let rows = store::list(conn, &filter, page.after.as_deref(), page.fetch())?;
            let members: Vec<Member> = rows
                .into_iter()
                .map(Member::try_from)
                .collect::<AppResult<_>>()?;
            Ok(page.page(members, |m| m.id.clone(), |m| m))
        })
        .await?;
    Ok(web::Json(page))
}

/// One member (leaders, or the member themself).
#[utoipa::path(
    tag = "Members",
    params(("id" = String, Path, description = "Member id")),
    responses(
        (status = 200, description = "The member", body = Member),
        (status = 403, description = "Neither a leader nor this member"),
        (status = 404, description = "No such member"),
    ),
    security(("bearer" = []))
)]
#[get("/members/{id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Member>> {
    let user = caller.member(&state.db).await?;
    let id = id.into_inner();
    require_self_or_leader(&user, &id)?;
    let row = state
        .db
        .read(move |conn| store::find(conn, &id))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(web::Json(Member::try_from(row)?))
}

/// Change a member's role or deactivate them (admins).
///
/// Takes effect on the member's very next request, whatever tokens they hold; deactivation also
/// ends all their sessions. The last active admin can be neither demoted nor deactivated (409).
#[utoipa::path(
    tag = "Members",
    params(("id" = String, Path, description = "Member id")),
    request_body = UpdateMemberInput,
    responses(
        (status = 200, description = "The updated member", body = Member),
        (status = 403, description = "The caller is not an admin"),
        (status = 404, description = "No such member"),
        (status = 409, description = "It would leave the church without an active admin"),
    ),
    security(("bearer" = []))
)]
#[patch("/members/{id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateMemberInput>,
) -> AppResult<web::Json<Member>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    require_admin(&user)?;
    let id = id.into_inner();
    let row = state
        .db
        .write(move |conn| {
            let target = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            let is_active_admin = target.active && target.role == Role::Admin;
            let stays_admin =
                input.role.is_none_or(|r| r == Role::Admin) && input.active.unwrap_or(true);
            if is_active_admin && !stays_admin {
                let admins = store::lock_active_admins(conn)?;
                if !admins.iter().any(|a| *a != id) {
                    return Err(AppError::conflict(
                        ProblemType::LastAdmin,
                        "This is the last active admin: make another admin first.",
                    ));
                }
            }
            let at = clock.now();
            let changes = MemberChanges {
                role: input.role,
                active: input.active,
                updated_at: Some(at),
                ..Default::default()
            };
            let updated = store::update(conn, &id, &changes)?;
            if input.active == Some(false) {
                store::revoke_all_for_member(conn, &id, at)?;
            }
            let subject = [id.clone()];
            if updated.role != target.role {
                let detail = format!(
                    "role: {} -> {}",
                    target.role.as_str(),
                    updated.role.as_str()
                );
                audit::record(
                    conn,
                    AuditKind::RoleChanged,
                    Some(&user.id),
                    "member",
                    &subject,
                    Some(detail),
                    clock.now(),
                )?;
            }
            match (target.active, updated.active) {
                (true, false) => audit::record(
                    conn,
                    AuditKind::Deactivated,
                    Some(&user.id),
                    "member",
                    &subject,
                    None,
                    clock.now(),
                )?,
                (false, true) => audit::record(
                    conn,
                    AuditKind::Reactivated,
                    Some(&user.id),
                    "member",
                    &subject,
                    None,
                    clock.now(),
                )?,
                _ => {}
            }
            Ok(updated)
        })
        .await?;
    Ok(web::Json(Member::try_from(row)?))
}
