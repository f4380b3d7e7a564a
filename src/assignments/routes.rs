//! HTTP handlers for assignments: assign, auto-assign, list, move, mine, and the team dashboard.

use std::collections::{HashMap, HashSet};

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use utoipa::OpenApi;

use super::access;
use super::model::{
    Assignee, Assignment, AssignmentRow, AssignmentStatus, AutoAssignInput, AutoAssigned,
    CreateAssignmentInput, DashboardItem, MyAssignment, MyAssignmentsQuery, UpdateAssignmentInput,
};
use super::store;
use super::transitions;
use crate::accounts::store as members;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate;
use crate::http::{Json, Page, PageParams, PageQuery, Query};
use crate::prayer_requests::model::{RequestRow, Status, REASON_MAX};
use crate::prayer_requests::reads;
use crate::prayer_requests::store as requests;
use crate::prayer_requests::views::Context;
use crate::prayer_requests::visibility::Viewer;
use crate::state::AppState;
use crate::teams::store as teams;
use crate::time::{now, to_utc};

#[derive(OpenApi)]
#[openapi(paths(
    create_assignment,
    auto_assign,
    list_request_assignments,
    update_assignment,
    my_assignments,
    team_dashboard
))]
pub struct AssignmentsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(auto_assign)
        .service(create_assignment)
        .service(list_request_assignments)
        .service(update_assignment)
        .service(my_assignments)
        .service(team_dashboard);
}

/// Renders an assignment for `viewer`: a decline's reason is for the assigner, the assignee and
/// leaders.
fn render(row: AssignmentRow, viewer: &Viewer) -> AppResult<Assignment> {
    let involved = viewer.leader
        || row.member_id.as_deref() == Some(&viewer.id)
        || row.assigned_by.as_deref() == Some(&viewer.id);
    Ok(Assignment {
        status: row.status,
        reason: if involved { row.reason } else { None },
        id: row.id,
        request_id: row.request_id,
        team_id: row.team_id,
        member_id: row.member_id,
        assigned_by: row.assigned_by,
        created_at: to_utc(row.created_at),
        updated_at: to_utc(row.updated_at),
    })
}

/// A request can be put in someone's hands while it is still being prayed for (or awaiting
/// approval).
fn require_assignable(request: &RequestRow, at: NaiveDateTime) -> AppResult<()> {
    match request.status_on(at.date()) {
        Status::Pending | Status::Active => Ok(()),
        other => Err(AppError::conflict(
            ProblemType::InvalidState,
            format!(
                "The request is {}: only pending or active requests are assigned.",
                other.as_str()
            ),
        )),
    }
}

/// The member's limit, checked with their row locked: 409 when they are already at it.
fn require_room(conn: &mut DbConnection, member_id: &str) -> AppResult<()> {
    store::lock_members(conn, &[member_id.to_string()])?;
    let member = members::find(conn, member_id)?.ok_or(AppError::NotFound)?;
    if let Some(max) = member.max_active_assignments {
        let live = store::live_counts(conn, &[member_id.to_string()])?
            .get(member_id)
            .copied()
            .unwrap_or(0);
        if live >= i64::from(max) {
            return Err(AppError::conflict(
                ProblemType::AtLimit,
                format!(
                    "{} already carries {live} assignment(s), their limit.",
                    member.display_name
                ),
            ));
        }
    }
    Ok(())
}

fn new_row(
    request_id: &str,
    team_id: Option<String>,
    member_id: Option<String>,
    by: &str,
    at: NaiveDateTime,
) -> AssignmentRow {
    AssignmentRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: request_id.to_string(),
        team_id,
        member_id,
        status: AssignmentStatus::Assigned,
        reason: None,
        assigned_by: Some(by.to_string()),
        created_at: at,
        updated_at: at,
    }
}

