//! The public form: a visitor asks for prayer without an account; a leader sees it first.

use actix_web::{post, web, HttpResponse};
use chrono::Duration;

use super::model::{
    Kind, PublicRequestInput, Received, RequestRow, Status, Visibility, BODY_MAX, TITLE_MAX,
};
use super::routes::category_id;
use super::{notices, store};
use crate::accounts::DISPLAY_NAME_MAX;
use crate::error::{AppError, AppResult};
use crate::http::client::ClientAddr;
use crate::http::validate::{self, Validator};
use crate::http::Json;
use crate::outbox;
use crate::ratelimit;
use crate::state::AppState;

/// Ask for prayer without an account (visitors).
///
/// The request waits, `pending` and visible to leaders only, until a leader approves it. The
/// answer says nothing about it (no id). Limited per client address (`PUBLIC_REQUESTS_PER_HOUR`).
#[utoipa::path(
    tag = "Prayer requests",
    request_body = PublicRequestInput,
    responses(
        (status = 202, description = "Received; leaders will read it", body = Received),
        (status = 429, description = "Too many submissions from this address; see `Retry-After`"),
    )
)]
#[post("/public/prayer-requests")]
pub async fn submit_public_request(
    client: ClientAddr,
    state: web::Data<AppState>,
    Json(input): Json<PublicRequestInput>,
) -> AppResult<HttpResponse> {
    let clock = state.clock;
    ratelimit::check(
        &state.db,
        clock,
        vec![(state.limits.public_requests_per_address, client.key())],
    )
    .await?;
    let at = clock.now();
    let mut v = Validator::new();
    let title = v.take(validate::line("title", &input.title, 1, TITLE_MAX));
    let body = v.take(validate::text("body", &input.body, 1, BODY_MAX));
    let name = input
        .name
        .as_deref()
        .and_then(|n| v.take(validate::line("name", n, 0, DISPLAY_NAME_MAX)))
        .filter(|n| !n.is_empty());
    let email = input
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .and_then(|e| v.take(validate::email("email", e)));
    let expires_on = at.date() + Duration::days(state.config.request_expiry_days);
    let mut errors = v.into_errors();
    state
        .db
        .write(move |conn| {
            let category_id = match category_id(conn, &input.category)? {
                Ok(id) => id,
                Err(e) => {
                    errors.push(e);
                    String::new()
                }
            };
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            let (title, body) = (title.expect("valid"), body.expect("valid"));
            let row = RequestRow {
                id: uuid::Uuid::now_v7().to_string(),
                title,
                body,
                category_id,
                kind: Kind::Prayer,
                on_behalf_of: None,
                visibility: Visibility::Leaders,
                urgent: false,
                anonymous: false,
                allow_comments: false,
                status: Status::Pending,
                expires_on,
                prayer_count: 0,
                intercessor_count: 0,
                last_prayed_at: None,
                requester_id: None,
                submitter_name: name,
                submitter_email: email,
                flagged: false,
                flag_reason: None,
                flagged_at: None,
                rejection_reason: None,
                answered_at: None,
                testimony: None,
                share_testimony: false,
                created_at: at,
                updated_at: at,
            };
            store::insert(conn, &row)?;
            outbox::tell(conn, at, &[], &[notices::created(&row)])
        })
        .await?;
    Ok(HttpResponse::Accepted().json(Received { status: "received" }))
}
