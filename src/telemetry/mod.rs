//! Logging: tracing to stderr, as text or one JSON object a line, and one log line per request.
//!
//! The request line names the matched route pattern (`/api/v1/members/{id}`), never the raw path
//! or query, so that ids, search terms and secret calendar tokens stay out of the logs.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::error::AppError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Writes out the lines still queued when dropped: keep it alive for as long as the process logs.
pub type FlushGuard = WorkerGuard;

/// Installs the global subscriber and returns the guard that writes out the last lines when
/// dropped. Called once, by `main`; the tests' in-process servers log nothing.
///
/// Lines are formatted on the thread that logs and written to stderr by tracing-appender's log
/// thread, so no worker waits on the stderr lock. The queue is lossless: when it is full the
/// logging thread waits rather than a line being dropped. A normal stop (SIGTERM, a command that
/// ends) drops the guard and everything queued is written; a SIGKILL loses the lines still queued,
/// which are the last few milliseconds' (docs/architecture.md).
pub fn init(filter: &str, format: LogFormat) -> FlushGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log")
        .finish(std::io::stderr());
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        // One object a line, the event's fields at the top level beside `timestamp`, `level`
        // and `target`: `{"timestamp":..,"level":"INFO","message":"request","route":..}`.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
    guard
}

/// A client's `X-Request-Id` is kept when it is short and plain; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// Logs one line per request. A 500 or 503 is logged at error or warning level with its cause on
/// the same line, so that the line a reader finds by request id says what went wrong.
///
/// No span is opened around the handler: creating one per request cost a measurable share of a
/// request (docs/benchmarks.md, "Fixes the harness found"), and the two events a handler could log,
/// the causes of a 500
/// and a 503, are read back here from the response instead.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let result = next.call(req).await;
    // Whole microseconds: `19.235`, not `19.235374999999998`.
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    match result {
        Ok(mut res) => {
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "<unmatched>".into());
            let error = res
                .response()
                .error()
                .and_then(|e| e.as_error::<AppError>());
            log_line(
                &id,
                &method,
                &route,
                res.status().as_u16(),
                latency_ms,
                error,
            );
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID, value);
            }
            Ok(res)
        }
        Err(err) => {
            let status = err.as_response_error().status_code().as_u16();
            let error = err.as_error::<AppError>();
            log_line(&id, &method, "<error>", status, latency_ms, error);
            Err(err)
        }
    }
}

fn log_line(
    id: &str,
    method: &Method,
    route: &str,
    status: u16,
    latency_ms: f64,
    error: Option<&AppError>,
) {
    match error {
        // `{:#}`: the error with its chain of causes, `a: b: c`.
        Some(AppError::Internal(cause)) => {
            tracing::error!(request_id = id, method = method.as_str(), route, status, latency_ms, error = %format_args!("{cause:#}"), "request")
        }
        Some(AppError::Unavailable(cause)) => {
            tracing::warn!(request_id = id, method = method.as_str(), route, status, latency_ms, error = %cause, "request")
        }
        Some(lost @ AppError::ConnectionLost) => {
            tracing::warn!(request_id = id, method = method.as_str(), route, status, latency_ms, error = %lost, "request")
        }
        _ => tracing::info!(
            request_id = id,
            method = method.as_str(),
            route,
            status,
            latency_ms,
            "request"
        ),
    }
}
