//! The one error type of the service, and its RFC 9457 problem+json rendering.
//!
//! Handlers and stores return `AppError`; actix's own errors (unknown routes, wrong methods, bodies
//! it rejects before a handler runs) are rewritten into the same shape by [`problemize`], so a
//! client never sees an HTML or plain-text error.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request, as listed in a 422 problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name, as the client sent it (`email`, `daily_focus[2].day`, or a query parameter).
    pub field: String,
    /// What is wrong with it, in words an app can show.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details: the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem: `about:blank` when the status says it all, else
    /// one of the `ProblemType` values (`/problems/slot-full`), which an app may branch on.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a human.
    pub detail: String,
    /// One entry per invalid field; present on 422 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// On a 409 from auto-assign: how many intercessors the team could have taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

/// Every problem type the service answers with besides `about:blank`, so an app can branch on
/// `type`. The one list: the OpenAPI document's `ProblemType` schema and docs/errors.md are checked
/// against it by tests, and an error cannot name a type that is not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ProblemType {
    /// One or more fields are invalid: see `errors`, one entry per field.
    #[serde(rename = "/problems/validation")]
    Validation,
    /// Too many attempts: wait `Retry-After` seconds.
    #[serde(rename = "/problems/rate-limited")]
    RateLimited,
    /// A browser's cross-origin preflight, and the service has no `CORS_ORIGINS`: its operator must add the app's origin.
    #[serde(rename = "/problems/cors-not-enabled")]
    CorsNotEnabled,
    /// Auto-assign found fewer intercessors with room than asked for; `available` says how many it could take.
    #[serde(rename = "/problems/not-enough-intercessors")]
    NotEnoughIntercessors,
    /// Another row already has this unique value (a team's or a category's name).
    #[serde(rename = "/problems/duplicate")]
    Duplicate,
    /// A concurrent change got there first; retry.
    #[serde(rename = "/problems/busy")]
    Busy,
    /// An account with this email exists.
    #[serde(rename = "/problems/email-taken")]
    EmailTaken,
    /// The change (a role change, a deactivation, an erasure) would leave no active admin.
    #[serde(rename = "/problems/last-admin")]
    LastAdmin,
    /// `intercede seed` was pointed at a database that already has members.
    #[serde(rename = "/problems/not-empty")]
    NotEmpty,
    /// Prayer requests use this category: rename it, or move them first.
    #[serde(rename = "/problems/category-in-use")]
    CategoryInUse,
    /// The prayer request's status forbids this (praying for a closed request, answering an answered one, assigning an ended one).
    #[serde(rename = "/problems/invalid-state")]
    InvalidState,
    /// The requester has not opened this request to comments.
    #[serde(rename = "/problems/comments-off")]
    CommentsOff,
    /// The assignment's status cannot move to the one asked for (`declined` to `accepted`, say).
    #[serde(rename = "/problems/invalid-transition")]
    InvalidTransition,
    /// The intercessor is at their `max_active_assignments`.
    #[serde(rename = "/problems/at-limit")]
    AtLimit,
    /// This member or team already holds this request.
    #[serde(rename = "/problems/already-assigned")]
    AlreadyAssigned,
    /// A watch slot the signup covers is at `max_per_slot`; `detail` names the first full one.
    #[serde(rename = "/problems/slot-full")]
    SlotFull,
    /// The watch slot has already ended.
    #[serde(rename = "/problems/slot-over")]
    SlotOver,
    /// A check-in outside one's own slot (15 minutes' grace either side).
    #[serde(rename = "/problems/outside-slot")]
    OutsideSlot,
    /// Members have signed up: the fields that lay the watch's slots cannot change.
    #[serde(rename = "/problems/watch-has-signups")]
    WatchHasSignups,
    /// The fast has begun: its first day and zone cannot move and it cannot be shortened.
    #[serde(rename = "/problems/fast-begun")]
    FastBegun,
    /// A fast check-in for a day that has not begun in the fast's zone.
    #[serde(rename = "/problems/day-not-begun")]
    DayNotBegun,
    /// A fast check-in for a day the participant did not commit to.
    #[serde(rename = "/problems/day-not-committed")]
    DayNotCommitted,
}

impl ProblemType {
    pub const ALL: [ProblemType; 22] = [
        ProblemType::Validation,
        ProblemType::RateLimited,
        ProblemType::CorsNotEnabled,
        ProblemType::NotEnoughIntercessors,
        ProblemType::Duplicate,
        ProblemType::Busy,
        ProblemType::EmailTaken,
        ProblemType::LastAdmin,
        ProblemType::NotEmpty,
        ProblemType::CategoryInUse,
        ProblemType::InvalidState,
        ProblemType::CommentsOff,
        ProblemType::InvalidTransition,
        ProblemType::AtLimit,
        ProblemType::AlreadyAssigned,
        ProblemType::SlotFull,
        ProblemType::SlotOver,
        ProblemType::OutsideSlot,
        ProblemType::WatchHasSignups,
        ProblemType::FastBegun,
        ProblemType::DayNotBegun,
        ProblemType::DayNotCommitted,
    ];

