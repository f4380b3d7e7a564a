//! Access-token attacks: every forged, altered, expired or misdirected token is a 401.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, TEST_SECRET};

fn claims(sub: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({"sub": sub, "iat": now, "exp": now + 600, "iss": "intercede",
           "aud": "intercede-api", "jti": uuid::Uuid::now_v7().to_string()})
}

fn sign(claims: &Value, alg: Algorithm, key: &[u8]) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

#[track_caller]
fn assert_unauthorized(res: crate::helpers::Resp) {
    res.expect_problem(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
}

async fn me_with(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.get("/me", Some(token)).await
}

#[actix_web::test]
async fn a_correctly_signed_token_is_accepted() {
    // The control for every attack below: the same claims, properly signed, work.
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let token = sign(&claims(&anna.id), Algorithm::HS256, TEST_SECRET);
    me_with(&app, &token).await.expect(200);
}

#[actix_web::test]
async fn no_token_or_a_malformed_header_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    assert_unauthorized(app.get("/me", None).await);
    for header in [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        format!("Basic {}", anna.token),
        format!("Token {}", anna.token),
        "Bearer not.a.jwt".to_string(),
        "Bearer ✝✝✝".to_string(),
    ] {
        let res = app
            .raw(
                actix_web::http::Method::GET,
                "/me",
                &[("authorization", &header)],
                vec![],
            )
            .await;
        assert_unauthorized(res);
    }
}

#[actix_web::test]
async fn alg_none_is_refused() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&anna.id)).unwrap());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert_unauthorized(me_with(&app, &token).await);
    }
}

#[actix_web::test]
async fn a_token_signed_with_another_key_is_refused() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let token = sign(
        &claims(&anna.id),
        Algorithm::HS256,
        b"another-secret-another-secret-xx",
    );
    assert_unauthorized(me_with(&app, &token).await);
}

#[actix_web::test]
async fn another_algorithm_with_the_right_key_is_refused() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        assert_unauthorized(me_with(&app, &sign(&claims(&anna.id), alg, TEST_SECRET)).await);
    }
}

#[actix_web::test]
async fn a_changed_payload_breaks_the_signature() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let ben = app.member("Ben").await;
    let parts: Vec<&str> = anna.token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!(ben.id);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    assert_unauthorized(me_with(&app, &forged).await);
}

#[actix_web::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let mut c = claims(&anna.id);
    let past = Utc::now().timestamp() - 3600;
    c["iat"] = json!(past - 900);
    c["exp"] = json!(past);
    assert_unauthorized(me_with(&app, &sign(&c, Algorithm::HS256, TEST_SECRET)).await);
}

#[actix_web::test]
async fn a_wrong_issuer_or_audience_or_missing_claim_is_refused() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let mut wrong_iss = claims(&anna.id);
    wrong_iss["iss"] = json!("someone-else");
    let mut wrong_aud = claims(&anna.id);
    wrong_aud["aud"] = json!("another-api");
    let mut no_exp = claims(&anna.id);
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut unknown_member = claims("01000000-0000-7000-8000-000000000000");
    unknown_member["jti"] = json!("x");
    for c in [wrong_iss, wrong_aud, no_exp, unknown_member] {
        assert_unauthorized(me_with(&app, &sign(&c, Algorithm::HS256, TEST_SECRET)).await);
    }
}

#[actix_web::test]
async fn a_deactivated_members_token_stops_working_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let anna = app.member("Anna").await;
    app.get("/me", Some(&anna.token)).await.expect(200);
    app.change_member(&admin, &anna.id, json!({"active": false}))
        .await;
    assert_unauthorized(app.get("/me", Some(&anna.token)).await);
    app.login("anna@example.org", crate::helpers::PASSWORD)
        .await
        .expect_problem(401);
    // Reactivated, the same token works again: access follows the account's state, not the token.
    app.change_member(&admin, &anna.id, json!({"active": true}))
        .await;
    app.get("/me", Some(&anna.token)).await.expect(200);
}

#[actix_web::test]
async fn a_role_change_applies_on_the_very_next_request() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let anna = app.member("Anna").await;
    app.get("/members", Some(&anna.token))
        .await
        .expect_problem(403);
    app.change_member(&admin, &anna.id, json!({"role": "leader"}))
        .await;
    app.get("/members", Some(&anna.token)).await.expect(200);
    app.change_member(&admin, &anna.id, json!({"role": "member"}))
        .await;
    app.get("/members", Some(&anna.token))
        .await
        .expect_problem(403);
}

