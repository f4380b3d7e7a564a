//! Logging: tracing to stderr, as text or one JSON object a line, and one log line per request.
//!
//! The request line names the matched route pattern (`/api/v1/members/{id}`), never the raw path
//! or query, so that ids, search terms and secret calendar tokens stay out of the logs.

mod line;
mod writer;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::error::AppError;
use writer::BatchedWriter;
pub use writer::FlushGuard;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber and returns the guard that writes out the last lines when
/// dropped: keep it alive for as long as the process logs. Called once, by `main`; the tests log
/// nothing.
///
/// Lines are formatted on the thread that logs and written by one log thread in batches (see
/// [`writer`]). Writing stderr from every worker, each request line took the stderr lock and a
/// `write(2)` of its own: measured on SQLite (10k requests, 64 connections), GET by id ran at 12,079
/// req/s with the log against 17,936 with it off; see docs/benchmarks.md for the figures after.
pub fn init(filter: &str, format: LogFormat) -> FlushGuard {
    let (writer, guard) = BatchedWriter::start(std::io::stderr());
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .event_format(line::Line {
            json: format == LogFormat::Json,
        })
        .try_init();
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
/// No span is opened around the handler: creating one per request cost about 3 µs (GET /healthz
/// 64,360 -> 81,526 req/s without it), and the two events a handler could log, the causes of a 500
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
        Some(AppError::Internal(cause)) => {
            tracing::error!(request_id = id, method = method.as_str(), route, status, latency_ms, error = %cause, "request")
        }
        Some(AppError::Unavailable(cause)) => {
            tracing::warn!(request_id = id, method = method.as_str(), route, status, latency_ms, error = %cause, "request")
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

/// An output for the formatters' and the writer's tests: keeps what it is given, counts writes.
#[cfg(test)]
mod captured {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    pub struct Captured {
        pub bytes: Arc<Mutex<Vec<u8>>>,
        pub writes: Arc<Mutex<usize>>,
    }

    impl Captured {
        pub fn text(&self) -> String {
            String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes.lock().unwrap().extend_from_slice(buf);
            *self.writes.lock().unwrap() += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }
}
