//! Builds and runs the HTTP server: middleware, the `/api/v1` scope, docs, and the fallback that
//! answers unknown routes and wrong methods with problems.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Condition, DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::db::Db;
use crate::error::{problem, problem_response, problemize, ProblemType};
use crate::notify::worker::Worker;
use crate::openapi::{self, RouteTable};
use crate::state::AppState;
use crate::{
    accounts, assignments, categories, fasts, health, http, invitations, notify, prayer_requests,
    privacy, teams, telemetry, watches, webhooks,
};

pub struct Application {
    port: u16,
    server: Server,
    /// The notification worker, when this instance delivers (`WORKERS_ENABLED`).
    worker: Option<Worker>,
}

impl Application {
    /// Connects to the database (applying migrations), binds the address and prepares the server.
    /// Binding port 0 picks a free port, which tests read back with [`Application::port`].
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = Db::open(&config.db_settings())?;
        Self::build_with_db(config, db).await
    }

    pub async fn build_with_db(config: Config, db: Db) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&config.bind_addr)
            .with_context(|| format!("cannot listen on {}", config.bind_addr))?;
        let port = listener.local_addr()?.port();
        let workers = config.workers;
        let cors_origins = config.cors_origins.clone();
        let document = openapi::document();
        // 422 messages name what a field expects from these schemas (`http::expected`).
        if let Some(components) = &document.components {
            if let Ok(serde_json::Value::Object(schemas)) =
                serde_json::to_value(&components.schemas)
            {
                http::expected::register_components(schemas);
            }
        }
        let routes = web::Data::new(RouteTable::from_document(&document));
        let workers = workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        // Each worker runs its database calls on its own blocking pool (`web::block`). Together they
        // get as many threads as the database pool has connections: no thread waits for a
        // connection, and a burst queues as cheap tasks instead of parking hundreds of threads,
        // each with its own allocator arena (measured against the semaphore this replaced:
        // docs/benchmarks.md, "Fixes the harness found").
        let blocking_per_worker = (db.max_connections() / workers).max(1);
        // Background work (deliveries, periodic tasks) goes through a lane as wide as the
        // connections the workers' threads leave, at least one: with 8 deliveries in flight
        // against a pool of 5 it took connections the readers then queued for (measured:
        // docs/benchmarks.md, "#18: background work in a lane").
        let lane = db
            .max_connections()
            .saturating_sub(blocking_per_worker * workers)
            .max(1);
        let background = db.lane(lane);
        let state = web::Data::new(AppState::new(config, db));
        let worker = state
            .config
            .workers_enabled
            .then(|| Worker::start(state.clone(), background));

        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(routes.clone())
                .wrap(ErrorHandlers::new().default_handler(problemize))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::REFERRER_POLICY, "no-referrer")),
                )
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                .wrap(from_fn(telemetry::request_log))
                .service(
                    web::scope("/api/v1")
                        // Responses carry personal data: no cache may keep them.
                        .wrap(from_fn(http::nul::refuse_in_uri))
                        .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
                        // actix tries routes in order, a regex per pattern with a parameter:
                        // the most requested (prayer requests, read by id) go first. No pattern
                        // of one module matches a path of another, so order is only speed.
                        .configure(prayer_requests::routes::routes)
                        .configure(prayer_requests::activity::routes)
                        .configure(accounts::routes::routes)
                        .configure(categories::routes::routes)
                        .configure(teams::routes::routes)
                        .configure(assignments::routes::routes)
                        .configure(watches::routes::routes)
                        .configure(watches::signups::routes)
                        .configure(watches::calendar::routes)
                        .configure(watches::blockouts::routes)
                        .configure(watches::replacements::routes)
                        .configure(fasts::routes::routes)
                        .configure(fasts::participation::routes)
                        .configure(privacy::routes::routes)
                        .configure(notify::inbox::routes)
                        .configure(notify::deliveries::routes)
                        .configure(notify::preferences::routes)
                        .configure(notify::unsubscribe::routes)
                        .configure(webhooks::routes::routes)
                        .configure(invitations::routes::routes)
                        .configure(accounts::password_reset::routes),
                )
                .service(health::healthz)
                .service(health::readyz)
                .service(web::resource("/docs").get(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }))
                .service(
                    SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", document.clone()),
                )
                .default_service(web::to(fallback))
        })
        .listen(listener)?;
        let server = server
            .workers(workers)
            .worker_max_blocking_threads(blocking_per_worker)
            .shutdown_timeout(30)
            .run();
        Ok(Self {
            port,
            server,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (tests stop theirs when they end).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server stops (SIGTERM, SIGINT, or its handle), then stops the worker,
    /// which finishes the notification in hand and hands the rest of its batch back.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(worker) = self.worker {
            worker.stop().await;
        }
        served
    }
}

fn cors(origins: &[String]) -> Cors {
    origins.iter().fold(
        Cors::default()
            .allowed_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([
                header::LOCATION,
                header::RETRY_AFTER,
                header::WWW_AUTHENTICATE,
                telemetry::REQUEST_ID,
            ])
            .max_age(3600),
        |cors, origin| cors.allowed_origin(origin),
    )
}

/// No route took the request: 405 with `Allow` when the path exists for other methods, else 404.
/// A browser's CORS preflight reaches here only when `CORS_ORIGINS` is not set (otherwise the
/// CORS middleware answers it): a 403 that says so, instead of a puzzling 405 for `OPTIONS`.
async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight
        && routes
            .allowed_other_methods(req.method(), req.path())
            .is_some()
    {
        let status = StatusCode::FORBIDDEN;
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|o| o.len() <= 200 && !o.chars().any(char::is_control))
            .unwrap_or("the app's origin");
        let detail = format!(
            "Cross-origin calls from a browser are not enabled on this service: its operator must \
             add {origin} to CORS_ORIGINS."
        );
        return problem_response(
            status,
            &problem(status, Some(ProblemType::CorsNotEnabled), detail, None),
        );
    }
    match routes.allowed_other_methods(req.method(), req.path()) {
        Some(allowed) => {
            let status = StatusCode::METHOD_NOT_ALLOWED;
            let detail = format!(
                "{} is not allowed here; use {}.",
                req.method(),
                allowed.join(", ")
            );
            let mut res = problem_response(status, &problem(status, None, detail, None));
            if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
                res.headers_mut().insert(header::ALLOW, v);
            }
            res
        }
        None => {
            let status = StatusCode::NOT_FOUND;
            problem_response(
                status,
                &problem(status, None, "No such resource.".into(), None),
            )
        }
    }
}