/// The endpoints that read the caller inside their own database call (`Caller`), not before it,
/// must still refuse a deactivated member at once, and write nothing for them.
#[actix_web::test]
async fn a_deactivated_member_is_refused_by_the_one_trip_endpoints_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let anna = app.member("Anna").await;
    let request = app.create_request(&admin.token, json!({})).await;
    let id = request["id"].as_str().unwrap().to_string();
    let watch = app
        .post(
            "/watches",
            Some(&admin.token),
            json!({"name": "Night watch", "timezone": "Europe/London",
                   "starts_on": Utc::now().date_naive().to_string(), "slot_minutes": 60,
                   "min_per_slot": 1}),
        )
        .await
        .expect(201);
    let watch = watch["id"].as_str().unwrap().to_string();
    let today = Utc::now().date_naive();
    let range = format!("from={today}&to={}", today + chrono::Duration::days(1));
    let reads = [
        format!("/prayer-requests/{id}"),
        "/prayer-requests?limit=20".to_string(),
        "/prayer-requests?sort=needs_prayer".to_string(),
        "/me/assignments".to_string(),
        format!("/watches/{watch}/slots?{range}"),
        format!("/watches/{watch}/coverage?{range}"),
    ];
    for path in &reads {
        app.get(path, Some(&anna.token)).await.expect(200);
    }

    app.change_member(&admin, &anna.id, json!({"active": false}))
        .await;
    for path in &reads {
        app.get(path, Some(&anna.token)).await.expect_problem(401);
    }
    app.post(
        &format!("/prayer-requests/{id}/prayers"),
        Some(&anna.token),
        json!({}),
    )
    .await
    .expect_problem(401);
    let mut body = json!({"title": "Work", "body": "A new job", "category": "healing",
                          "kind": "prayer"});
    app.post("/prayer-requests", Some(&anna.token), body.clone())
        .await
        .expect_problem(401);
    // Even with a body that fails validation, the account's state is what is answered.
    body["title"] = json!("");
    app.post("/prayer-requests", Some(&anna.token), body)
        .await
        .expect_problem(401);

    let seen = app
        .get(&format!("/prayer-requests/{id}"), Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(seen["prayer_count"], 0, "{seen}");
    let listed = app
        .get("/prayer-requests?limit=100", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

/// A promotion or a demotion changes what the one-trip reads show on the very next request.
#[actix_web::test]
async fn a_role_change_applies_at_once_to_what_the_one_trip_reads_show() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let anna = app.member("Anna").await;
    let confidential = app
        .create_request(&admin.token, json!({"visibility": "leaders"}))
        .await;
    let path = format!("/prayer-requests/{}", confidential["id"].as_str().unwrap());
    let listed = |page: Value| page["items"].as_array().unwrap().len();

    app.get(&path, Some(&anna.token)).await.expect_problem(404);
    assert_eq!(
        listed(
            app.get("/prayer-requests", Some(&anna.token))
                .await
                .expect(200)
        ),
        0
    );
    for role in ["leader", "member"] {
        app.change_member(&admin, &anna.id, json!({"role": role}))
            .await;
        let (status, count) = if role == "leader" { (200, 1) } else { (404, 0) };
        assert_eq!(
            app.get(&path, Some(&anna.token)).await.status,
            status,
            "as {role}"
        );
        let page = app
            .get("/prayer-requests", Some(&anna.token))
            .await
            .expect(200);
        assert_eq!(listed(page), count, "as {role}");
    }
}

/// GET by id reads the caller in the request's own statement; when that statement finds nothing,
/// a deactivated caller is still told 401, never 404: not for a request that does not exist, not
/// for one they may not see, and not for a leader's confidential one once the leader is
/// deactivated (while a leader still active sees it).
#[actix_web::test]
async fn a_deactivated_caller_gets_401_not_404_from_get_by_id_whatever_the_request() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let anna = app.member("Anna").await;
    let lena = app.leader(&admin, "Lena").await;
    let confidential = app
        .create_request(&admin.token, json!({"visibility": "leaders"}))
        .await;
    let confidential = format!("/prayer-requests/{}", confidential["id"].as_str().unwrap());
    let missing = "/prayer-requests/01900000-0000-7000-8000-000000000000";
    app.get(&confidential, Some(&anna.token))
        .await
        .expect_problem(404);
    app.get(missing, Some(&anna.token))
        .await
        .expect_problem(404);
    app.get(&confidential, Some(&lena.token)).await.expect(200);

    for who in [&anna, &lena] {
        app.change_member(&admin, &who.id, json!({"active": false}))
            .await;
    }
    for path in [confidential.as_str(), missing] {
        for who in [&anna, &lena] {
            app.get(path, Some(&who.token)).await.expect_problem(401);
        }
    }
    app.get(&confidential, Some(&admin.token)).await.expect(200);
}