    /// The slug after `/problems/`.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemType::Validation => "validation",
            ProblemType::RateLimited => "rate-limited",
            ProblemType::CorsNotEnabled => "cors-not-enabled",
            ProblemType::NotEnoughIntercessors => "not-enough-intercessors",
            ProblemType::Duplicate => "duplicate",
            ProblemType::Busy => "busy",
            ProblemType::EmailTaken => "email-taken",
            ProblemType::LastAdmin => "last-admin",
            ProblemType::NotEmpty => "not-empty",
            ProblemType::CategoryInUse => "category-in-use",
            ProblemType::InvalidState => "invalid-state",
            ProblemType::CommentsOff => "comments-off",
            ProblemType::InvalidTransition => "invalid-transition",
            ProblemType::AtLimit => "at-limit",
            ProblemType::AlreadyAssigned => "already-assigned",
            ProblemType::SlotFull => "slot-full",
            ProblemType::SlotOver => "slot-over",
            ProblemType::OutsideSlot => "outside-slot",
            ProblemType::WatchHasSignups => "watch-has-signups",
            ProblemType::FastBegun => "fast-begun",
            ProblemType::DayNotBegun => "day-not-begun",
            ProblemType::DayNotCommitted => "day-not-committed",
        }
    }

    /// The status it is answered with.
    pub fn status(self) -> u16 {
        match self {
            ProblemType::Validation => 422,
            ProblemType::RateLimited => 429,
            ProblemType::CorsNotEnabled => 403,
            ProblemType::NotEnoughIntercessors => 409,
            ProblemType::Duplicate => 409,
            ProblemType::Busy => 409,
            ProblemType::EmailTaken => 409,
            ProblemType::LastAdmin => 409,
            ProblemType::NotEmpty => 409,
            ProblemType::CategoryInUse => 409,
            ProblemType::InvalidState => 409,
            ProblemType::CommentsOff => 409,
            ProblemType::InvalidTransition => 409,
            ProblemType::AtLimit => 409,
            ProblemType::AlreadyAssigned => 409,
            ProblemType::SlotFull => 409,
            ProblemType::SlotOver => 409,
            ProblemType::OutsideSlot => 409,
            ProblemType::WatchHasSignups => 409,
            ProblemType::FastBegun => 409,
            ProblemType::DayNotBegun => 409,
            ProblemType::DayNotCommitted => 409,
        }
    }

    /// What it means, as docs/errors.md says it.
    pub fn meaning(self) -> &'static str {
        match self {
            ProblemType::Validation => "One or more fields are invalid: see `errors`, one entry per field.",
            ProblemType::RateLimited => "Too many attempts: wait `Retry-After` seconds.",
            ProblemType::CorsNotEnabled => "A browser's cross-origin preflight, and the service has no `CORS_ORIGINS`: its operator must add the app's origin.",
            ProblemType::NotEnoughIntercessors => "Auto-assign found fewer intercessors with room than asked for; `available` says how many it could take.",
            ProblemType::Duplicate => "Another row already has this unique value (a team's or a category's name).",
            ProblemType::Busy => "A concurrent change got there first; retry.",
            ProblemType::EmailTaken => "An account with this email exists.",
            ProblemType::LastAdmin => "The change (a role change, a deactivation, an erasure) would leave no active admin.",
            ProblemType::NotEmpty => "`intercede seed` was pointed at a database that already has members.",
            ProblemType::CategoryInUse => "Prayer requests use this category: rename it, or move them first.",
            ProblemType::InvalidState => "The prayer request's status forbids this (praying for a closed request, answering an answered one, assigning an ended one).",
            ProblemType::CommentsOff => "The requester has not opened this request to comments.",
            ProblemType::InvalidTransition => "The assignment's status cannot move to the one asked for (`declined` to `accepted`, say).",
            ProblemType::AtLimit => "The intercessor is at their `max_active_assignments`.",
            ProblemType::AlreadyAssigned => "This member or team already holds this request.",
            ProblemType::SlotFull => "A watch slot the signup covers is at `max_per_slot`; `detail` names the first full one.",
            ProblemType::SlotOver => "The watch slot has already ended.",
            ProblemType::OutsideSlot => "A check-in outside one's own slot (15 minutes' grace either side).",
            ProblemType::WatchHasSignups => "Members have signed up: the fields that lay the watch's slots cannot change.",
            ProblemType::FastBegun => "The fast has begun: its first day and zone cannot move and it cannot be shortened.",
            ProblemType::DayNotBegun => "A fast check-in for a day that has not begun in the fast's zone.",
            ProblemType::DayNotCommitted => "A fast check-in for a day the participant did not commit to.",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed body, wrong content type, a request that cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// Missing, malformed, expired or forged credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but this caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Not there, or not for this caller to know about.
    #[error("not found")]
    NotFound,
    /// The request conflicts with the current state (duplicate, full, last admin...).
    #[error("{detail}")]
    Conflict { kind: ProblemType, detail: String },
    /// A link that existed and is dead for good: expired, or already used (410).
    #[error("{0}")]
    Gone(String),
    /// Auto-assign found fewer intercessors with room than it was asked for.
    #[error("{detail}")]
    NotEnough { detail: String, available: i64 },
    /// The body is over the limit.
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// One or more fields are invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database cannot be reached or the pool is exhausted.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The database cut the connection under a statement (a restart, a failover): 503, and the
    /// connection is replaced (`db::connection::Pooled::lost`).
    #[error("service unavailable: the database connection was lost")]
    ConnectionLost,
    /// Anything else: logged in full with its chain of causes (`{:#}`), answered with a bare 500.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn conflict(kind: ProblemType, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            kind,
            detail: detail.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// A failure the caller cannot mend, keeping the error itself so the log shows its causes.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// A failure described in words only (a thread gone, state that should be there).
    pub fn bug(what: &'static str) -> Self {
        AppError::Internal(anyhow::Error::msg(what))
    }

    fn kind(&self) -> Option<ProblemType> {
        match self {
            AppError::Conflict { kind, .. } => Some(*kind),
            AppError::Validation(_) => Some(ProblemType::Validation),
            AppError::NotEnough { .. } => Some(ProblemType::NotEnoughIntercessors),
            AppError::TooManyRequests { .. } => Some(ProblemType::RateLimited),
            _ => None,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            // Never echo internals: the cause is in the log, with the request id.
            AppError::Internal(_) => "The server could not complete the request.".to_string(),
            AppError::Unavailable(_) | AppError::ConnectionLost => {
                "The service is temporarily unavailable.".to_string()
            }
            AppError::NotFound => "The resource does not exist.".to_string(),
            AppError::Validation(errors) if errors.len() == 1 => {
                format!("{}: {}", errors[0].field, errors[0].message)
            }
            AppError::Validation(errors) => format!("{} fields are invalid.", errors.len()),
            AppError::TooManyRequests { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} seconds.")
            }
            other => other.to_string(),
        };
        let errors = match self {
            AppError::Validation(errors) => Some(errors.clone()),
            _ => None,
        };
        let mut p = problem(status, self.kind(), detail, errors);
        if let AppError::NotEnough { available, .. } = self {
            p.available = Some(*available);
        }
        p
    }
}

