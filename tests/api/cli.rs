//! The `intercede` command itself: create-admin, migrate, openapi, start-up failures, and what
//! the running service writes to its log.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{run_sql, spawn_app, TestDb, PASSWORD};

fn intercede() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_intercede"));
    for var in [
        "DATABASE_URL",
        "JWT_SECRET",
        "APP_ENV",
        "BIND_ADDR",
        "RUST_LOG",
        "LOG_FORMAT",
        "REGISTRATION",
    ] {
        cmd.env_remove(var);
    }
    // Run where no `.env` can be picked up.
    cmd.current_dir(std::env::temp_dir());
    cmd
}

fn run_with_stdin(mut cmd: Command, input: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("intercede runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_sign_in() {
    let app = spawn_app().await;
    let mut cmd = intercede();
    cmd.env("DATABASE_URL", &app.config.database_url).args([
        "create-admin",
        "--email",
        "Pastor@Example.org",
        "--name",
        "Pastor Ruth",
    ]);
    let out = run_with_stdin(cmd, &format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin pastor@example.org"));
    let tokens = app.login("pastor@example.org", PASSWORD).await.expect(200);
    let me = app
        .get("/me", tokens["access_token"].as_str())
        .await
        .expect(200);
    assert_eq!(me["role"], "admin");
    assert_eq!(me["display_name"], "Pastor Ruth");
}

#[actix_web::test]
async fn create_admin_refuses_a_short_password_and_a_taken_email() {
    let app = spawn_app().await;
    let mut cmd = intercede();
    cmd.env("DATABASE_URL", &app.config.database_url).args([
        "create-admin",
        "--email",
        "a@example.org",
        "--name",
        "A",
    ]);
    let out = run_with_stdin(cmd, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    app.register("b@example.org", "B").await;
    let mut cmd = intercede();
    cmd.env("DATABASE_URL", &app.config.database_url).args([
        "create-admin",
        "--email",
        "b@example.org",
        "--name",
        "B",
    ]);
    let out = run_with_stdin(cmd, &format!("{PASSWORD}\n"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn an_unreachable_or_wrong_database_url_stops_start_up_with_one_clear_line() {
    for (url, expected) in [
        ("postgres://nobody@127.0.0.1:1/nothing", "cannot connect"),
        ("mysql://root@127.0.0.1/x", "not supported"),
        ("sqlite:///no/such/directory/x.db", "cannot connect"),
    ] {
        let out = intercede()
            .env("DATABASE_URL", url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{url}: {stderr}");
        assert!(lines[0].contains(expected), "{url}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret() {
    let out = intercede()
        .env("APP_ENV", "production")
        .env("DATABASE_URL", "sqlite://:memory:")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET"));
    let out = intercede()
        .env("APP_ENV", "production")
        .env("JWT_SECRET", "too-short")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

#[test]
fn migrate_applies_migrations_and_is_idempotent() {
    let (_db, url) = TestDb::create();
    for _ in 0..2 {
        let out = intercede()
            .env("DATABASE_URL", &url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
}

#[test]
fn the_openapi_command_prints_the_committed_document() {
    let out = intercede().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(printed == committed, "regenerate openapi/openapi.json");
}

/// Runs the real binary with JSON logs, signs in and out, and reads back everything it logged.
#[actix_web::test]
async fn the_log_is_json_lines_naming_routes_and_never_holds_passwords_or_tokens() {
    let (_db, url) = TestDb::create();
    let (mut child, port, lines) = start_binary(&url, &[("RUST_LOG", "debug")]).await;
    wait_until_answering(&mut child, port, &lines).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = awc::Client::default();
    let secret_password = "a very private passphrase";
    let mut res = client
        .post(format!("{base}/auth/register"))
        .send_json(&json!({"email": "log@example.org", "password": secret_password, "display_name": "Log"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let mut res2 = client
        .post(format!("{base}/auth/login"))
        .send_json(&json!({"email": "log@example.org", "password": secret_password}))
        .await
        .unwrap();
    let tokens: Value = res2.json().await.unwrap();
    let _ = res.body().await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    client
        .get(format!("{base}/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/auth/login"))
        .send_json(&json!({"email": "log@example.org", "password": "wrong-but-secret-guess"}))
        .await
        .unwrap();
    client
        .post(format!("{base}/auth/refresh"))
        .send_json(&json!({"refresh_token": refresh}))
        .await
        .unwrap();
    // A table gone from under the service: the 500's cause is logged on its request's line.
    run_sql(&url, "ALTER TABLE categories RENAME TO categories_gone").await;
    let failed = client
        .get(format!("{base}/categories"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 500);
    let failed_id = failed
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    let _ = child.wait();
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;

    let lines = lines.lock().unwrap().clone();
    let all = lines.join("\n");
    for secret in [secret_password, "wrong-but-secret-guess", &access, &refresh] {
        assert!(!all.contains(secret), "the log holds a secret");
    }
    // The signature alone must not appear either.
    assert!(!all.contains(access.rsplit('.').next().unwrap()));
    let requests: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .filter(|v| v["message"] == "request")
        .collect();
    assert!(requests.iter().any(|r| r["route"] == "/api/v1/me"
        && r["method"] == "GET"
        && r["status"] == 200
        && r["request_id"].is_string()
        && r["latency_ms"].is_number()));
    let failure = requests
        .iter()
        .find(|r| r["request_id"] == failed_id.as_str())
        .expect("the failed request is logged");
    assert_eq!(failure["level"], "ERROR");
    assert_eq!(failure["status"], 500);
    assert_eq!(failure["route"], "/api/v1/categories");
    assert!(
        failure["error"]
            .as_str()
            .is_some_and(|e| e.contains("categories")),
        "{failure}"
    );
}

#[actix_web::test]
async fn purge_deletes_only_requests_that_ended_long_ago() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let omar = app.member("Omar").await;
    let rita = app.member("Rita").await;
    let old = app
        .create_request(&rita.token, serde_json::json!({"title": "Old"}))
        .await;
    let recent = app
        .create_request(&rita.token, serde_json::json!({"title": "Recent"}))
        .await;
    let live = app
        .create_request(&rita.token, serde_json::json!({"title": "Live"}))
        .await;
    // Omar carries the old request and the live one: two notifications in his inbox.
    for r in [&old, &live] {
        app.post(
            &format!("/prayer-requests/{}/assignments", r["id"].as_str().unwrap()),
            Some(&admin.token),
            serde_json::json!({"member_id": omar.id}),
        )
        .await
        .expect(201);
    }
    let inbox = || async {
        app.get("/me/notifications", Some(&omar.token))
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    for _ in 0..100 {
        if inbox().await.len() == 2 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(inbox().await.len(), 2);
    for r in [&old, &recent] {
        app.post(
            &format!("/prayer-requests/{}/answer", r["id"].as_str().unwrap()),
            Some(&rita.token),
            serde_json::json!({}),
        )
        .await
        .expect(200);
    }
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(400))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    // The live request's delivery is as old as the retention period.
    app.sql(&format!(
        "UPDATE outbox SET created_at = '{long_ago}' WHERE request_id = '{}'",
        live["id"].as_str().unwrap()
    ))
    .await;
    app.sql(&format!(
        "UPDATE prayer_requests SET updated_at = '{long_ago}' WHERE id = '{}'",
        old["id"].as_str().unwrap()
    ))
    .await;
    for email in [
        "revoked@example.org",
        "waiting@example.org",
        "lapsed@example.org",
    ] {
        app.post(
            "/invitations",
            Some(&admin.token),
            serde_json::json!({ "email": email }),
        )
        .await
        .expect(201);
    }
    app.sql(
        "UPDATE invitations SET status = 'revoked', updated_at = '2020-01-01 00:00:00' \
         WHERE email = 'revoked@example.org'",
    )
    .await;
    app.sql("UPDATE invitations SET expires_at = '2020-01-01 00:00:00' WHERE email = 'lapsed@example.org'")
        .await;
    app.sql(&format!(
        "INSERT INTO password_resets (id, member_id, token_hash, expires_at, created_at) \
         VALUES ('old-reset', '{}', 'h', '2020-01-01 01:00:00', '2020-01-01 00:00:00')",
        omar.id
    ))
    .await;
    let out = intercede()
        .env("DATABASE_URL", &app.config.database_url)
        .args(["purge", "--older-than-days", "365"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("purged 1 "));
    app.get(
        &format!("/prayer-requests/{}", old["id"].as_str().unwrap()),
        Some(&rita.token),
    )
    .await
    .expect_problem(404);
    for r in [&recent, &live] {
        app.get(
            &format!("/prayer-requests/{}", r["id"].as_str().unwrap()),
            Some(&rita.token),
        )
        .await
        .expect(200);
    }
    // The purged request's notification is gone from Omar's inbox; the live one's stays, though
    // its old delivery left the log.
    let kept = inbox().await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["data"]["request_id"], live["id"]);
    let log = app
        .get("/notification-deliveries", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(log["items"], serde_json::json!([]), "{log}");
    // Invitations that ended long ago leave (a pending one stays); expired reset links leave.
    let invitations = app
        .get("/invitations", Some(&admin.token))
        .await
        .expect(200);
    let left: Vec<&str> = invitations["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec!["waiting@example.org"], "{invitations}");
    let resets = crate::helpers::connect(&app.config.database_url)
        .read(|conn| {
            use diesel::prelude::*;
            Ok(intercede::db::schema::password_resets::table
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(resets, 0);
}

/// Starts the real binary on a free port; returns it, its port, and its log lines as they come.
/// The caller kills and waits for the child.
#[allow(clippy::zombie_processes)]
async fn start_binary(
    url: &str,
    extra_env: &[(&str, &str)],
) -> (std::process::Child, u16, Arc<Mutex<Vec<String>>>) {
    let mut cmd = intercede();
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .env("DATABASE_URL", url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("JWT_SECRET", "crash-test-secret-crash-test-secret-!!")
        .env("LOGIN_ATTEMPTS_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let started = Instant::now();
    loop {
        let found = lines.lock().unwrap().iter().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["message"] == "serving")
                .then(|| v["port"].as_u64())
                .flatten()
        });
        if let Some(port) = found {
            return (child, port as u16, lines);
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("never served: {:?}", lines.lock().unwrap());
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the started binary answers `/healthz`; on failure shows what it logged and how it
/// ended, so a start-up problem on a loaded machine is diagnosable.
async fn wait_until_answering(
    child: &mut std::process::Child,
    port: u16,
    lines: &Arc<Mutex<Vec<String>>>,
) {
    let client = awc::Client::default();
    for _ in 0..50 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let status = child.try_wait();
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "the server never answered: {status:?} {:?}",
        lines.lock().unwrap()
    );
}

/// Kills the server with SIGKILL in the middle of a stream of writes, restarts it on the same
/// database, and finds every write that had been answered 2xx.
#[actix_web::test]
async fn every_acknowledged_write_survives_a_sigkill() {
    let (_db, url) = TestDb::create();
    let (mut child, port, lines) = start_binary(&url, &[]).await;
    wait_until_answering(&mut child, port, &lines).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    client
        .post(format!("{base}/auth/register"))
        .send_json(
            &json!({"email": "w@example.org", "password": PASSWORD, "display_name": "Writer"}),
        )
        .await
        .unwrap();
    let mut res = client
        .post(format!("{base}/auth/login"))
        .send_json(&json!({"email": "w@example.org", "password": PASSWORD}))
        .await
        .unwrap();
    let token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers = (0..6).map(|w| {
        let client = client.clone();
        let base = base.clone();
        let token = token.clone();
        let acknowledged = acknowledged.clone();
        async move {
            for i in 0.. {
                let sent = client
                    .post(format!("{base}/prayer-requests"))
                    .bearer_auth(&token)
                    .send_json(
                        &json!({"title": format!("w{w} #{i}"), "body": "b", "category": "other",
                                       "kind": "prayer", "visibility": "congregation"}),
                    )
                    .await;
                let Ok(mut res) = sent else { break };
                if res.status() != 201 {
                    break;
                }
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                acknowledged
                    .lock()
                    .unwrap()
                    .push(body["id"].as_str().unwrap().to_string());
            }
        }
    });
    let killer = async {
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        child.kill().unwrap();
        child.wait().unwrap();
    };
    futures_util::future::join(futures_util::future::join_all(writers), killer).await;
    let ids = acknowledged.lock().unwrap().clone();
    assert!(
        ids.len() > 10,
        "the stream was too short to test anything: {}",
        ids.len()
    );

    let (mut again, port, lines) = start_binary(&url, &[]).await;
    wait_until_answering(&mut again, port, &lines).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let mut missing = Vec::new();
    for id in &ids {
        let res = client
            .get(format!("{base}/prayer-requests/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if res.status() != 200 {
            missing.push(id.clone());
        }
    }
    again.kill().unwrap();
    let _ = again.wait();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost",
        missing.len(),
        ids.len()
    );
}

/// SIGTERM stops the server gracefully: requests already in flight are answered.
#[actix_web::test]
async fn sigterm_lets_requests_in_flight_finish() {
    let (_db, url) = TestDb::create();
    let (mut child, port, lines) = start_binary(&url, &[]).await;
    wait_until_answering(&mut child, port, &lines).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    client
        .post(format!("{base}/auth/register"))
        .send_json(&json!({"email": "t@example.org", "password": PASSWORD, "display_name": "T"}))
        .await
        .unwrap();
    // Logins are slow on purpose (argon2): twenty of them keep the server busy for a while.
    let logins = (0..20).map(|_| {
        client
            .post(format!("{base}/auth/login"))
            .send_json(&json!({"email": "t@example.org", "password": PASSWORD}))
    });
    let pid = child.id().to_string();
    let terminate = async {
        actix_web::rt::time::sleep(Duration::from_millis(150)).await;
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
    };
    let (results, ()) =
        futures_util::future::join(futures_util::future::join_all(logins), terminate).await;
    let answered = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|res| res.status() == 200))
        .count();
    let exit = child.wait().unwrap();
    assert_eq!(answered, 20, "{results:?}");
    assert!(exit.success(), "graceful shutdown exits cleanly: {exit:?}");
}

#[actix_web::test]
async fn seed_fills_an_empty_database_with_a_church_one_can_sign_in_to() {
    let app = spawn_app().await;
    let out = intercede()
        .env("DATABASE_URL", &app.config.database_url)
        .args(["seed", "--requests", "300", "--watch-signups", "50"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("300 requests"));
    let tokens = app
        .login("admin@seed.example", intercede::seed::PASSWORD)
        .await
        .expect(200);
    let token = tokens["access_token"].as_str().unwrap();
    let page = app
        .get("/prayer-requests?limit=100", Some(token))
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    let watches = app.get("/watches", Some(token)).await.expect(200);
    assert_eq!(watches["items"].as_array().unwrap().len(), 1);
    let fasts = app.get("/fasts", Some(token)).await.expect(200);
    let fast = &fasts["items"][0];
    assert_eq!(fast["days"], 21, "{fasts}");
    // Member 5 takes part (every fifth member does) and has checked in on past days.
    let member = app
        .login("m5@seed.example", intercede::seed::PASSWORD)
        .await
        .expect(200);
    let member_token = member["access_token"].as_str().unwrap();
    let mine = app
        .get(
            &format!("/fasts/{}/check-ins/me", fast["id"].as_str().unwrap()),
            Some(member_token),
        )
        .await
        .expect(200);
    assert!(!mine["check_ins"].as_array().unwrap().is_empty(), "{mine}");
    // A second seed refuses to mix with real data.
    let again = intercede()
        .env("DATABASE_URL", &app.config.database_url)
        .args(["seed", "--requests", "10"])
        .output()
        .unwrap();
    assert!(!again.status.success());
}

/// Kills the server with SIGKILL while it drains 800 emails, restarts it, and finds every
/// email delivered: none lost, and any sent twice (accepted by the SMTP server, not yet recorded
/// when the process died) carrying the same `Message-ID` both times.
#[actix_web::test]
async fn a_sigkill_while_email_drains_loses_none_and_repeats_only_under_the_same_id() {
    use diesel::prelude::*;
    use intercede::db::schema::outbox;
    use intercede::outbox::{enqueue, Channel, Event, Notice};
    const N: usize = 800;
    let (_db, url) = TestDb::create();
    let mail = crate::mail::MailServer::start();
    // An instance that delivers nothing makes the church: a requester and an intercessor.
    let (mut quiet, port, lines) = start_binary(&url, &[("WORKERS_ENABLED", "false")]).await;
    wait_until_answering(&mut quiet, port, &lines).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut ids = Vec::new();
    for name in ["rita", "ivan"] {
        let mut res = client
            .post(format!("{base}/auth/register"))
            .send_json(&json!({"email": format!("{name}@example.org"), "password": PASSWORD, "display_name": name}))
            .await
            .unwrap();
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut res = client
        .post(format!("{base}/auth/login"))
        .send_json(&json!({"email": "rita@example.org", "password": PASSWORD}))
        .await
        .unwrap();
    let token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut res = client
        .post(format!("{base}/prayer-requests"))
        .bearer_auth(&token)
        .send_json(&json!({"title": "Rain", "body": "b", "category": "other", "kind": "prayer", "visibility": "congregation"}))
        .await
        .unwrap();
    let request = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    quiet.kill().unwrap();
    quiet.wait().unwrap();
    // 800 emails owed to the intercessor.
    let db = crate::helpers::connect(&url);
    let ivan = ids[1].clone();
    db.write(move |conn| {
        let notices: Vec<Notice> = (0..N)
            .map(|i| Notice {
                event: Event::RequestUpdate,
                member_id: ivan.clone(),
                data: json!({"request_id": request}),
                key: format!("request.update:drain-{i}"),
                due: None,
            })
            .collect();
        enqueue(
            conn,
            intercede::clock::Clock::real().now(),
            &[Channel::Email],
            &notices,
        )
    })
    .await
    .unwrap();
    let smtp = mail.url();
    let env = [
        ("SMTP_URL", smtp.as_str()),
        ("MAIL_FROM", "Prayer ministry <prayer@example.org>"),
        ("OUTBOX_LEASE_SECS", "10"),
    ];
    let (mut child, port, lines) = start_binary(&url, &env).await;
    wait_until_answering(&mut child, port, &lines).await;
    let started = Instant::now();
    while mail.received().len() < 100 && started.elapsed() < Duration::from_secs(60) {
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = mail.received().len();
    assert!(
        (100..N).contains(&before),
        "killed mid-drain: {before} of {N} had arrived"
    );
    // Restarted: what the dead instance held comes back when its lease runs out.
    let (mut again, port, lines) = start_binary(&url, &env).await;
    wait_until_answering(&mut again, port, &lines).await;
    let sent = || {
        let db = &db;
        async move {
            db.read(|conn| {
                Ok(outbox::table
                    .filter(outbox::state.eq("sent"))
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .unwrap()
        }
    };
    let started = Instant::now();
    while sent().await < N as i64 && started.elapsed() < Duration::from_secs(120) {
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    again.kill().unwrap();
    let _ = again.wait();
    assert_eq!(sent().await, N as i64, "every email recorded as sent");
    let rows: std::collections::BTreeSet<String> = db
        .read(|conn| Ok(outbox::table.select(outbox::id).load::<String>(conn)?))
        .await
        .unwrap()
        .into_iter()
        .collect();
    let received = mail.received();
    let message_ids: Vec<String> = received
        .iter()
        .map(|m| {
            let id = m.header("Message-ID").expect("a Message-ID");
            id.trim_matches(['<', '>'])
                .strip_suffix("@example.org")
                .expect("the sender's domain")
                .to_string()
        })
        .collect();
    let distinct: std::collections::BTreeSet<String> = message_ids.iter().cloned().collect();
    assert_eq!(
        distinct, rows,
        "each email arrived under its delivery's id, none lost"
    );
    let repeats = message_ids.len() - distinct.len();
    assert!(
        repeats <= 50,
        "only what was in flight at the kill goes twice: {repeats} repeats"
    );
}
