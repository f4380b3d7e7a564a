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
    /// A URI reference naming the kind of problem (`about:blank` when the status says it all).
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
    Conflict { kind: &'static str, detail: String },
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
    /// Anything else: logged in full with its chain of causes (`{:#}`), answered with a bare 500.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn conflict(kind: &'static str, detail: impl Into<String>) -> Self {
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

    fn kind(&self) -> &'static str {
        match self {
            AppError::Conflict { kind, .. } => kind,
            AppError::Validation(_) => "validation",
            AppError::NotEnough { .. } => "not-enough-intercessors",
            AppError::TooManyRequests { .. } => "rate-limited",
            _ => "",
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            // Never echo internals: the cause is in the log, with the request id.
            AppError::Internal(_) => "The server could not complete the request.".to_string(),
            AppError::Unavailable(_) => "The service is temporarily unavailable.".to_string(),
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

/// Builds a problem body; `kind` is a slug documented in docs/errors.md, or empty for `about:blank`.
pub fn problem(
    status: StatusCode,
    kind: &str,
    detail: String,
    errors: Option<Vec<FieldError>>,
) -> Problem {
    Problem {
        kind: if kind.is_empty() {
            "about:blank".to_string()
        } else {
            format!("/problems/{kind}")
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
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
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
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict("duplicate", "It already exists.")
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::conflict("busy", "A concurrent change got there first; try again.")
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
    let body = problem_response(status, &problem(status, "", detail, None));
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