/// Assign a request to a team, or to a named intercessor.
///
/// A leader assigns any request to any team or member. A team leader assigns requests they can
/// see, to their own team or its members. Assigning a member already at their
/// `max_active_assignments`, or a target that already holds the request, is 409.
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = CreateAssignmentInput,
    responses(
        (status = 201, description = "The assignment", body = Assignment),
        (status = 403, description = "Not a leader, or not a team leader of this team or member"),
        (status = 409, description = "At the member's limit, already assigned, or the request is over"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<CreateAssignmentInput>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    if input.team_id.is_none() && input.member_id.is_none() {
        return Err(AppError::invalid(
            "team_id",
            "give a team_id, a member_id, or both",
        ));
    }
    let viewer = Viewer::from(&user);
    let assignment = state
        .db
        .write(move |conn| {
            let request = requests::find_visible(conn, &viewer, &id)?;
            let at = now();
            // Who and what is targeted, and whether this caller may target it.
            let team_id = match &input.team_id {
                Some(t) => Some(
                    teams::find_live(conn, t)
                        .map_err(|_| AppError::invalid("team_id", "there is no such team"))?
                        .id,
                ),
                None => None,
            };
            let member =
                match &input.member_id {
                    Some(m) => Some(members::find(conn, m)?.filter(|m| m.active).ok_or_else(
                        || AppError::invalid("member_id", "there is no such active member"),
                    )?),
                    None => None,
                };
            let team_id = match (&member, team_id) {
                (Some(m), Some(t)) => {
                    if teams::membership(conn, &t, &m.id)?.is_none() {
                        return Err(AppError::invalid(
                            "member_id",
                            "is not a member of that team",
                        ));
                    }
                    Some(t)
                }
                (Some(m), None) if !user.role.is_leader() => {
                    // A team leader assigns their own team's members: find the team they share.
                    let mine = teams::roles_of(conn, &user.id)?;
                    let theirs = teams::roles_of(conn, &m.id)?;
                    let mut shared: Vec<&String> = mine
                        .iter()
                        .filter(|(t, r)| {
                            **r == crate::teams::model::TeamRole::Leader && theirs.contains_key(*t)
                        })
                        .map(|(t, _)| t)
                        .collect();
                    shared.sort();
                    shared.first().map(|t| (*t).clone())
                }
                (_, t) => t,
            };
            access::require_may_assign(conn, &user, team_id.as_deref())?;
            require_assignable(&request, at)?;
            store::lock_request(conn, &request.id)?;
            match &member {
                Some(m) => {
                    let (live, _) = store::members_on_request(conn, &request.id)?;
                    if live.contains(&m.id) {
                        return Err(AppError::conflict(
                            ProblemType::AlreadyAssigned,
                            "This member already holds this request.",
                        ));
                    }
                    require_room(conn, &m.id)?;
                }
                None => {
                    let t = team_id.as_deref().expect("a team when no member");
                    if store::team_holds(conn, &request.id, t)? {
                        return Err(AppError::conflict(
                            ProblemType::AlreadyAssigned,
                            "This team already holds this request.",
                        ));
                    }
                }
            }
            let row = new_row(&request.id, team_id, member.map(|m| m.id), &user.id, at);
            store::insert(conn, &row)?;
            render(row, &viewer)
        })
        .await?;
    Ok(HttpResponse::Created().json(assignment))
}

/// Assign a request to the team members who carry least (a leader, or that team's team leader).
///
/// Picks `count` active members of the team with the fewest live assignments, least recently
/// assigned first on a tie; skips members at their limit, members already holding the request and
/// members who declined it. All or nothing: when the team cannot take `count`, 409 says how many it
/// could (`available`).
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Prayer request id")),
    request_body = AutoAssignInput,
    responses(
        (status = 201, description = "The new assignments", body = AutoAssigned),
        (status = 403, description = "Neither a leader nor this team's team leader"),
        (status = 409, description = "The team cannot take that many; `available` says how many it can"),
    ),
    security(("bearer" = []))
)]
#[post("/prayer-requests/{id}/assignments/auto")]
pub async fn auto_assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<AutoAssignInput>,
) -> AppResult<HttpResponse> {
    let user = caller.member(&state.db).await?;
    if !(1..=100).contains(&input.count) {
        return Err(AppError::invalid("count", "must be from 1 to 100"));
    }
    let viewer = Viewer::from(&user);
    let placed = state
        .db
        .write(move |conn| {
            let request = requests::find_visible(conn, &viewer, &id)?;
            let team = teams::find_live(conn, &input.team_id)
                .map_err(|_| AppError::invalid("team_id", "there is no such team"))?;
            access::require_lead(conn, &user, &team.id)?;
            let at = now();
            require_assignable(&request, at)?;
            store::lock_request(conn, &request.id)?;
            let team_members = teams::member_ids(conn, &team.id)?;
            store::lock_members(conn, &team_members)?;
            let (holding, declined) = store::members_on_request(conn, &request.id)?;
            let skip: HashSet<String> = holding.into_iter().chain(declined).collect();
            let live = store::live_counts(conn, &team_members)?;
            let last = store::last_assigned(conn, &team_members)?;
            let mut candidates = Vec::new();
            for member_id in team_members.iter().filter(|m| !skip.contains(*m)) {
                let Some(member) = members::find(conn, member_id)?.filter(|m| m.active) else {
                    continue;
                };
                let carrying = live.get(member_id).copied().unwrap_or(0);
                if member
                    .max_active_assignments
                    .is_some_and(|max| carrying >= i64::from(max))
                {
                    continue;
                }
                candidates.push((carrying, last.get(member_id).copied(), member.id));
            }
            // Fewest live assignments; then least recently assigned (never assigned first); then id.
            candidates.sort();
            let wanted = input.count as usize;
            if candidates.len() < wanted {
                return Err(AppError::NotEnough {
                    detail: format!(
                        "The team can take {} more intercessor(s) for this request, not {wanted}.",
                        candidates.len()
                    ),
                    available: candidates.len() as i64,
                });
            }
            let mut placed = Vec::with_capacity(wanted);
            for (_, _, member_id) in candidates.into_iter().take(wanted) {
                let row = new_row(
                    &request.id,
                    Some(team.id.clone()),
                    Some(member_id),
                    &user.id,
                    at,
                );
                store::insert(conn, &row)?;
                placed.push(render(row, &viewer)?);
            }
            Ok(placed)
        })
        .await?;
    Ok(HttpResponse::Created().json(AutoAssigned { items: placed }))
}

