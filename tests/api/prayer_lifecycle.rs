//! Creating requests (defaults, validation, unicode), and their life: answer, reopen, expiry, and
//! the public form's limits.

use actix_web::http::Method;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_new_request_has_the_documented_defaults() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let request = app
        .create_request(&rita.token, json!({"visibility": null}))
        .await;
    assert_eq!(request["status"], "active");
    assert_eq!(request["visibility"], "team");
    assert_eq!(request["kind"], "prayer");
    assert_eq!(request["category"], "healing");
    assert_eq!(request["urgent"], false);
    assert_eq!(request["anonymous"], false);
    assert_eq!(request["allow_comments"], false);
    assert_eq!(request["prayer_count"], 0);
    assert_eq!(request["intercessor_count"], 0);
    assert_eq!(request["last_prayed_at"], Value::Null);
    assert_eq!(request["on_behalf_of"], Value::Null);
    let in_30_days = (Utc::now().date_naive() + Duration::days(30)).to_string();
    assert_eq!(request["expires_on"], in_30_days.as_str());
    for key in [
        "id",
        "title",
        "body",
        "category",
        "kind",
        "on_behalf_of",
        "visibility",
        "urgent",
        "anonymous",
        "allow_comments",
        "status",
        "prayer_count",
        "intercessor_count",
        "last_prayed_at",
        "requester",
        "expires_on",
        "answered_at",
        "testimony",
        "created_at",
        "updated_at",
    ] {
        assert!(request.get(key).is_some(), "missing {key}");
    }
}

#[actix_web::test]
async fn an_intercession_names_who_it_is_for_and_a_prayer_does_not() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let request = app
        .create_request(
            &rita.token,
            json!({"kind": "intercession", "on_behalf_of": "my brother", "category": "salvation"}),
        )
        .await;
    assert_eq!(request["on_behalf_of"], "my brother");
    let missing = app
        .post(
            "/prayer-requests",
            Some(&rita.token),
            json!({"title": "t", "body": "b", "category": "family", "kind": "intercession"}),
        )
        .await
        .expect_invalid();
    assert_eq!(missing, vec!["on_behalf_of"]);
    let superfluous = app
        .post(
            "/prayer-requests",
            Some(&rita.token),
            json!({"title": "t", "body": "b", "category": "family", "kind": "prayer", "on_behalf_of": "x"}),
        )
        .await
        .expect_invalid();
    assert_eq!(superfluous, vec!["on_behalf_of"]);
}

