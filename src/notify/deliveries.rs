//! `GET /notification-deliveries`: every delivery and where it stands, for admins. Never a
//! message's text: ids, event, channel, state, attempts and the last error.

use actix_web::{get, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::roles::require_admin;
use crate::auth::Caller;
use crate::db::schema::outbox;
use crate::error::AppResult;
use crate::http::{Page, PageParams, Query};
use crate::outbox::{Channel, DeliveryState, Event};
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(list_deliveries))]
pub struct DeliveriesApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_deliveries);
}

/// One notification's delivery on one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    /// The delivery's stable id (the in-app notification's id).
    pub id: String,
    /// The notification it delivers, shared by its deliveries on each channel.
    pub notification_id: String,
    pub channel: Channel,
    pub event: Event,
    /// The recipient.
    pub member_id: Option<String>,
    pub status: DeliveryState,
    pub attempts: i32,
    /// Why the last attempt failed, or why it was dropped.
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it is (or was) due: the next attempt of a pending delivery.
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub run_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct DeliveryRow {
    id: String,
    notification_id: String,
    channel: Channel,
    event: Event,
    member_id: Option<String>,
    state: DeliveryState,
    attempts: i32,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    run_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            notification_id: r.notification_id,
            channel: r.channel,
            event: r.event,
            member_id: r.member_id,
            status: r.state,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: to_utc(r.created_at),
            run_at: to_utc(r.run_at),
            sent_at: r.sent_at.map(to_utc),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    pub status: Option<DeliveryState>,
    pub channel: Option<Channel>,
    /// Only this recipient's.
    pub member_id: Option<String>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Every notification delivery, newest first (admins).
#[utoipa::path(
    tag = "Notifications",
    params(DeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<Delivery>),
        (status = 403, description = "Not an admin"),
    ),
    security(("bearer" = []))
)]
#[get("/notification-deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    Query(query): Query<DeliveriesQuery>,
) -> AppResult<web::Json<Page<Delivery>>> {
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let page = caller
        .read(&state.db, move |conn, user| {
            require_admin(&user)?;
            let mut rows = outbox::table
                .select(DeliveryRow::as_select())
                .order(outbox::id.desc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(status) = query.status {
                rows = rows.filter(outbox::state.eq(status));
            }
            if let Some(channel) = query.channel {
                rows = rows.filter(outbox::channel.eq(channel));
            }
            if let Some(member) = &query.member_id {
                rows = rows.filter(outbox::member_id.eq(member.clone()));
            }
            if let Some(after) = &page.after {
                rows = rows.filter(outbox::id.lt(after.clone()));
            }
            let rows = rows.load(conn)?;
            Ok(page.page(rows, |r| r.id.clone(), Delivery::from))
        })
        .await?;
    Ok(web::Json(page))
}
