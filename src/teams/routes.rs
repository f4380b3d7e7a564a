//! HTTP handlers for `/teams` and team memberships.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use utoipa::OpenApi;

use super::access::{require_lead, require_member_or_leader};
use super::model::{
    CreateTeamInput, PutTeamMemberInput, Team, TeamChanges, TeamMember, TeamMemberRow, TeamRole,
    TeamRow, UpdateTeamInput, DESCRIPTION_MAX, NAME_MAX,
};
use super::store;
use crate::accounts::model::PersonRef;
use crate::accounts::store as members;
use crate::assignments::store as assignments;
use crate::auth::roles::require_leader;
use crate::auth::{AuthUser, Caller};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::http::validate::{self, Validator};
use crate::http::{Json, Page, PageParams, PageQuery};
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(
    create_team,
    list_teams,
    get_team,
    update_team,
    delete_team,
    list_team_members,
    put_team_member,
    remove_team_member
))]
pub struct TeamsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_team)
        .service(list_teams)
        .service(get_team)
        .service(update_team)
        .service(delete_team)
        .service(list_team_members)
        .service(put_team_member)
        .service(remove_team_member);
}

/// What rendering teams for a caller needs: member counts and the caller's roles, loaded in two
/// queries whatever the number of teams.
struct TeamContext {
    counts: std::collections::HashMap<String, i64>,
    roles: std::collections::HashMap<String, TeamRole>,
}

impl TeamContext {
    fn load(conn: &mut DbConnection, user: &AuthUser, rows: &[TeamRow]) -> AppResult<Self> {
        let ids: Vec<String> = rows.iter().map(|t| t.id.clone()).collect();
        Ok(TeamContext {
            counts: store::member_counts(conn, &ids)?,
            roles: store::roles_of(conn, &user.id)?,
        })
    }

    fn team(&self, t: TeamRow) -> Team {
        Team {
            member_count: self.counts.get(&t.id).copied().unwrap_or(0),
            my_team_role: self.roles.get(&t.id).copied(),
            id: t.id,
            name: t.name,
            description: t.description,
            created_at: to_utc(t.created_at),
            updated_at: to_utc(t.updated_at),
        }
    }
}

fn render_one(conn: &mut DbConnection, user: &AuthUser, row: TeamRow) -> AppResult<Team> {
    let ctx = TeamContext::load(conn, user, std::slice::from_ref(&row))?;
    Ok(ctx.team(row))
}

fn team_name(v: &mut Validator, name: &str) -> Option<String> {
    v.take(validate::line("name", name, 1, NAME_MAX))
}

fn description(v: &mut Validator, d: &str) -> Option<Option<String>> {
    v.take(validate::text("description", d, 0, DESCRIPTION_MAX))
        .map(|d| Some(d).filter(|d| !d.is_empty()))
}

