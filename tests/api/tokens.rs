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
    app.patch(
        &format!("/members/{}", anna.id),
        Some(&admin.token),
        json!({"active": false}),
    )
    .await
    .expect(200);
    assert_unauthorized(app.get("/me", Some(&anna.token)).await);
    app.login("anna@example.org", crate::helpers::PASSWORD)
        .await
        .expect_problem(401);
    // Reactivated, the same token works again: access follows the account's state, not the token.
    app.patch(
        &format!("/members/{}", anna.id),
        Some(&admin.token),
        json!({"active": true}),
    )
    .await
    .expect(200);
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
    app.patch(
        &format!("/members/{}", anna.id),
        Some(&admin.token),
        json!({"role": "leader"}),
    )
    .await
    .expect(200);
    app.get("/members", Some(&anna.token)).await.expect(200);
    app.patch(
        &format!("/members/{}", anna.id),
        Some(&admin.token),
        json!({"role": "member"}),
    )
    .await
    .expect(200);
    app.get("/members", Some(&anna.token))
        .await
        .expect_problem(403);
}