#[actix_web::test]
async fn invalid_requests_name_every_bad_field_and_store_nothing() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let base = json!({"title": "t", "body": "b", "category": "family", "kind": "prayer"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let today = Utc::now().date_naive();
    let cases = vec![
        (with("title", json!("")), "title"),
        (with("title", json!("x".repeat(121))), "title"),
        (with("body", json!("x".repeat(4001))), "body"),
        (with("body", json!("   ")), "body"),
        (with("category", json!("astrology")), "category"),
        (with("kind", json!("wish")), "kind"),
        (with("visibility", json!("world")), "visibility"),
        (with("urgent", json!("yes")), "urgent"),
        (with("expires_on", json!("2026-13-45")), "expires_on"),
        (
            with("expires_on", json!((today - Duration::days(1)).to_string())),
            "expires_on",
        ),
        (
            with(
                "expires_on",
                json!((today + Duration::days(400)).to_string()),
            ),
            "expires_on",
        ),
        (with("title", json!("null\u{0}byte")), "title"),
    ];
    for (body, field) in cases {
        let fields = app
            .post("/prayer-requests", Some(&rita.token), body.clone())
            .await
            .expect_invalid();
        assert_eq!(fields, vec![field.to_string()], "{body}");
    }
    let mut several = app
        .post(
            "/prayer-requests",
            Some(&rita.token),
            json!({"title": "", "body": "", "category": "astrology", "kind": "prayer"}),
        )
        .await
        .expect_invalid();
    several.sort();
    assert_eq!(several, vec!["body", "category", "title"]);
    let page = app
        .get("/prayer-requests?mine=true", Some(&rita.token))
        .await
        .expect(200);
    assert!(page["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn unicode_round_trips_exactly_and_lengths_count_characters() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let title = "🙏🏽 صلاة لأمي 👩‍👧 ñ e\u{301}";
    let body = "שָׁלוֹם — 恩典 — Ζωή — \u{202E}reversed\u{202C} — tab\tand\nnewline";
    let request = app
        .create_request(&rita.token, json!({"title": title, "body": body}))
        .await;
    assert_eq!(request["title"], title);
    assert_eq!(request["body"], body);
    let read = app
        .get(
            &format!("/prayer-requests/{}", request["id"].as_str().unwrap()),
            Some(&rita.token),
        )
        .await
        .expect(200);
    assert_eq!(read["title"], title);
    assert_eq!(read["body"], body);
    // 120 four-byte characters fit the 120-character title; 121 do not.
    app.create_request(&rita.token, json!({"title": "🙏".repeat(120)}))
        .await;
    app.post(
        "/prayer-requests",
        Some(&rita.token),
        json!({"title": "🙏".repeat(121), "body": "b", "category": "family", "kind": "prayer"}),
    )
    .await
    .expect_invalid();
    // Search folds case in any script.
    let found = app
        .get(
            &format!("/prayer-requests?q={}", urlencode("ΖΩΉ")),
            Some(&rita.token),
        )
        .await
        .expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[actix_web::test]
async fn answering_records_the_testimony_once_and_reopening_starts_a_new_expiry() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    // The body of /answer is optional.
    let answered = app
        .call(
            Method::POST,
            &format!("/prayer-requests/{id}/answer"),
            Some(&rita.token),
            None,
        )
        .await
        .expect(200);
    assert_eq!(answered["status"], "answered");
    assert!(answered["answered_at"].as_str().unwrap().ends_with('Z'));
    app.post(
        &format!("/prayer-requests/{id}/answer"),
        Some(&rita.token),
        json!({"testimony": "again"}),
    )
    .await
    .expect_problem(409);
    let reopened = app
        .post(
            &format!("/prayer-requests/{id}/reopen"),
            Some(&rita.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(reopened["status"], "active");
    assert_eq!(reopened["answered_at"], Value::Null);
    app.post(
        &format!("/prayer-requests/{id}/reopen"),
        Some(&rita.token),
        json!({}),
    )
    .await
    .expect_problem(409);
    let answered = app
        .post(
            &format!("/prayer-requests/{id}/answer"),
            Some(&rita.token),
            json!({"testimony": "Healed! 🎉", "share_testimony": true}),
        )
        .await
        .expect(200);
    assert_eq!(answered["testimony"], "Healed! 🎉");
    assert_eq!(answered["share_testimony"], true);
    let too_long = app
        .post(
            &format!("/prayer-requests/{id}/reopen"),
            Some(&rita.token),
            json!({}),
        )
        .await;
    too_long.expect(200);
    let fields = app
        .post(
            &format!("/prayer-requests/{id}/answer"),
            Some(&rita.token),
            json!({"testimony": "x".repeat(4001)}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["testimony"]);
}

#[actix_web::test]
async fn a_request_past_its_expiry_reads_as_expired_keeps_its_history_and_reopens() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    app.post(
        &format!("/prayer-requests/{id}/prayers"),
        Some(&omar.token),
        json!({}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/prayer-requests/{id}/updates"),
        Some(&rita.token),
        json!({"body": "Surgery on Friday"}),
    )
    .await
    .expect(201);
    // Time passes: the expiry date is now yesterday.
    let yesterday = (Utc::now().date_naive() - Duration::days(1)).to_string();
    app.sql(&format!(
        "UPDATE prayer_requests SET expires_on = '{yesterday}' WHERE id = '{id}'"
    ))
    .await;
    let expired = app
        .get(&format!("/prayer-requests/{id}"), Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["prayer_count"], 1);
    let listed = app
        .get("/prayer-requests?status=expired", Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let active = app
        .get("/prayer-requests?status=active", Some(&omar.token))
        .await
        .expect(200);
    assert!(active["items"].as_array().unwrap().is_empty());
    let updates = app
        .get(&format!("/prayer-requests/{id}/updates"), Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(updates["items"][0]["body"], "Surgery on Friday");
    app.post(
        &format!("/prayer-requests/{id}/prayers"),
        Some(&omar.token),
        json!({}),
    )
    .await
    .expect_problem(409);
    let reopened = app
        .post(
            &format!("/prayer-requests/{id}/reopen"),
            Some(&rita.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(reopened["status"], "active");
    let in_30_days = (Utc::now().date_naive() + Duration::days(30)).to_string();
    assert_eq!(reopened["expires_on"], in_30_days.as_str());
    assert_eq!(reopened["prayer_count"], 1);
}

#[actix_web::test]
async fn the_expiry_period_is_configurable() {
    let app = spawn_app_with(|c| c.request_expiry_days = 7).await;
    let rita = app.member("Rita").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let in_7_days = (Utc::now().date_naive() + Duration::days(7)).to_string();
    assert_eq!(request["expires_on"], in_7_days.as_str());
}

#[actix_web::test]
async fn with_approval_required_a_members_edit_of_the_text_goes_back_to_the_leaders() {
    let app = spawn_app_with(|c| c.require_approval = true).await;
    let admin = app.admin("Ada").await;
    let rita = app.member("Rita").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    app.post(
        &format!("/prayer-requests/{id}/approve"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect(200);
    let edited = app
        .patch(
            &format!("/prayer-requests/{id}"),
            Some(&rita.token),
            json!({"urgent": true}),
        )
        .await
        .expect(200);
    assert_eq!(edited["status"], "active", "flags need no approval");
    let edited = app
        .patch(
            &format!("/prayer-requests/{id}"),
            Some(&rita.token),
            json!({"body": "Something else entirely"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["status"], "pending");
}

#[actix_web::test]
async fn the_public_form_needs_no_token_validates_and_is_rate_limited_per_address() {
    let app = spawn_app_with(|c| c.public_requests_per_hour = 2).await;
    let ok = json!({"title": "Please pray", "body": "For my family", "category": "family"});
    let fields = app
        .post(
            "/public/prayer-requests",
            None,
            json!({"title": "", "body": "b", "category": "family", "email": "nope"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields.len(), 2, "{fields:?}");
    app.post("/public/prayer-requests", None, ok.clone())
        .await
        .expect(202);
    let limited = app.post("/public/prayer-requests", None, ok.clone()).await;
    limited.expect_problem(429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    let fields = app
        .post(
            "/public/prayer-requests",
            None,
            json!({"title": "t", "body": "b", "category": "astrology"}),
        )
        .await;
    fields.expect_problem(429);
}