/// Builds a problem body; `kind` is `None` for `about:blank`.
pub fn problem(
    status: StatusCode,
    kind: Option<ProblemType>,
    detail: String,
    errors: Option<Vec<FieldError>>,
) -> Problem {
    Problem {
        kind: match kind {
            Some(kind) => format!("/problems/{}", kind.slug()),
            None => "about:blank".to_string(),
        },
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        status: status.as_u16(),
        detail,
        errors,
        available: None,
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    res.body(serde_json::to_vec(problem).unwrap_or_default())
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } | AppError::NotEnough { .. } => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::ConnectionLost => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        // The cause of a 500 or 503 is logged on the request's line (`telemetry::request_log`).
        let mut res = problem_response(self.status_code(), &self.problem());
        if let AppError::TooManyRequests { retry_after_secs } = self {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from((*retry_after_secs).max(1)),
            );
        }
        res
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::NotFound,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => AppError::ConnectionLost,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict(ProblemType::Duplicate, "It already exists.")
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::conflict(
                    ProblemType::Busy,
                    "A concurrent change got there first; try again.",
                )
            }
            other => AppError::internal(other),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(err: r2d2::Error) -> Self {
        AppError::Unavailable(err.to_string())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        AppError::bug("a blocking task was cancelled or panicked")
    }
}

/// True when `err` is a unique-constraint violation, so a store can name the duplicate precisely.
pub fn is_unique_violation(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// `ErrorHandlers` fallback: any error response that is not already problem+json (actix's own 404,
/// 405, 413, extractor errors...) is replaced by a problem with the same status and headers.
pub fn problemize<B: MessageBody>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = match status {
        StatusCode::NOT_FOUND => "The resource does not exist.".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this path.".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".to_string(),
        s if s.is_server_error() => "The server could not complete the request.".to_string(),
        s => format!(
            "The request could not be processed ({}).",
            s.canonical_reason().unwrap_or("error")
        ),
    };
    let body = problem_response(status, &problem(status, None, detail, None));
    let (req, old) = res.into_parts();
    let mut new = body;
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = old.headers().get(&name) {
            new.headers_mut().insert(name, v.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body::<B>(),
    ))
}