/// The assignments of a request, in the order they were made (anyone who can see the request).
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Prayer request id"), PageQuery),
    responses((status = 200, description = "A page of assignments", body = Page<Assignment>)),
    security(("bearer" = []))
)]
#[get("/prayer-requests/{id}/assignments")]
pub async fn list_request_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<web::Json<Page<Assignment>>> {
    let user = caller.member(&state.db).await?;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let viewer = Viewer::from(&user);
    let (limit, fetch) = (page.limit, page.fetch());
    let rows = state
        .db
        .read(move |conn| {
            let request = requests::find_visible(conn, &viewer, &id)?;
            let rows = store::list_for_request(conn, &request.id, page.after.as_deref(), fetch)?;
            rows.into_iter()
                .map(|r| Ok((r.id.clone(), render(r, &viewer)?)))
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |(id, _)| id.clone(),
        |(_, a)| a,
    )))
}

/// Move an assignment along: the assignee accepts, declines (with a reason) or completes; the
/// assigner or a leader releases. Any other move is 409.
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Assignment id")),
    request_body = UpdateAssignmentInput,
    responses(
        (status = 200, description = "The updated assignment", body = Assignment),
        (status = 403, description = "Not this move's rightful actor"),
        (status = 409, description = "The assignment's state does not allow this move"),
    ),
    security(("bearer" = []))
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateAssignmentInput>,
) -> AppResult<web::Json<Assignment>> {
    let user = caller.member(&state.db).await?;
    let reason = match input.reason.as_deref() {
        Some(r) => Some(
            validate::text("reason", r, 1, REASON_MAX)
                .map_err(|e| AppError::Validation(vec![e]))?,
        ),
        None => None,
    };
    if input.status == AssignmentStatus::Declined && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "is required to decline: the assigner reads it",
        ));
    }
    let viewer = Viewer::from(&user);
    let assignment = state
        .db
        .write(move |conn| {
            let row = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            let who = access::standing(conn, &user, &row)?;
            let from = row.status;
            transitions::check(from, input.status, who)?;
            let reason = match input.status {
                AssignmentStatus::Declined => reason,
                _ => row.reason.clone(),
            };
            store::set_status(conn, &row.id, input.status, reason, now())?;
            let row = store::find(conn, &row.id)?.ok_or(AppError::NotFound)?;
            render(row, &viewer)
        })
        .await?;
    Ok(web::Json(assignment))
}

/// My assignments, newest first, with each request while I may still read it.
#[utoipa::path(
    tag = "Assignments",
    params(MyAssignmentsQuery),
    responses((status = 200, description = "A page of my assignments", body = Page<MyAssignment>)),
    security(("bearer" = []))
)]
#[get("/me/assignments")]
pub async fn my_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<MyAssignmentsQuery>,
) -> AppResult<web::Json<Page<MyAssignment>>> {
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let actor = caller.member_id().to_string();
    let (limit, fetch) = (page.limit, page.fetch());
    let page = caller
        .read(&state.db, move |conn, user| {
            let viewer = Viewer::from(&user);
            let rows = store::list_for_member(
                conn,
                &viewer.id,
                query.status,
                page.after.as_deref(),
                fetch,
            )?;
            let ids: Vec<String> = rows.iter().map(|r| r.request_id.clone()).collect();
            let visible = requests::visible_among(conn, &viewer, &ids)?;
            let ctx = Context::load(
                conn,
                &viewer,
                now().date(),
                visible.iter().map(|r| r.requester_id.clone()),
            )?
            .with_categories(conn, visible.iter().map(|r| &r.category_id))?;
            let mut by_id: HashMap<String, RequestRow> =
                visible.into_iter().map(|r| (r.id.clone(), r)).collect();
            let items = rows
                .into_iter()
                .map(|r| {
                    let request = by_id.remove(&r.request_id).map(|req| ctx.request(req));
                    Ok((
                        r.id.clone(),
                        MyAssignment {
                            assignment: render(r, &viewer)?,
                            request,
                        },
                    ))
                })
                .collect::<AppResult<Vec<_>>>()?;
            Ok(Page::from_rows(
                items,
                limit,
                |(id, _)| id.clone(),
                |(_, a)| a,
            ))
        })
        .await?;
    let read = page.items.iter().filter_map(|a| a.request.as_ref());
    reads::confidential_reads(&state.db, &actor, read).await?;
    Ok(web::Json(page))
}

