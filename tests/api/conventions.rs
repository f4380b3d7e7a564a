//! The conventions every endpoint shares: problem+json errors, statuses, headers, CORS.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.expect(200)["status"], "ok");
    assert_eq!(app.get("/readyz", None).await.expect(200)["status"], "ok");
}

#[actix_web::test]
async fn unknown_routes_are_problem_404s() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/nothing-here",
        "/nowhere",
        "/api/v2/me",
        "/api/v1/members/x/y",
    ] {
        app.get(path, None).await.expect_problem(404);
    }
}

#[actix_web::test]
async fn a_wrong_method_is_a_problem_405_with_allow() {
    let app = spawn_app().await;
    let res = app.put("/me", None, serde_json::json!({})).await;
    res.expect_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("DELETE, GET, PATCH"));
    let res = app.get("/auth/login", None).await;
    res.expect_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    for body in [
        &b"{"[..],
        b"{\"email\": }",
        b"not json at all",
        b"\xff\xfe\x00",
        b"",
    ] {
        app.raw(
            Method::POST,
            "/auth/login",
            &[("content-type", "application/json")],
            body.to_vec(),
        )
        .await
        .expect_problem(400);
    }
}

#[actix_web::test]
async fn a_body_not_sent_as_json_is_a_400_problem() {
    let app = spawn_app().await;
    let body = br#"{"email":"a@example.org","password":"whatever1"}"#.to_vec();
    for headers in [
        vec![("content-type", "text/plain")],
        vec![("content-type", "application/x-www-form-urlencoded")],
        vec![],
    ] {
        app.raw(Method::POST, "/auth/login", &headers, body.clone())
            .await
            .expect_problem(400);
    }
}

#[actix_web::test]
async fn bodies_over_64_kib_are_413_problems_and_store_nothing() {
    let app = spawn_app().await;
    let huge = "x".repeat(65 * 1024);
    let body = serde_json::to_vec(&json!({
        "email": "big@example.org", "password": "password123", "display_name": huge
    }))
    .unwrap();
    app.raw(
        Method::POST,
        "/auth/register",
        &[("content-type", "application/json")],
        body,
    )
    .await
    .expect_problem(413);
    app.login("big@example.org", "password123")
        .await
        .expect_problem(401);
}

#[actix_web::test]
async fn wrong_types_unknown_and_missing_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({"email": 5, "password": "x"}), "email"),
        (json!({"email": "a@example.org"}), "password"),
        (
            json!({"email": "a@example.org", "password": "x", "admin": true}),
            "admin",
        ),
        (json!({"email": ["a"], "password": "x"}), "email"),
    ];
    for (body, field) in cases {
        let fields = app.post("/auth/login", None, body).await.expect_invalid();
        assert_eq!(fields, vec![field.to_string()]);
    }
    let fields = app
        .post("/auth/login", None, json!([1, 2]))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["body".to_string()]);
}

#[actix_web::test]
async fn bad_query_parameters_are_422_naming_the_parameter() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    for (query, field) in [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-5", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("role=pope", "role"),
        ("active=perhaps", "active"),
        ("cursor=not-a-cursor", "cursor"),
        ("colour=blue", "colour"),
    ] {
        let fields = app
            .get(&format!("/members?{query}"), Some(&admin.token))
            .await
            .expect_invalid();
        assert_eq!(fields, vec![field.to_string()], "{query}");
    }
}

