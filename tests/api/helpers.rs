//! The test harness: each test starts the real service on a free port with a fresh database of its
//! own (a temporary SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set), and
//! talks to it over HTTP.

use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::{header, Method};
use awc::http::header::HeaderMap;
use diesel::{Connection, PgConnection, RunQueryDsl};
use intercede::app::Application;
use intercede::config::{Config, JwtSecret};
use serde_json::{json, Value};

pub const TEST_SECRET: &[u8] = b"test-secret-test-secret-test-secret!!";
pub const PASSWORD: &str = "correct horse battery";

/// A database made for one test and dropped after it.
pub enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn create() -> (Self, String) {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("intercede_test_{unique}");
                let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create the test database");
                let url = with_database(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            None => {
                let dir = std::env::temp_dir().join(format!("intercede-test-{unique}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}", dir.join("test.db").display());
                (TestDb::Sqlite { dir }, url)
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match before_query.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && base.len() > base.find("://").unwrap() + 2 => {
            base.to_string()
        }
        _ => before_query.to_string(),
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
}

/// Runs SQL on the database at `url`, through a connection of its own.
pub async fn run_sql(url: &str, statement: &str) {
    let url = url.to_string();
    let statement = statement.to_string();
    actix_web::web::block(move || {
        let db = crate::helpers::connect(&url);
        let mut conn = db.blocking_conn().expect("conn");
        diesel::connection::SimpleConnection::batch_execute(&mut **conn, &statement)
            .expect("fixture SQL runs");
    })
    .await
    .unwrap();
}

/// Whether the suite runs with prepared statements: `DATABASE_PREPARED_STATEMENTS=false` (as the
/// service reads it) when `TEST_DATABASE_URL` is pgbouncer's in transaction mode (.ci/run's third
/// run of the suite).
pub fn prepared_statements() -> bool {
    std::env::var("DATABASE_PREPARED_STATEMENTS").map_or(true, |v| v.trim() != "false")
}

/// Creates an admin in the database at `url` with `create-admin`'s code path.
pub async fn create_admin(url: &str, email: &str, name: &str) {
    let (url, e, n) = (url.to_string(), email.to_string(), name.to_string());
    actix_web::web::block(move || {
        let db = connect(&url);
        let mut conn = db.blocking_conn().expect("conn");
        intercede::accounts::create_admin(
            &mut conn,
            &e,
            &n,
            PASSWORD,
            intercede::clock::Clock::real().now(),
        )
        .expect("admin created");
    })
    .await
    .unwrap();
}

/// A pool on a test database, opened as the app under test opens it.
pub fn connect(url: &str) -> intercede::db::Db {
    let mut settings = intercede::db::DbSettings::new(url);
    settings.prepared_statements = prepared_statements();
    intercede::db::Db::open(&settings).expect("connect")
}

pub fn is_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A write lock held by a test; see [`TestApp::hold_writes`].
pub struct HeldLock {
    conn: Box<dyn diesel::connection::SimpleConnection + Send>,
}

impl HeldLock {
    /// Waits long enough for requests fired just before to reach the lock, then releases it.
    pub async fn release_after(self, wait: Duration) {
        actix_web::rt::time::sleep(wait).await;
        let mut conn = self.conn;
        actix_web::web::block(move || {
            diesel::connection::SimpleConnection::batch_execute(conn.as_mut(), "COMMIT")
                .expect("unlock")
        })
        .await
        .unwrap();
    }
}

/// Fires `requests` at once while `lock` (if any) holds writes back, and returns their results.
pub async fn line_up<F: std::future::Future>(
    lock: Option<HeldLock>,
    requests: Vec<F>,
) -> Vec<F::Output> {
    let fire = futures_util::future::join_all(requests);
    let release = async move {
        if let Some(lock) = lock {
            lock.release_after(Duration::from_millis(1500)).await;
        }
    };
    futures_util::future::join(fire, release).await.0
}

/// A running service and a client for it.
pub struct TestApp {
    pub base: String,
    pub config: Config,
    pub client: awc::Client,
    server: ServerHandle,
    // Dropped last: the server must stop before its database goes.
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for it to finish.
        drop(self.server.stop(false));
    }
}

/// A second instance on a test app's database, delivering notifications; stops when dropped.
pub struct WorkerInstance {
    server: ServerHandle,
    /// Its own address (`http://127.0.0.1:{port}`), for calls that must run on its clock.
    pub base: String,
    /// The instance's run: its server, then its worker's stop (the batch in hand finished, the
    /// rest handed back).
    running: Option<actix_web::rt::task::JoinHandle<std::io::Result<()>>>,
}

impl WorkerInstance {
    /// Stops the instance and waits until it has stopped, its worker included: after this,
    /// nothing of it runs (dropping it only sends the stop).
    pub async fn stop(mut self) {
        self.server.stop(false).await;
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
    }
}

impl Drop for WorkerInstance {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

impl TestApp {
    /// Starts another instance on this app's database with its notification worker on (for an
    /// app spawned with `workers_enabled = false`).
    pub async fn start_worker(&self) -> WorkerInstance {
        start_worker_with(self.config.clone()).await
    }
}

/// Another instance with `config` (on a test app's database), its worker on.
pub async fn start_worker_with(mut config: Config) -> WorkerInstance {
    config.workers_enabled = true;
    config.bind_addr = "127.0.0.1:0".into();
    let app = Application::build(config)
        .await
        .expect("the second instance starts");
    let server = app.server_handle();
    let base = format!("http://127.0.0.1:{}", app.port());
    let running = Some(actix_web::rt::spawn(app.run_until_stopped()));
    WorkerInstance {
        server,
        base,
        running,
    }
}

/// A signed-in member.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub token: String,
    pub refresh_token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let (db, url) = TestDb::create();
    let mut config = Config::for_database(url);
    config.bind_addr = "127.0.0.1:0".into();
    config.jwt_secret = JwtSecret::new(TEST_SECRET);
    config.login_attempts_per_minute = 100_000;
    config.public_requests_per_hour = 100_000;
    config.password_resets_per_hour = 100_000;
    config.workers = Some(2);
    config.log_filter = "warn".into();
    config.database_prepared_statements = prepared_statements();
    configure(&mut config);
    let app = Application::build(config.clone())
        .await
        .expect("the app starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = app.server_handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        base,
        config,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .disable_redirects()
            .finish(),
        server,
        _db: db,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts the status, showing the body when it differs; returns the JSON body (or null).
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text()
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an RFC 9457 problem with this status; returns it.
    #[track_caller]
    pub fn expect_problem(&self, status: u16) -> Value {
        let body = self.expect(status);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problem content type for {status}: {}",
            self.text()
        );
        assert_eq!(body["status"], status, "{body}");
        for key in ["type", "title", "detail"] {
            assert!(body[key].is_string(), "problem lacks {key}: {body}");
        }
        body
    }

    /// Asserts a 422 and returns the names of the fields it lists.
    #[track_caller]
    pub fn expect_invalid(&self) -> Vec<String> {
        let body = self.expect_problem(422);
        body["errors"]
            .as_array()
            .expect("422 lists errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_string())
            .collect()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/api/")
            || path.starts_with("/healthz")
            || path.starts_with("/readyz")
            || path.starts_with("/docs")
            || path.starts_with("/api-docs")
        {
            format!("{}{path}", self.base)
        } else {
            format!("{}/api/v1{path}", self.base)
        }
    }

    /// Sends `body` to `path` of another instance on this app's database (`base`), e.g. one
    /// whose clock is elsewhere.
    pub async fn post_on(&self, base: &str, path: &str, token: Option<&str>, body: Value) -> Resp {
        let mut req = self.client.post(format!("{base}/api/v1{path}"));
        if let Some(token) = token {
            req = req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        let mut res = req.send_json(&body).await.expect("request sent");
        let body = res.body().await.expect("body read");
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: body.to_vec(),
        }
    }

    /// Signs `email` in on another instance (`base`): a token valid on that instance's clock.
    pub async fn sign_in_on(&self, base: &str, email: &str) -> String {
        self.post_on(
            base,
            "/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await
        .expect(200)["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Sends a request with raw headers and body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let mut res = req.send_body(body).await.expect("request sent");
        let body = res.body().limit(16 * 1024 * 1024).await.expect("body read");
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: body.to_vec(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![];
        if let Some(auth) = &auth {
            headers.push((header::AUTHORIZATION.as_str(), auth.as_str()));
        }
        let bytes = match body {
            Some(body) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(&body).unwrap()
            }
            None => vec![],
        };
        self.raw(method, path, &headers, bytes).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::DELETE, path, token, None).await
    }

    pub async fn register(&self, email: &str, name: &str) -> Value {
        self.post(
            "/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": name}),
        )
        .await
        .expect(201)
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str) -> Session {
        let tokens = self.login(email, PASSWORD).await.expect(200);
        let me = self
            .get("/me", tokens["access_token"].as_str())
            .await
            .expect(200);
        Session {
            id: me["id"].as_str().unwrap().to_string(),
            token: tokens["access_token"].as_str().unwrap().to_string(),
            refresh_token: tokens["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// Registers and signs in a member called `name` (email `name@example.org`).
    pub async fn member(&self, name: &str) -> Session {
        let email = format!("{}@example.org", name.to_lowercase());
        self.register(&email, name).await;
        self.sign_in(&email).await
    }

    /// Makes an admin the way a church does, with `create-admin`'s code path, and signs in.
    pub async fn admin(&self, name: &str) -> Session {
        let email = format!("{}@example.org", name.to_lowercase());
        create_admin(&self.config.database_url, &email, name).await;
        self.sign_in(&email).await
    }

    /// Runs SQL on the test database: for fixtures the API deliberately cannot make, such as a
    /// request whose expiry date is already past, or prayers from last week.
    pub async fn sql(&self, statement: &str) {
        run_sql(&self.config.database_url, statement).await;
    }

    /// Holds writes back so that requests fired at once all line up at their first write.
    ///
    /// PostgreSQL: an EXCLUSIVE lock on `table` (reads go on, writes wait), so the requests all
    /// get past their reads first: code that checks then writes without the right row lock lets
    /// them all through; code that locks correctly lets one through at a time.
    ///
    /// SQLite: the database's write lock, taken by another connection. The service's writer
    /// thread waits on it with the first write while the others queue behind, so once it is
    /// released they run together, several to a transaction: a check, or a failure, that leaks
    /// from one write into its neighbours shows.
    pub async fn hold_writes(&self, table: &str) -> Option<HeldLock> {
        let url = self.config.database_url.clone();
        let table = table.to_string();
        let conn = actix_web::web::block(
            move || -> Box<dyn diesel::connection::SimpleConnection + Send> {
                if is_postgres() {
                    let mut conn = PgConnection::establish(&url).expect("connect");
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        &format!("BEGIN; LOCK TABLE {table} IN EXCLUSIVE MODE;"),
                    )
                    .expect("lock");
                    Box::new(conn)
                } else {
                    let path = url.strip_prefix("sqlite://").unwrap_or(&url);
                    let mut conn = diesel::SqliteConnection::establish(path).expect("connect");
                    // The service's own writer may hold the lock a moment (its periodic tasks).
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        "PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE;",
                    )
                    .expect("lock");
                    Box::new(conn)
                }
            },
        )
        .await
        .unwrap();
        Some(HeldLock { conn })
    }

    /// Creates a prayer request as `token`, from a base request with `fields` overriding it.
    pub async fn create_request(&self, token: &str, fields: Value) -> Value {
        let mut body = json!({
            "title": "Healing for my mother",
            "body": "She is in hospital after a fall.",
            "category": "healing",
            "kind": "prayer",
            "visibility": "congregation"
        });
        for (k, v) in fields.as_object().expect("an object") {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        self.post("/prayer-requests", Some(token), body)
            .await
            .expect(201)
    }

    /// A member promoted to leader by `admin`.
    pub async fn leader(&self, admin: &Session, name: &str) -> Session {
        let leader = self.member(name).await;
        self.change_member(admin, &leader.id, json!({"role": "leader"}))
            .await;
        leader
    }

    /// `PATCH /members/{id}` by `by` (a role, or `active`), which must succeed.
    pub async fn change_member(&self, by: &Session, member_id: &str, change: Value) -> Value {
        self.patch(&format!("/members/{member_id}"), Some(&by.token), change)
            .await
            .expect(200)
    }
}