/// The team dashboard (the team's team leaders, and leaders).
///
/// Every request live-assigned to the team or to its members that the caller may see, with its
/// assignees, prayers in the last 7 days and `last_prayed_at`; requests nobody has prayed for in
/// 3 days come first. A fixed number of queries, however many requests.
#[utoipa::path(
    tag = "Assignments",
    params(("id" = String, Path, description = "Team id"), PageQuery),
    responses(
        (status = 200, description = "The team's requests", body = Page<DashboardItem>),
        (status = 403, description = "Neither a leader nor this team's team leader"),
    ),
    security(("bearer" = []))
)]
#[get("/teams/{id}/assignments")]
pub async fn team_dashboard(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<web::Json<Page<DashboardItem>>> {
    let user = caller.member(&state.db).await?;
    type Key = (bool, Option<NaiveDateTime>, String);
    let page = PageParams::<Key>::parse(query.limit, query.cursor.as_deref())?;
    let viewer = Viewer::from(&user);
    let actor = user.id.clone();
    let (limit, fetch) = (page.limit, page.fetch());
    let page = state
        .db
        .read(move |conn| {
            let team = teams::find_live(conn, &id)?;
            access::require_lead(conn, &user, &team.id)?;
            let member_ids = teams::member_ids(conn, &team.id)?;
            let live = store::live_for_team(conn, &team.id, &member_ids)?;
            let mut request_ids: Vec<String> = live.iter().map(|a| a.request_id.clone()).collect();
            request_ids.sort();
            request_ids.dedup();
            let visible = requests::visible_among(conn, &viewer, &request_ids)?;
            let at = now();
            let recent = requests::prayers_since(conn, &request_ids, at - Duration::days(7))?;
            let people = visible
                .iter()
                .map(|r| r.requester_id.clone())
                .chain(live.iter().map(|a| a.member_id.clone()));
            let ctx = Context::load(conn, &viewer, at.date(), people)?
                .with_categories(conn, visible.iter().map(|r| &r.category_id))?;
            let stale_before = at - Duration::days(3);
            let mut assignees: HashMap<String, Vec<Assignee>> = HashMap::new();
            for a in live {
                let status = a.status;
                assignees
                    .entry(a.request_id.clone())
                    .or_default()
                    .push(Assignee {
                        assignment_id: a.id,
                        team_id: a.team_id,
                        member: a.member_id.as_ref().and_then(|m| ctx.person_by_id(m)),
                        status,
                    });
            }
            let mut items: Vec<(Key, DashboardItem)> = visible
                .into_iter()
                .map(|r| {
                    let needs_attention = r.last_prayed_at.is_none_or(|t| t < stale_before);
                    // Needing attention sorts first (false < true), then least recently prayed for.
                    let key = (!needs_attention, r.last_prayed_at, r.id.clone());
                    let item = DashboardItem {
                        assignees: assignees.remove(&r.id).unwrap_or_default(),
                        prayer_count: recent.get(&r.id).copied().unwrap_or(0),
                        last_prayed_at: r.last_prayed_at.map(to_utc),
                        needs_attention,
                        request: ctx.request(r),
                    };
                    (key, item)
                })
                .collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            let items: Vec<(Key, DashboardItem)> = items
                .into_iter()
                .filter(|(k, _)| page.after.as_ref().is_none_or(|after| k > after))
                .take(fetch as usize)
                .collect();
            Ok(Page::from_rows(
                items,
                limit,
                |(k, _)| k.clone(),
                |(_, item)| item,
            ))
        })
        .await?;
    reads::confidential_reads(&state.db, &actor, page.items.iter().map(|i| &i.request)).await?;
    Ok(web::Json(page))
}