#[actix_web::test]
async fn responses_carry_security_headers_and_api_responses_are_not_cached() {
    let app = spawn_app().await;
    app.register("anna@example.org", "Anna").await;
    let res = app
        .login("anna@example.org", crate::helpers::PASSWORD)
        .await;
    res.expect(200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(res.header("x-request-id").is_some_and(|id| !id.is_empty()));
    let health = app.get("/healthz", None).await;
    assert_eq!(
        health.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[actix_web::test]
async fn a_plain_client_request_id_is_echoed() {
    let app = spawn_app().await;
    let res = app
        .raw(
            Method::GET,
            "/healthz",
            &[("x-request-id", "abc-123")],
            vec![],
        )
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("abc-123"));
    let res = app
        .raw(
            Method::GET,
            "/healthz",
            &[("x-request-id", "bad id with spaces")],
            vec![],
        )
        .await;
    assert_ne!(
        res.header("x-request-id").as_deref(),
        Some("bad id with spaces")
    );
}

#[actix_web::test]
async fn cors_allows_only_the_configured_origins() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://app.example.org".into()]).await;
    let preflight = app
        .raw(
            Method::OPTIONS,
            "/auth/login",
            &[
                ("origin", "https://app.example.org"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            vec![],
        )
        .await;
    assert_eq!(preflight.status, 200, "{}", preflight.text());
    assert_eq!(
        preflight.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.org")
    );
    let allowed = app
        .raw(
            Method::GET,
            "/healthz",
            &[("origin", "https://app.example.org")],
            vec![],
        )
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.org")
    );
    let other = app
        .raw(
            Method::GET,
            "/healthz",
            &[("origin", "https://evil.example.com")],
            vec![],
        )
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn without_cors_origins_no_cross_origin_access_is_granted() {
    let app = spawn_app().await;
    let res = app
        .raw(
            Method::GET,
            "/healthz",
            &[("origin", "https://app.example.org")],
            vec![],
        )
        .await;
    res.expect(200);
    assert!(res.header("access-control-allow-origin").is_none());
    // A browser's preflight is told what is missing, not that OPTIONS is not allowed.
    let preflight = app
        .raw(
            Method::OPTIONS,
            "/api/v1/auth/login",
            &[
                ("origin", "https://app.example.org"),
                ("access-control-request-method", "POST"),
            ],
            vec![],
        )
        .await;
    let problem = preflight.expect_problem(403);
    assert_eq!(problem["type"], "/problems/cors-not-enabled");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("CORS_ORIGINS") && detail.contains("https://app.example.org"),
        "{detail}"
    );
    assert!(preflight.header("access-control-allow-origin").is_none());
    // A plain OPTIONS, not a preflight, is still a 405 with Allow.
    let plain = app
        .raw(Method::OPTIONS, "/api/v1/auth/login", &[], vec![])
        .await;
    plain.expect_problem(405);
}

#[actix_web::test]
async fn oversized_headers_are_refused_with_a_4xx_and_the_server_stays_up() {
    let app = spawn_app().await;
    let huge = "x".repeat(128 * 1024);
    let res = app
        .client
        .get(app.url("/healthz"))
        .insert_header(("x-padding", huge.as_str()))
        .send()
        .await;
    // actix-http refuses it before the application runs (431, or the connection is closed).
    if let Ok(res) = res {
        assert!(
            (400..500).contains(&res.status().as_u16()),
            "{}",
            res.status()
        );
    }
    app.get("/healthz", None).await.expect(200);
}

/// PostgreSQL: connections the server dropped (a restart, a failover, an idle timeout) are
/// replaced before a request uses them, so none fails. (SQLite has no server to drop them.)
#[actix_web::test]
async fn connections_the_database_dropped_are_replaced_before_a_request_uses_them() {
    if !crate::helpers::is_postgres() {
        return;
    }
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let reads = || {
        futures_util::future::join_all(
            (0..8).map(|_| app.get("/prayer-requests?limit=5", Some(&anna.token))),
        )
    };
    for resp in reads().await {
        resp.expect(200);
    }
    app.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await;
    // A connection whose last work succeeded within the last second is handed out untested.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
    for resp in reads().await {
        resp.expect(200);
    }
}

/// A name or title is shown to others: one of only invisible characters, or one that a bidi
/// override makes read as something else, is refused where it is written, and nothing is stored.
#[actix_web::test]
async fn invisible_names_and_bidi_overrides_in_names_and_titles_are_422() {
    let app = spawn_app().await;
    for name in ["\u{200B}", "\u{FEFF}\u{2060} ", "Anna\u{202E}nnA"] {
        let fields = app
            .post(
                "/auth/register",
                None,
                json!({"email": "x@example.org", "password": "a long password", "display_name": name}),
            )
            .await
            .expect_invalid();
        assert_eq!(fields, vec!["display_name"], "{name:?}");
    }
    let member = app.member("Mia").await;
    app.patch(
        "/me",
        Some(&member.token),
        json!({"display_name": "\u{200B}\u{200C}"}),
    )
    .await
    .expect_invalid();
    let fields = app
        .post(
            "/prayer-requests",
            Some(&member.token),
            json!({"title": "Pray for \u{202E}gnilaeh", "body": "b", "category": "healing",
                   "kind": "prayer"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["title"]);
    let mine = app
        .get("/prayer-requests?mine=true", Some(&member.token))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    // The same characters inside visible text stay: a family emoji, right-to-left script.
    app.patch(
        "/me",
        Some(&member.token),
        json!({"display_name": "Mia 👨\u{200D}👩\u{200D}👧 שלום"}),
    )
    .await
    .expect(200);
}

/// A 422 lists every missing and bad field at once, each message in the API's words (what is
/// expected: a date, a whole number, true or false, one of the values), never the parser's
/// (`expected i32`, `input contains invalid characters`).
#[actix_web::test]
async fn a_422_names_every_bad_field_at_once_in_the_apis_words() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let messages = |res: crate::helpers::Resp| -> Vec<(String, String)> {
        let problem = res.expect_problem(422);
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_string(),
                    e["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let parser_words = [
        "expected",
        "invalid type",
        "i32",
        "i64",
        "u32",
        "string \"",
        "parse",
        "variant",
        "input",
    ];
    let check = |got: &[(String, String)]| {
        for (field, message) in got {
            assert!(
                !parser_words.iter().any(|w| message.contains(w)),
                "{field}: {message}"
            );
        }
    };

    let got = messages(app.post("/auth/register", None, json!({})).await);
    let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, vec!["email", "password", "display_name"], "{got:?}");
    assert!(got.iter().all(|(_, m)| m == "is required"), "{got:?}");

    let got = messages(
        app.post(
            "/watches",
            Some(&admin.token),
            json!({"name": "Night watch", "timezone": "UTC", "starts_on": "2027-02-30",
                   "slot_minutes": "60", "min_per_slot": true}),
        )
        .await,
    );
    check(&got);
    let find = |f: &str| {
        got.iter()
            .find(|(field, _)| field == f)
            .map(|(_, m)| m.clone())
    };
    assert_eq!(
        find("starts_on").as_deref(),
        Some("must be a date, YYYY-MM-DD"),
        "{got:?}"
    );
    assert!(
        find("slot_minutes").is_some_and(|m| m.starts_with("must be a whole number")),
        "{got:?}"
    );
    assert!(
        find("min_per_slot").is_some_and(|m| m.starts_with("must be a whole number")),
        "{got:?}"
    );

    let got = messages(
        app.post(
            "/prayer-requests",
            Some(&admin.token),
            json!({"title": "t", "body": "b", "category": "healing", "kind": "prayr", "urgent": "yes"}),
        )
        .await,
    );
    check(&got);
    assert!(
        got.contains(&("kind".into(), "must be one of prayer, intercession".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("urgent".into(), "must be true or false".into())),
        "{got:?}"
    );

    let got = messages(
        app.get(
            "/prayer-requests?limit=&urgent=maybe&sort=oldest",
            Some(&admin.token),
        )
        .await,
    );
    check(&got);
    let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, vec!["limit", "urgent", "sort"], "{got:?}");
    assert_eq!(got[0].1, "must be a whole number");
    assert_eq!(got[1].1, "must be true or false");
    assert!(
        got[2].1.starts_with("must be one of newest, needs_prayer"),
        "{got:?}"
    );
}