/// Create a team (leaders).
#[utoipa::path(
    tag = "Teams",
    request_body = CreateTeamInput,
    responses(
        (status = 201, description = "The new team", body = Team),
        (status = 403, description = "The caller is not a leader"),
        (status = 409, description = "A team with this name exists"),
    ),
    security(("bearer" = []))
)]
#[post("/teams")]
pub async fn create_team(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateTeamInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    require_leader(&user)?;
    let mut v = Validator::new();
    let name = team_name(&mut v, &input.name);
    let description = input
        .description
        .as_deref()
        .and_then(|d| description(&mut v, d))
        .flatten();
    v.finish()?;
    let name = name.expect("validated");
    let at = clock.now();
    let row = TeamRow {
        id: uuid::Uuid::now_v7().to_string(),
        name_key: name.to_lowercase(),
        name,
        description,
        created_at: at,
        updated_at: at,
        deleted_at: None,
    };
    let team = state
        .db
        .write(move |conn| {
            store::insert(conn, &row)?;
            render_one(conn, &user, row)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/teams/{}", team.id)))
        .json(team))
}

/// List the teams (members), by name.
#[utoipa::path(
    tag = "Teams",
    params(PageQuery),
    responses((status = 200, description = "A page of teams", body = Page<Team>)),
    security(("bearer" = []))
)]
#[get("/teams")]
pub async fn list_teams(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Team>>> {
    let user = caller.member(&state.db).await?;
    let fetch = page.fetch();
    let page = state
        .db
        .read(move |conn| {
            let rows = store::list(conn, page.after.as_deref(), fetch)?;
            let ctx = TeamContext::load(conn, &user, &rows)?;
            Ok(page.page(rows, |t| t.name_key.clone(), |t| ctx.team(t)))
        })
        .await?;
    Ok(web::Json(page))
}

/// One team (members).
#[utoipa::path(
    tag = "Teams",
    params(("id" = String, Path, description = "Team id")),
    responses((status = 200, description = "The team", body = Team)),
    security(("bearer" = []))
)]
#[get("/teams/{id}")]
pub async fn get_team(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Team>> {
    let user = caller.member(&state.db).await?;
    let team = state
        .db
        .read(move |conn| {
            let row = store::find_live(conn, &id)?;
            render_one(conn, &user, row)
        })
        .await?;
    Ok(web::Json(team))
}

/// Rename a team or change its description (its team leaders, or leaders).
#[utoipa::path(
    tag = "Teams",
    params(("id" = String, Path, description = "Team id")),
    request_body = UpdateTeamInput,
    responses(
        (status = 200, description = "The updated team", body = Team),
        (status = 403, description = "Neither a leader nor this team's team leader"),
        (status = 409, description = "A team with this name exists"),
    ),
    security(("bearer" = []))
)]
#[patch("/teams/{id}")]
pub async fn update_team(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateTeamInput>,
) -> AppResult<web::Json<Team>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let mut v = Validator::new();
    let name = input.name.as_deref().and_then(|n| team_name(&mut v, n));
    let description = match input.description {
        None => None,
        Some(None) => Some(None),
        Some(Some(d)) => description(&mut v, &d),
    };
    v.finish()?;
    let team = state
        .db
        .write(move |conn| {
            let row = store::find_live(conn, &id)?;
            require_lead(conn, &user, &row.id)?;
            let changes = TeamChanges {
                name_key: name.as_ref().map(|n| n.to_lowercase()),
                name,
                description,
                updated_at: Some(clock.now()),
            };
            let row = store::update(conn, &row.id, &changes)?;
            render_one(conn, &user, row)
        })
        .await?;
    Ok(web::Json(team))
}

