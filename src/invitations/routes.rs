//! `/invitations`: invite, list, revoke; and, for whoever holds the link, read and accept.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::store::{self, InvitationRow, InvitationStatus};
use crate::accounts::model::{RegisterInput, TokenPair};
use crate::accounts::routes::token_pair;
use crate::accounts::store as members;
use crate::auth::links;
use crate::auth::roles::require_leader;
use crate::auth::{passwords, Caller, Role};
use crate::db::schema::{invitations, teams};
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate::{self, Validator};
use crate::http::{Json, Page, PageParams, Query};
use crate::outbox::{self, Event};
use crate::state::AppState;
use crate::teams::model::{TeamMemberRow, TeamRole};
use crate::teams::store as team_store;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(
    create_invitation,
    list_invitations,
    revoke_invitation,
    read_invitation,
    accept_invitation
))]
pub struct InvitationsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_invitation)
        .service(list_invitations)
        .service(revoke_invitation)
        .service(read_invitation)
        .service(accept_invitation);
}

/// An invitation, as leaders see it (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    /// The church-wide role the new member gets.
    pub role: Role,
    pub team_id: Option<String>,
    pub team_role: Option<TeamRole>,
    pub status: InvitationStatus,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

fn view(r: &InvitationRow, at: NaiveDateTime) -> Invitation {
    Invitation {
        id: r.id.clone(),
        email: r.email.clone(),
        role: r.role,
        team_id: r.team_id.clone(),
        team_role: r.team_role,
        status: r.status_at(at),
        expires_at: to_utc(r.expires_at),
        created_at: to_utc(r.created_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    pub email: String,
    /// `member` (the default) or `leader` (only an admin may invite a leader).
    pub role: Option<Role>,
    /// The team the new member joins.
    pub team_id: Option<String>,
    /// Their role in it; `member` when omitted. Only with `team_id`.
    pub team_role: Option<TeamRole>,
}

/// Invite an address (a leader; a team leader, into their own team). The address gets an email
/// with the link; 409 when it already belongs to a member. A new invitation of the same address
/// replaces its pending one.
#[utoipa::path(
    tag = "Invitations",
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Invited; the email is on its way", body = Invitation),
        (status = 403, description = "Not a leader, nor the team's leader; or a leader invited by a non-admin"),
        (status = 409, description = "The address belongs to a member"),
        (status = 422, description = "A bad address, role or team"),
    ),
    security(("bearer" = []))
)]
#[post("/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateInvitation>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let mut v = Validator::new();
    let email = v.take(validate::email("email", &input.email));
    let role = input.role.unwrap_or(Role::Member);
    if role == Role::Admin {
        v.add(
            "role",
            "must be member or leader; admins are made by admins",
        );
    }
    if input.team_role.is_some() && input.team_id.is_none() {
        v.add("team_role", "needs a team_id");
    }
    v.finish()?;
    let email = email.expect("validated");
    let channels = state.channels;
    let keys = state.links.clone();
    let ttl = Duration::hours(state.config.invitation_ttl_hours);
    let row = caller
        .write(&state.db, move |conn, user| {
            match &input.team_id {
                Some(team_id) => {
                    let team = team_store::find_live(conn, team_id).map_err(|e| match e {
                        AppError::NotFound => AppError::invalid("team_id", "is not a team"),
                        e => e,
                    })?;
                    let leads = team_store::membership(conn, &team.id, &user.id)?
                        .is_some_and(|m| m.team_role == TeamRole::Leader);
                    if !user.role.is_leader() && !leads {
                        return Err(AppError::Forbidden(
                            "Only leaders, and a team's own leaders, may invite into it.".into(),
                        ));
                    }
                    if !user.role.is_leader() && role != Role::Member {
                        return Err(AppError::Forbidden(
                            "A team leader invites members only.".into(),
                        ));
                    }
                }
                None => require_leader(&user)?,
            }
            if role == Role::Leader && user.role != Role::Admin {
                return Err(AppError::Forbidden(
                    "Only an admin may invite a leader.".into(),
                ));
            }
            if members::find_by_email(conn, &email)?.is_some() {
                return Err(AppError::conflict(
                    ProblemType::EmailTaken,
                    "This address already belongs to a member.",
                ));
            }
            let at = clock.now();
            store::revoke_pending_for(conn, &email, at)?;
            let (salt, token_hash) = keys.new_link();
            let row = InvitationRow {
                id: uuid::Uuid::now_v7().to_string(),
                email,
                role,
                team_id: input.team_id.clone(),
                team_role: input
                    .team_id
                    .as_ref()
                    .map(|_| input.team_role.unwrap_or(TeamRole::Member)),
                token_hash,
                status: InvitationStatus::Pending,
                invited_by: Some(user.id.clone()),
                member_id: None,
                expires_at: at + ttl,
                created_at: at,
                updated_at: at,
            };
            store::insert(conn, &row)?;
            outbox::enqueue_mail(
                conn,
                at,
                channels,
                Event::Invitation,
                &format!("invitation:{}", row.id),
                None,
                &json!({"invitation_id": row.id, "salt": salt}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(view(&row, row.created_at)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvitationsQuery {
    pub status: Option<InvitationStatus>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Every invitation, newest first (leaders).
#[utoipa::path(
    tag = "Invitations",
    params(InvitationsQuery),
    responses(
        (status = 200, description = "A page of invitations", body = Page<Invitation>),
        (status = 403, description = "Not a leader"),
    ),
    security(("bearer" = []))
)]
#[get("/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<InvitationsQuery>,
) -> AppResult<web::Json<Page<Invitation>>> {
    let clock = state.clock;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let at = clock.now();
    let page = caller
        .read(&state.db, move |conn, user| {
            require_leader(&user)?;
            let mut rows = invitations::table
                .select(InvitationRow::as_select())
                .order(invitations::id.desc())
                .limit(page.fetch())
                .into_boxed();
            rows = match query.status {
                Some(InvitationStatus::Pending) => rows
                    .filter(invitations::status.eq(InvitationStatus::Pending))
                    .filter(invitations::expires_at.gt(at)),
                Some(InvitationStatus::Expired) => rows
                    .filter(invitations::status.eq(InvitationStatus::Pending))
                    .filter(invitations::expires_at.le(at)),
                Some(s) => rows.filter(invitations::status.eq(s)),
                None => rows,
            };
            if let Some(after) = &page.after {
                rows = rows.filter(invitations::id.lt(after.clone()));
            }
            let rows = rows.load(conn)?;
            Ok(page.page(rows, |r| r.id.clone(), |r| view(&r, at)))
        })
        .await?;
    Ok(web::Json(page))
}

/// Revoke an invitation (a leader, or whoever sent it): its link dies.
#[utoipa::path(
    tag = "Invitations",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Revoked (or it already was)"),
        (status = 403, description = "Neither a leader nor its inviter"),
        (status = 404, description = "No such invitation"),
        (status = 409, description = "Already accepted"),
    ),
    security(("bearer" = []))
)]
#[delete("/invitations/{id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let id = id.into_inner();
    caller
        .write(&state.db, move |conn, user| {
            let row = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            if !user.role.is_leader() && row.invited_by.as_deref() != Some(user.id.as_str()) {
                return Err(AppError::Forbidden(
                    "Only leaders and the invitation's sender may revoke it.".into(),
                ));
            }
            match row.status {
                InvitationStatus::Accepted => Err(AppError::conflict(
                    ProblemType::InvalidState,
                    "The invitation was accepted; deactivate the member instead.",
                )),
                InvitationStatus::Revoked => Ok(()),
                _ => {
                    store::leave_pending(conn, &row.id, InvitationStatus::Revoked, clock.now())?;
                    Ok(())
                }
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What an invitation's link shows its holder.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreview {
    pub email: String,
    pub role: Role,
    pub team: Option<TeamRef>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamRef {
    pub id: String,
    pub name: String,
}

/// The invitation a link stands for, as long as it can be used; 404 unknown or revoked, 410
/// expired or used.
fn live(
    conn: &mut crate::db::DbConnection,
    token: &str,
    at: NaiveDateTime,
) -> AppResult<InvitationRow> {
    let row = store::find_by_token_hash(conn, &links::hash(token))?.ok_or(AppError::NotFound)?;
    match row.status_at(at) {
        InvitationStatus::Pending => Ok(row),
        InvitationStatus::Revoked => Err(AppError::NotFound),
        InvitationStatus::Accepted => {
            Err(AppError::Gone("This invitation was already used.".into()))
        }
        InvitationStatus::Expired => Err(AppError::Gone(
            "This invitation has expired: ask for a new one.".into(),
        )),
    }
}

/// Read an invitation (whoever holds the link). Changes nothing: mail scanners open links.
#[utoipa::path(
    tag = "Invitations",
    params(("token" = String, Path, description = "From the invitation's link")),
    responses(
        (status = 200, description = "The invitation", body = InvitationPreview),
        (status = 404, description = "Unknown or revoked"),
        (status = 410, description = "Expired or already used"),
    )
)]
#[get("/invitations/{token}")]
pub async fn read_invitation(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<web::Json<InvitationPreview>> {
    let clock = state.clock;
    let token = token.into_inner();
    let preview = state
        .db
        .read(move |conn| {
            let row = live(conn, &token, clock.now())?;
            let team = match &row.team_id {
                Some(id) => teams::table
                    .find(id)
                    .select(teams::name)
                    .first::<String>(conn)
                    .optional()?
                    .map(|name| TeamRef {
                        id: id.clone(),
                        name,
                    }),
                None => None,
            };
            Ok(InvitationPreview {
                email: row.email,
                role: row.role,
                team,
                expires_at: to_utc(row.expires_at),
            })
        })
        .await?;
    Ok(web::Json(preview))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// 1 to 80 characters.
    pub display_name: String,
    /// 8 to 128 characters.
    pub password: String,
    /// IANA time zone; `UTC` when omitted.
    pub timezone: Option<String>,
}

/// Accept an invitation (whoever holds the link): the member is made with the invitation's
/// address, role and team, and signed in. Works when registration is closed; once only.
#[utoipa::path(
    tag = "Invitations",
    params(("token" = String, Path, description = "From the invitation's link")),
    request_body = AcceptInvitation,
    responses(
        (status = 201, description = "The new member, signed in", body = TokenPair),
        (status = 404, description = "Unknown or revoked"),
        (status = 409, description = "The address became a member's meanwhile"),
        (status = 410, description = "Expired or already used"),
        (status = 422, description = "A bad name, password or time zone"),
    )
)]
#[post("/invitations/{token}/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    token: web::Path<String>,
    Json(input): Json<AcceptInvitation>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let token = token.into_inner();
    let found = {
        let token = token.clone();
        state
            .db
            .read(move |conn| live(conn, &token, clock.now()))
            .await?
    };
    let new = RegisterInput {
        email: found.email.clone(),
        password: input.password,
        display_name: input.display_name,
        timezone: input.timezone,
    }
    .validate()?;
    let hash = passwords::hash_blocking(new.password.clone()).await?;
    let member_id = state
        .db
        .write(move |conn| {
            let at = clock.now();
            let invitation = live(conn, &token, at)?;
            // Claimed first: of two accepts at once, the second waits on this row and finds it
            // taken (410), before it could make a second member.
            if !store::leave_pending(conn, &invitation.id, InvitationStatus::Accepted, at)? {
                return Err(AppError::Gone("This invitation was already used.".into()));
            }
            let row = new.into_row(hash, invitation.role, clock.now());
            members::insert(conn, &row)?;
            store::set_member(conn, &invitation.id, &row.id)?;
            if let (Some(team_id), Some(team_role)) = (&invitation.team_id, invitation.team_role) {
                team_store::put_member(
                    conn,
                    &TeamMemberRow {
                        team_id: team_id.clone(),
                        member_id: row.id.clone(),
                        team_role,
                        joined_at: at,
                    },
                )?;
            }
            Ok(row.id)
        })
        .await?;
    tracing::info!(member = %member_id, "an invitation was accepted");
    Ok(HttpResponse::Created().json(token_pair(&state, member_id).await?))
}
