//! Liveness and readiness probes, outside `/api/v1` where load balancers expect them.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppResult;
use crate::outbox;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the response is 200.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(
    tag = "Operations",
    responses((status = 200, description = "The process is alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// Always `ok` when the response is 200.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Whether this instance delivers notifications (`WORKERS_ENABLED`).
    pub workers: bool,
    /// Whether email is configured (`SMTP_URL`): without it the service sends no email.
    pub smtp_configured: bool,
    /// How long the oldest notification due for delivery has waited, in seconds; `null` when
    /// none is owed. A figure that keeps growing means no instance is delivering.
    pub outbox_oldest_due_seconds: Option<i64>,
    /// With `DATABASE_REPLICA_URL`: how this instance's reads went between the replica and the
    /// primary since it started; `null` without a replica.
    pub replica: Option<crate::db::ReplicaStats>,
}

/// Readiness: the database answers; and whether notifications are being delivered.
#[utoipa::path(
    tag = "Operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database does not answer"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let clock = state.clock;
    let at = clock.now();
    let oldest = state
        .db
        .read(move |conn| outbox::oldest_due(conn, at))
        .await?;
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ok",
        workers: state.config.workers_enabled,
        smtp_configured: state.config.mail.is_some(),
        outbox_oldest_due_seconds: oldest.map(|t| (at - t).num_seconds().max(0)),
        replica: state.db.replica_stats(),
    }))
}
