//! Refresh-token rotation, reuse detection and logout.

use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn refreshing_rotates_the_pair_and_kills_the_old_refresh_token() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let next = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": anna.refresh_token}),
        )
        .await
        .expect(200);
    assert_eq!(next["token_type"], "Bearer");
    assert_ne!(next["refresh_token"], anna.refresh_token.as_str());
    app.get("/me", next["access_token"].as_str())
        .await
        .expect(200);
    let again = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": next["refresh_token"]}),
        )
        .await
        .expect(200);
    assert!(again["access_token"].is_string());
}

#[actix_web::test]
async fn presenting_a_used_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let elsewhere = app.sign_in("anna@example.org").await;
    let rotated = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": anna.refresh_token}),
        )
        .await
        .expect(200);
    // The stolen copy is replayed: refused, and the family is ended...
    app.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": anna.refresh_token}),
    )
    .await
    .expect_problem(401);
    // ...so even the rightful, newer token no longer works.
    app.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": rotated["refresh_token"]}),
    )
    .await
    .expect_problem(401);
    // Another login's family is untouched.
    app.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": elsewhere.refresh_token}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn concurrent_refreshes_of_one_token_let_at_most_one_through() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let attempts = (0..8).map(|_| {
        app.post(
            "/auth/refresh",
            None,
            json!({"refresh_token": anna.refresh_token}),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(ok <= 1, "{ok} refreshes succeeded");
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
}

#[actix_web::test]
async fn unknown_refresh_tokens_are_401() {
    let app = spawn_app().await;
    app.post("/auth/refresh", None, json!({"refresh_token": "made-up"}))
        .await
        .expect_problem(401);
    app.post("/auth/refresh", None, json!({"refresh_token": ""}))
        .await
        .expect_problem(401);
}

#[actix_web::test]
async fn logging_out_ends_the_session_and_is_idempotent() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    app.post(
        "/auth/logout",
        None,
        json!({"refresh_token": anna.refresh_token}),
    )
    .await
    .expect(204);
    app.post(
        "/auth/logout",
        None,
        json!({"refresh_token": anna.refresh_token}),
    )
    .await
    .expect(204);
    app.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": anna.refresh_token}),
    )
    .await
    .expect_problem(401);
}

#[actix_web::test]
async fn a_deactivated_member_cannot_refresh() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let anna = app.member("Anna").await;
    app.change_member(&admin, &anna.id, json!({"active": false}))
        .await;
    app.post(
        "/auth/refresh",
        None,
        json!({"refresh_token": anna.refresh_token}),
    )
    .await
    .expect_problem(401);
}
