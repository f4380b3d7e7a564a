//! The read-only overviews of assignments: a member's own list and a team's dashboard.

use std::collections::HashMap;

use actix_web::{get, web};
use chrono::{Duration, NaiveDateTime};

use super::access;
use super::model::{Assignee, DashboardItem, MyAssignment, MyAssignmentsQuery};
use super::routes::render;
use super::store;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::http::{Page, PageParams, PageQuery, Query};
use crate::prayer_requests::model::RequestRow;
use crate::prayer_requests::reads;
use crate::prayer_requests::store as requests;
use crate::prayer_requests::views::Context;
use crate::prayer_requests::visibility::Viewer;
use crate::state::AppState;
use crate::teams::store as teams;
use crate::time::to_utc;

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
    let clock = state.clock;
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let actor = caller.member_id().to_string();
    let fetch = page.fetch();
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
                clock.now().date(),
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
            Ok(page.page(items, |(id, _)| id.clone(), |(_, a)| a))
        })
        .await?;
    let read = page.items.iter().filter_map(|a| a.request.as_ref());
    reads::confidential_reads(&state.db, &actor, read, clock.now()).await?;
    Ok(web::Json(page))
}

/// The dashboard's sort key: needing attention first, then the least recently prayed for, then the id.
type DashboardKey = (bool, Option<NaiveDateTime>, String);

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
    page: PageParams<DashboardKey>,
) -> AppResult<web::Json<Page<DashboardItem>>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    let viewer = Viewer::from(&user);
    let actor = user.id.clone();
    let fetch = page.fetch();
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
            let at = clock.now();
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
            let mut items: Vec<(DashboardKey, DashboardItem)> = visible
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
            let items: Vec<(DashboardKey, DashboardItem)> = items
                .into_iter()
                .filter(|(k, _)| page.after.as_ref().is_none_or(|after| k > after))
                .take(fetch as usize)
                .collect();
            Ok(page.page(items, |(k, _)| k.clone(), |(_, item)| item))
        })
        .await?;
    reads::confidential_reads(
        &state.db,
        &actor,
        page.items.iter().map(|i| &i.request),
        clock.now(),
    )
    .await?;
    Ok(web::Json(page))
}
