//! `/webhooks`: admins register, change, rotate, ping and remove webhooks, and read each one's
//! delivery log.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::address;
use super::signing::new_secret;
use super::store::{self, events_json, WebhookChanges, WebhookRow, ROTATION_OVERLAP_HOURS};
use crate::auth::roles::require_admin;
use crate::auth::Caller;
use crate::db::schema::{outbox, webhooks};
use crate::error::{AppError, AppResult, ProblemType};
use crate::http::validate::{self, present, Validator};
use crate::http::{Json, Page, PageParams, Query};
use crate::outbox::{self as notices, DeliveryState, Event};
use crate::state::AppState;
use crate::time::to_utc;

#[derive(OpenApi)]
#[openapi(paths(
    create_webhook,
    list_webhooks,
    get_webhook,
    update_webhook,
    delete_webhook,
    rotate_secret,
    ping_webhook,
    list_webhook_deliveries,
    redeliver
))]
pub struct WebhooksApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_secret)
        .service(ping_webhook)
        .service(list_webhook_deliveries)
        .service(redeliver);
}

const MAX_URL: usize = 2_000;
const MAX_DESCRIPTION: usize = 500;

/// A registered webhook (its secret is shown only when made and when rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<Event>,
    pub description: Option<String>,
    /// `false`: nothing is sent to it (an admin paused it, or its receiver answered 410 Gone).
    pub active: bool,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// A webhook with its signing secret: the answer to creating one and to rotating its secret,
/// the only times the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` + base64 of 32 random bytes: the Standard Webhooks key of the signatures.
    pub secret: String,
}

impl From<&WebhookRow> for Webhook {
    fn from(r: &WebhookRow) -> Self {
        Webhook {
            id: r.id.clone(),
            url: r.url.clone(),
            events: r.events(),
            description: r.description.clone(),
            active: r.active,
            created_at: to_utc(r.created_at),
        }
    }
}

