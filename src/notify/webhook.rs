//! The webhook channel: a signed JSON POST per delivery, following the Standard Webhooks
//! specification (api.md, "Webhooks").
//!
//! Body `{type, timestamp, data}`; headers `webhook-id` (the delivery's id, the same on every
//! attempt and redelivery), `webhook-timestamp` (this attempt, Unix seconds) and
//! `webhook-signature`. A 2xx within 15 s is success; redirects are not followed (a 3xx is a
//! failure); a 410 disables the webhook; anything else is retried on the schedule, later if the
//! receiver's `Retry-After` asks. The client connects only to addresses the
//! [`GuardedResolver`] let through, so a name that now resolves to a private address gets
//! nothing.

use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{Duration, NaiveDateTime};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

use super::worker::{retry_after, SendError};
use crate::db::{Db, DbConnection};
use crate::error::{AppError, AppResult};
use crate::outbox::{self, OutboxRow, Outcome};
use crate::prayer_requests::model::Visibility;
use crate::prayer_requests::store as requests;
use crate::prayer_requests::visibility::Viewer;
use crate::state::AppState;
use crate::webhooks::address::{literal_allowed, GuardedResolver};
use crate::webhooks::signing::signature_header;
use crate::webhooks::store as hooks;

/// How long a receiver has to answer.
const TIMEOUT: StdDuration = StdDuration::from_secs(15);
/// The longest a receiver's `Retry-After` may put the next attempt off.
const MAX_RETRY_AFTER: i64 = 86_400;

/// The HTTP client deliveries go through.
pub struct Poster {
    client: reqwest::Client,
    allow_private: bool,
}

impl Poster {
    pub fn new(allow_private: bool) -> AppResult<Self> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(StdDuration::from_secs(10))
            .dns_resolver(GuardedResolver::shared(allow_private))
            .user_agent(concat!("intercede-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(AppError::internal)?;
        Ok(Poster {
            client,
            allow_private,
        })
    }
}

/// A delivery, ready to send.
struct Post {
    url: reqwest::Url,
    body: Vec<u8>,
    secrets: Vec<String>,
}

enum Plan {
    Drop(String),
    Send(Box<Post>),
}

/// What `data` may say of the request it names, to a receiver outside the church: its title
/// only when it is a `congregation` request every member may read now; ids always.
fn with_public_title(conn: &mut DbConnection, mut data: Value) -> AppResult<Value> {
    let Some(request_id) = data.get("request_id").and_then(Value::as_str) else {
        return Ok(data);
    };
    let anyone = Viewer {
        id: String::new(),
        leader: false,
    };
    match requests::find_visible(conn, &anyone, request_id) {
        Ok(r) if r.visibility == Visibility::Congregation => {
            data["title"] = Value::from(r.title);
        }
        Ok(_) | Err(AppError::NotFound) => {}
        Err(e) => return Err(e),
    }
    Ok(data)
}

fn plan(conn: &mut DbConnection, row: &OutboxRow, at: NaiveDateTime) -> AppResult<Plan> {
    let id = row
        .webhook_id
        .as_deref()
        .ok_or(AppError::bug("a webhook delivery without a webhook"))?;
    let Some(hook) = hooks::find(conn, id)? else {
        return Ok(Plan::Drop("the webhook was removed".into()));
    };
    if !hook.active {
        return Ok(Plan::Drop("the webhook is not active".into()));
    }
    let url = reqwest::Url::parse(&hook.url).map_err(AppError::internal)?;
    let data: Value = serde_json::from_str(&row.data).map_err(AppError::internal)?;
    if !super::render::still_applies(conn, row.event, &data, at)? {
        return Ok(Plan::Drop(
            "it no longer applies (the slot was given up, the day checked in, a prayer logged...)"
                .into(),
        ));
    }
    let body = json!({
        "type": row.event.as_str(),
        "timestamp": crate::time::to_utc(row.created_at)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": with_public_title(conn, data)?,
    });
    Ok(Plan::Send(Box::new(Post {
        url,
        body: serde_json::to_vec(&body).map_err(AppError::internal)?,
        secrets: hook
            .signing_secrets(at)
            .into_iter()
            .map(str::to_string)
            .collect(),
    })))
}

/// Delivers one webhook row and records how it ended (a lost connection is left to the
/// caller's retry).
pub async fn deliver(
    state: &web::Data<AppState>,
    db: &Db,
    poster: &Poster,
    row: &OutboxRow,
) -> Result<(), SendError> {
    let clock = state.clock;
    let transient = |e: AppError| SendError::Transient(e.to_string());
    let at = clock.now();
    let planned = {
        let row = row.clone();
        db.read(move |conn| plan(conn, &row, at))
            .await
            .map_err(transient)?
    };
    let post = match planned {
        Plan::Drop(why) => {
            let row = row.clone();
            db.write(move |conn| outbox::finish(conn, &row, at, &Outcome::Dropped(why)))
                .await
                .map_err(transient)?;
            return Ok(());
        }
        Plan::Send(post) => post,
    };
    if !literal_allowed(&post.url, poster.allow_private) {
        return Err(SendError::Permanent(
            "the webhook's address is private, loopback or link-local".into(),
        ));
    }
    // The signature's timestamp is the real time, not the service's clock: receivers check it
    // against their own clocks to refuse replays (Standard Webhooks: a few minutes' tolerance),
    // so a development instance with `CLOCK_START` must still send the true time here.
    let timestamp = chrono::Utc::now().timestamp();
    let secrets: Vec<&str> = post.secrets.iter().map(String::as_str).collect();
    let signature = signature_header(&secrets, &row.id, timestamp, &post.body);
    let sent = poster
        .client
        .post(post.url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("webhook-id", &row.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(post.body)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            let why = if e.is_timeout() {
                "no answer within 15 s".to_string()
            } else {
                format!("could not reach the receiver: {}", without_url(&e))
            };
            return Err(SendError::Transient(why));
        }
    };
    let status = response.status();
    let code = i32::from(status.as_u16());
    let waited = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s.clamp(0, MAX_RETRY_AFTER));
    let done = clock.now();
    let outcome = if status.is_success() {
        Outcome::Sent
    } else if status == reqwest::StatusCode::GONE {
        Outcome::Failed {
            error: "410 Gone: the receiver asked for no more; the webhook was disabled".into(),
            retry_at: None,
        }
    } else {
        let scheduled = retry_after(row.attempts);
        Outcome::Failed {
            error: format!("the receiver answered {status}"),
            retry_at: scheduled.map(|d| done + d.max(Duration::seconds(waited.unwrap_or(0)))),
        }
    };
    let gone = status == reqwest::StatusCode::GONE;
    let row = row.clone();
    db.write(move |conn| {
        outbox::note_response(conn, &row.id, Some(code))?;
        if gone {
            if let Some(id) = &row.webhook_id {
                // Gone already (deleted meanwhile) is the same outcome.
                let _ = hooks::update(
                    conn,
                    id,
                    &hooks::WebhookChanges {
                        active: Some(false),
                        updated_at: Some(done),
                        ..Default::default()
                    },
                )?;
            }
        }
        outbox::finish(conn, &row, done, &outcome)
    })
    .await
    .map_err(transient)?;
    Ok(())
}

/// reqwest's error text, without the URL (which may carry a token the receiver put in it).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "the webhook's URL");
    }
    text
}