/// Delete a team (its team leaders, or leaders).
///
/// Its live assignments are released; their history stays, still naming the team.
#[utoipa::path(
    tag = "Teams",
    params(("id" = String, Path, description = "Team id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither a leader nor this team's team leader"),
    ),
    security(("bearer" = []))
)]
#[delete("/teams/{id}")]
pub async fn delete_team(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    state
        .db
        .write(move |conn| {
            let row = store::find_live(conn, &id)?;
            require_lead(conn, &user, &row.id)?;
            let at = clock.now();
            assignments::release_for_team(conn, &row.id, at)?;
            store::mark_deleted(conn, &row.id, at)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The members of a team (its members, and leaders).
#[utoipa::path(
    tag = "Teams",
    params(("id" = String, Path, description = "Team id"), PageQuery),
    responses(
        (status = 200, description = "A page of the team's members", body = Page<TeamMember>),
        (status = 403, description = "Neither a leader nor a member of this team"),
    ),
    security(("bearer" = []))
)]
#[get("/teams/{id}/members")]
pub async fn list_team_members(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<TeamMember>>> {
    let user = caller.member(&state.db).await?;
    let fetch = page.fetch();
    let page = state
        .db
        .read(move |conn| {
            let team = store::find_live(conn, &id)?;
            require_member_or_leader(conn, &user, &team.id)?;
            let rows = store::list_members(conn, &team.id, page.after.as_deref(), fetch)?;
            let rows = rows
                .into_iter()
                .map(|(m, name)| Ok((m.team_role, m, name)))
                .collect::<AppResult<Vec<_>>>()?;
            Ok(page.page(
                rows,
                |(_, m, _)| m.member_id.clone(),
                |(team_role, m, display_name)| TeamMember {
                    member: PersonRef {
                        id: m.member_id,
                        display_name,
                    },
                    team_role,
                    joined_at: to_utc(m.joined_at),
                },
            ))
        })
        .await?;
    Ok(web::Json(page))
}

/// Add a member to a team, or change their team role.
///
/// A team leader adds and removes members of their own team; only a leader appoints (or demotes)
/// team leaders. 201 when the member was added, 200 when their role changed.
#[utoipa::path(
    tag = "Teams",
    params(
        ("id" = String, Path, description = "Team id"),
        ("member_id" = String, Path, description = "Member id"),
    ),
    request_body = PutTeamMemberInput,
    responses(
        (status = 200, description = "The member's role changed", body = TeamMember),
        (status = 201, description = "The member was added", body = TeamMember),
        (status = 403, description = "Not allowed to add members or to appoint team leaders here"),
    ),
    security(("bearer" = []))
)]
#[put("/teams/{id}/members/{member_id}")]
pub async fn put_team_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    Json(input): Json<PutTeamMemberInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let (team_id, member_id) = path.into_inner();
    let (added, entry) = state
        .db
        .write(move |conn| {
            let team = store::find_live(conn, &team_id)?;
            require_lead(conn, &user, &team.id)?;
            let member = members::find(conn, &member_id)?
                .filter(|m| m.active)
                .ok_or(AppError::NotFound)?;
            let existing = store::membership(conn, &team.id, &member.id)?;
            let touches_team_leader = input.team_role == TeamRole::Leader
                || existing
                    .as_ref()
                    .is_some_and(|m| m.team_role == TeamRole::Leader);
            if touches_team_leader && !user.role.is_leader() {
                return Err(AppError::Forbidden(
                    "Only a leader appoints or demotes team leaders.".into(),
                ));
            }
            let row = TeamMemberRow {
                team_id: team.id.clone(),
                member_id: member.id.clone(),
                team_role: input.team_role,
                joined_at: existing
                    .as_ref()
                    .map_or_else(|| clock.now(), |m| m.joined_at),
            };
            let added = store::put_member(conn, &row)?;
            Ok((
                added,
                TeamMember {
                    member: PersonRef {
                        id: member.id,
                        display_name: member.display_name,
                    },
                    team_role: input.team_role,
                    joined_at: to_utc(row.joined_at),
                },
            ))
        })
        .await?;
    Ok(if added {
        HttpResponse::Created().json(entry)
    } else {
        HttpResponse::Ok().json(entry)
    })
}

/// Remove a member from a team (a team leader, a leader, or the member themself).
///
/// Removing a team leader takes a leader (or the team leader leaving).
#[utoipa::path(
    tag = "Teams",
    params(
        ("id" = String, Path, description = "Team id"),
        ("member_id" = String, Path, description = "Member id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not allowed to remove this member"),
    ),
    security(("bearer" = []))
)]
#[delete("/teams/{id}/members/{member_id}")]
pub async fn remove_team_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    let (team_id, member_id) = path.into_inner();
    state
        .db
        .write(move |conn| {
            let team = store::find_live(conn, &team_id)?;
            let leaving = user.id == member_id;
            if !leaving {
                require_lead(conn, &user, &team.id)?;
            }
            let membership =
                store::membership(conn, &team.id, &member_id)?.ok_or(AppError::NotFound)?;
            let is_team_leader = membership.team_role == TeamRole::Leader;
            if is_team_leader && !leaving && !user.role.is_leader() {
                return Err(AppError::Forbidden(
                    "Only a leader removes a team leader.".into(),
                ));
            }
            store::remove_member(conn, &team.id, &member_id).map(|_| ())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