fn with_secret(r: &WebhookRow) -> WebhookWithSecret {
    WebhookWithSecret {
        webhook: r.into(),
        secret: r.secret.clone(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `http` or `https`, on a public address (unless `WEBHOOK_ALLOW_PRIVATE=true`).
    pub url: String,
    /// At least one of the webhook events.
    pub events: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `false` pauses deliveries; `true` resumes them (after a 410 disabled it).
    pub active: Option<bool>,
}

fn check_events(v: &mut Validator, events: &[String]) -> Vec<Event> {
    if events.is_empty() {
        v.add("events", "must name at least one event");
    }
    let mut chosen = Vec::new();
    for (i, name) in events.iter().enumerate() {
        match Event::parse(name).filter(|e| Event::FOR_WEBHOOKS.contains(e)) {
            Some(e) if !chosen.contains(&e) => chosen.push(e),
            Some(_) => {}
            None => v.add(
                format!("events[{i}]"),
                format!(
                    "is not a webhook event; events: {}",
                    Event::FOR_WEBHOOKS
                        .iter()
                        .map(|e| e.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    chosen
}

async fn check_url(v: &mut Validator, state: &AppState, url: &str) -> Option<String> {
    if url.chars().count() > MAX_URL {
        v.add("url", format!("must be at most {MAX_URL} characters"));
        return None;
    }
    match address::check(url, state.config.webhook_allow_private).await {
        Ok(parsed) => Some(parsed.to_string()),
        Err(why) => {
            v.add("url", why);
            None
        }
    }
}

fn check_description(v: &mut Validator, description: Option<&str>) -> Option<String> {
    match validate::note("description", description, MAX_DESCRIPTION) {
        Ok(d) => d,
        Err(AppError::Validation(errors)) => {
            for e in errors {
                v.add(e.field, e.message);
            }
            None
        }
        Err(_) => None,
    }
}

/// Register a webhook (admins). The answer carries its secret, shown this once.
#[utoipa::path(
    tag = "Webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Registered", body = WebhookWithSecret),
        (status = 403, description = "Not an admin"),
        (status = 422, description = "A bad URL (not http(s), or a private address), an unknown event"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    Json(input): Json<CreateWebhook>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    require_admin(&user)?;
    let mut v = Validator::new();
    let url = check_url(&mut v, &state, &input.url).await;
    let events = check_events(&mut v, &input.events);
    let description = check_description(&mut v, input.description.as_deref());
    v.finish()?;
    let at = clock.now();
    let row = WebhookRow {
        id: uuid::Uuid::now_v7().to_string(),
        url: url.expect("checked"),
        events: events_json(&events),
        description,
        active: true,
        secret: new_secret(),
        previous_secret: None,
        previous_secret_until: None,
        created_at: at,
        updated_at: at,
    };
    let stored = row.clone();
    state
        .db
        .write(move |conn| store::insert(conn, &stored))
        .await?;
    tracing::info!(webhook = %row.id, "a webhook was registered");
    Ok(HttpResponse::Created().json(with_secret(&row)))
}

/// Every webhook (admins), newest first.
#[utoipa::path(
    tag = "Webhooks",
    params(crate::http::PageQuery),
    responses(
        (status = 200, description = "A page of webhooks", body = Page<Webhook>),
        (status = 403, description = "Not an admin"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageParams<String>,
) -> AppResult<web::Json<Page<Webhook>>> {
    let page = caller
        .read(&state.db, move |conn, user| {
            require_admin(&user)?;
            let mut rows = webhooks::table
                .select(WebhookRow::as_select())
                .order(webhooks::id.desc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(after) = &page.after {
                rows = rows.filter(webhooks::id.lt(after.clone()));
            }
            let rows = rows.load(conn)?;
            Ok(page.page(rows, |r| r.id.clone(), |r| Webhook::from(&r)))
        })
        .await?;
    Ok(web::Json(page))
}

/// One webhook (admins).
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<Webhook>> {
    let id = id.into_inner();
    let row = caller
        .read(&state.db, move |conn, user| {
            require_admin(&user)?;
            store::find(conn, &id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(web::Json(Webhook::from(&row)))
}

/// Change a webhook (admins): its URL, events, description, or whether it is active.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path)),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The webhook as changed", body = Webhook),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook"),
        (status = 422, description = "A bad URL or an unknown event"),
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Json(input): Json<UpdateWebhook>,
) -> AppResult<web::Json<Webhook>> {
    let clock = state.clock;
    let user = caller.member(&state.db).await?;
    require_admin(&user)?;
    let mut v = Validator::new();
    let url = match &input.url {
        Some(u) => check_url(&mut v, &state, u).await,
        None => None,
    };
    let events = input.events.as_deref().map(|e| check_events(&mut v, e));
    let description = input
        .description
        .as_ref()
        .map(|d| check_description(&mut v, d.as_deref()));
    v.finish()?;
    let changes = WebhookChanges {
        url,
        events: events.map(|e| events_json(&e)),
        description,
        active: input.active,
        updated_at: Some(clock.now()),
        ..Default::default()
    };
    let id = id.into_inner();
    let row = state
        .db
        .write(move |conn| store::update(conn, &id, &changes)?.ok_or(AppError::NotFound))
        .await?;
    Ok(web::Json(Webhook::from(&row)))
}

/// Remove a webhook and its delivery log (admins).
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook"),
    ),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    caller
        .write(&state.db, move |conn, user| {
            require_admin(&user)?;
            if store::delete(conn, &id)? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Give a webhook a new secret (admins). For the next 24 hours every delivery carries a
/// signature under each, so the receiver can switch without missing one.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The webhook with its new secret", body = WebhookWithSecret),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<web::Json<WebhookWithSecret>> {
    let clock = state.clock;
    let id = id.into_inner();
    let row = caller
        .write(&state.db, move |conn, user| {
            require_admin(&user)?;
            let old = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            let at = clock.now();
            let changes = WebhookChanges {
                secret: Some(new_secret()),
                previous_secret: Some(Some(old.secret)),
                previous_secret_until: Some(Some(at + Duration::hours(ROTATION_OVERLAP_HOURS))),
                updated_at: Some(at),
                ..Default::default()
            };
            store::update(conn, &id, &changes)?.ok_or(AppError::NotFound)
        })
        .await?;
    tracing::info!(webhook = %row.id, "a webhook's secret was rotated");
    Ok(web::Json(with_secret(&row)))
}

/// Queue a `webhook.ping` delivery to this webhook (admins), to test the receiver.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path)),
    responses(
        (status = 202, description = "Queued; see its deliveries"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook"),
        (status = 409, description = "The webhook is not active"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let id = id.into_inner();
    caller
        .write(&state.db, move |conn, user| {
            require_admin(&user)?;
            let hook = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            if !hook.active {
                return Err(AppError::conflict(
                    ProblemType::InvalidState,
                    "The webhook is not active: make it active to ping it.",
                ));
            }
            let key = format!("webhook.ping:{}", uuid::Uuid::now_v7());
            let data = serde_json::json!({ "webhook_id": hook.id });
            notices::announce(
                conn,
                clock.now(),
                Event::WebhookPing,
                &key,
                &data,
                Some(&hook.id),
            )
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// One delivery to a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// The delivery's id: its `webhook-id` header, the same on every attempt and redelivery.
    pub id: String,
    pub event: Event,
    pub status: DeliveryState,
    pub attempts: i32,
    /// The receiver's HTTP status on the last attempt (`null`: none yet, or no answer).
    pub response_status: Option<i32>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When a pending delivery is tried next; `null` once it ended.
    #[serde(serialize_with = "crate::time::rfc3339_opt")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct DeliveryRow {
    id: String,
    event: Event,
    state: DeliveryState,
    attempts: i32,
    response_status: Option<i32>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    run_at: NaiveDateTime,
}

impl From<DeliveryRow> for WebhookDelivery {
    fn from(r: DeliveryRow) -> Self {
        WebhookDelivery {
            id: r.id,
            event: r.event,
            status: r.state,
            attempts: r.attempts,
            response_status: r.response_status,
            last_error: r.last_error,
            created_at: to_utc(r.created_at),
            next_attempt_at: (r.state == DeliveryState::Pending).then(|| to_utc(r.run_at)),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WebhookDeliveriesQuery {
    pub status: Option<DeliveryState>,
    /// 1 to 100; 20 when omitted.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A webhook's deliveries, newest first (admins).
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path), WebhookDeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<WebhookDelivery>),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    Query(query): Query<WebhookDeliveriesQuery>,
) -> AppResult<web::Json<Page<WebhookDelivery>>> {
    let page = PageParams::<String>::parse(query.limit, query.cursor.as_deref())?;
    let id = id.into_inner();
    let page = caller
        .read(&state.db, move |conn, user| {
            require_admin(&user)?;
            store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            let mut rows = outbox::table
                .filter(outbox::webhook_id.eq(&id))
                .select(DeliveryRow::as_select())
                .order(outbox::id.desc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(status) = query.status {
                rows = rows.filter(outbox::state.eq(status));
            }
            if let Some(after) = &page.after {
                rows = rows.filter(outbox::id.lt(after.clone()));
            }
            let rows = rows.load(conn)?;
            Ok(page.page(rows, |r| r.id.clone(), WebhookDelivery::from))
        })
        .await?;
    Ok(web::Json(page))
}

/// Send a delivery again, now, with the same `webhook-id` (admins): the retry schedule starts
/// over. 409 while an attempt is in flight.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses(
        (status = 202, description = "Queued again"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such webhook or delivery"),
        (status = 409, description = "It is being sent right now"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let (id, delivery_id) = path.into_inner();
    caller
        .write(&state.db, move |conn, user| {
            require_admin(&user)?;
            let changed = diesel::update(
                outbox::table
                    .filter(outbox::id.eq(&delivery_id))
                    .filter(outbox::webhook_id.eq(&id))
                    .filter(outbox::state.ne(DeliveryState::Sending)),
            )
            .set((
                outbox::state.eq(DeliveryState::Pending),
                outbox::run_at.eq(clock.now()),
                outbox::attempts.eq(0),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::sent_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
            if changed == 1 {
                return Ok(());
            }
            let exists = outbox::table
                .filter(outbox::id.eq(&delivery_id))
                .filter(outbox::webhook_id.eq(&id))
                .count()
                .get_result::<i64>(conn)?;
            Err(if exists == 0 {
                AppError::NotFound
            } else {
                AppError::conflict(
                    ProblemType::InvalidState,
                    "The delivery is being sent right now; try again when it ends.",
                )
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}
