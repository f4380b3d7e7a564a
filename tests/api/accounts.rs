//! Registration, login, one's own profile and password.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, PASSWORD};
use intercede::config::Registration;

#[actix_web::test]
async fn registering_returns_the_new_member_with_its_location() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/auth/register",
            None,
            json!({"email": " Anna@Example.ORG ", "password": PASSWORD,
                   "display_name": "Anna", "timezone": "Europe/London"}),
        )
        .await;
    let member = res.expect(201);
    assert_eq!(member["email"], "anna@example.org");
    assert_eq!(member["display_name"], "Anna");
    assert_eq!(member["role"], "member");
    assert_eq!(member["active"], true);
    assert_eq!(member["timezone"], "Europe/London");
    assert_eq!(member["max_active_assignments"], serde_json::Value::Null);
    let created = member["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(created).is_ok());
    assert!(member.get("password").is_none() && member.get("password_hash").is_none());
    assert_eq!(
        res.header("location"),
        Some(format!(
            "/api/v1/members/{}",
            member["id"].as_str().unwrap()
        ))
    );
}

#[actix_web::test]
async fn the_time_zone_defaults_to_utc_and_unknown_zones_are_refused() {
    let app = spawn_app().await;
    let member = app.register("a@example.org", "A").await;
    assert_eq!(member["timezone"], "UTC");
    let fields = app
        .post(
            "/auth/register",
            None,
            json!({"email": "b@example.org", "password": PASSWORD, "display_name": "B",
                   "timezone": "Atlantis/Lost_City"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["timezone"]);
}

/// `EST` is a fixed offset with no daylight saving: a New York church that picked it would lose
/// an hour every summer. Legacy and fixed-offset names are refused for members, watches and fasts
/// alike, with the region's name to use; a case mismatch gets the right spelling.
#[actix_web::test]
async fn legacy_and_fixed_offset_zones_are_refused_with_the_region_to_use() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let message = |res: crate::helpers::Resp| {
        let problem = res.expect_problem(422);
        assert_eq!(problem["errors"][0]["field"], "timezone", "{problem}");
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let m = message(
        app.patch("/me", Some(&leader.token), json!({"timezone": "EST"}))
            .await,
    );
    assert!(m.contains("America/New_York"), "{m}");
    let m = message(
        app.patch(
            "/me",
            Some(&leader.token),
            json!({"timezone": "america/new_york"}),
        )
        .await,
    );
    assert!(m.contains("did you mean `America/New_York`?"), "{m}");
    let m = message(
        app.post(
            "/watches",
            Some(&leader.token),
            json!({"name": "Night watch", "timezone": "US/Pacific", "starts_on": "2027-01-04",
                   "slot_minutes": 60, "min_per_slot": 1}),
        )
        .await,
    );
    assert!(m.contains("America/Los_Angeles"), "{m}");
    let m = message(
        app.post(
            "/fasts",
            Some(&leader.token),
            json!({"name": "Daniel fast", "fast_type": "daniel", "starts_on": "2027-01-04",
                   "days": 21, "timezone": "Etc/GMT+5"}),
        )
        .await,
    );
    assert!(m.contains("America/New_York"), "{m}");
    // The region's names themselves, and UTC, are taken.
    app.patch(
        "/me",
        Some(&leader.token),
        json!({"timezone": "America/New_York"}),
    )
    .await
    .expect(200);
    app.patch("/me", Some(&leader.token), json!({"timezone": "UTC"}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn a_second_account_with_the_same_email_in_any_case_is_a_conflict() {
    let app = spawn_app().await;
    app.register("anna@example.org", "Anna").await;
    app.post(
        "/auth/register",
        None,
        json!({"email": "ANNA@example.org", "password": PASSWORD, "display_name": "Other"}),
    )
    .await
    .expect_problem(409);
}

#[actix_web::test]
async fn every_invalid_registration_field_is_listed() {
    let app = spawn_app().await;
    let mut fields = app
        .post(
            "/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "display_name": "  "}),
        )
        .await
        .expect_invalid();
    fields.sort();
    assert_eq!(fields, vec!["display_name", "email", "password"]);
    let long_password = "p".repeat(129);
    let fields = app
        .post(
            "/auth/register",
            None,
            json!({"email": "a@example.org", "password": long_password, "display_name": "A"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["password"]);
    let fields = app
        .post(
            "/auth/register",
            None,
            json!({"email": "a@example.org", "password": PASSWORD, "display_name": "A\u{0}B"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["display_name"]);
}

#[actix_web::test]
async fn unicode_names_round_trip_exactly_and_lengths_count_characters() {
    let app = spawn_app().await;
    // Emoji with modifiers, right-to-left Arabic, Hebrew, combining marks, CJK.
    for (i, name) in [
        "🙏🏽 Grace 👩‍👩‍👧",
        "مريم العذراء",
        "שָׁלוֹם",
        "Zoë e\u{301}lise",
        "恩典",
    ]
    .iter()
    .enumerate()
    {
        let member = app.register(&format!("u{i}@example.org"), name).await;
        assert_eq!(member["display_name"], *name);
    }
    let eighty_emoji = "🙏".repeat(80);
    let member = app.register("long@example.org", &eighty_emoji).await;
    assert_eq!(member["display_name"], eighty_emoji);
    app.post(
        "/auth/register",
        None,
        json!({"email": "longer@example.org", "password": PASSWORD, "display_name": "🙏".repeat(81)}),
    )
    .await
    .expect_invalid();
}

#[actix_web::test]
async fn logging_in_gives_a_bearer_token_pair() {
    let app = spawn_app().await;
    app.register("anna@example.org", "Anna").await;
    let tokens = app.login("ANNA@example.org", PASSWORD).await.expect(200);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 40);
    let me = app
        .get("/me", tokens["access_token"].as_str())
        .await
        .expect(200);
    assert_eq!(me["email"], "anna@example.org");
}

#[actix_web::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    app.register("anna@example.org", "Anna").await;
    let wrong = app.login("anna@example.org", "wrong password").await;
    let unknown = app.login("nobody@example.org", PASSWORD).await;
    let a = wrong.expect_problem(401);
    let b = unknown.expect_problem(401);
    assert_eq!(a, b);
    assert_eq!(wrong.header("www-authenticate").as_deref(), Some("Bearer"));
}

#[actix_web::test]
async fn registration_closed_refuses_visitors_but_lets_leaders_add_members() {
    let app = spawn_app_with(|c| c.registration = Registration::Closed).await;
    let body = json!({"email": "new@example.org", "password": PASSWORD, "display_name": "New"});
    app.post("/auth/register", None, body.clone())
        .await
        .expect_problem(403);
    let admin = app.admin("Ada").await;
    // The admin adds a member and makes them a leader; that leader then adds another member.
    let lea = app
        .post(
            "/auth/register",
            Some(&admin.token),
            json!({"email": "lea@example.org", "password": PASSWORD, "display_name": "Lea"}),
        )
        .await
        .expect(201);
    app.patch(
        &format!("/members/{}", lea["id"].as_str().unwrap()),
        Some(&admin.token),
        json!({"role": "leader"}),
    )
    .await
    .expect(200);
    let leader = app.sign_in("lea@example.org").await;
    let member = app
        .post("/auth/register", Some(&leader.token), body)
        .await
        .expect(201);
    assert_eq!(member["role"], "member");
    // A member cannot add members while registration is closed.
    let newcomer = app.sign_in("new@example.org").await;
    app.post(
        "/auth/register",
        Some(&newcomer.token),
        json!({"email": "x@example.org", "password": PASSWORD, "display_name": "X"}),
    )
    .await
    .expect_problem(403);
}

#[actix_web::test]
async fn a_member_updates_their_own_profile() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let me = app
        .patch(
            "/me",
            Some(&anna.token),
            json!({"display_name": "Anna B.", "timezone": "Africa/Lagos", "max_active_assignments": 2}),
        )
        .await
        .expect(200);
    assert_eq!(me["display_name"], "Anna B.");
    assert_eq!(me["timezone"], "Africa/Lagos");
    assert_eq!(me["max_active_assignments"], 2);
    // Omitted fields stay; an explicit null clears the limit.
    let me = app
        .patch(
            "/me",
            Some(&anna.token),
            json!({"max_active_assignments": null}),
        )
        .await
        .expect(200);
    assert_eq!(me["display_name"], "Anna B.");
    assert_eq!(me["max_active_assignments"], serde_json::Value::Null);
    let me = app.get("/me", Some(&anna.token)).await.expect(200);
    assert_eq!(me["timezone"], "Africa/Lagos");
}

#[actix_web::test]
async fn invalid_profile_changes_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let mut fields = app
        .patch(
            "/me",
            Some(&anna.token),
            json!({"display_name": "", "timezone": "Nowhere/Special", "max_active_assignments": -1}),
        )
        .await
        .expect_invalid();
    fields.sort();
    assert_eq!(
        fields,
        vec!["display_name", "max_active_assignments", "timezone"]
    );
    let fields = app
        .patch("/me", Some(&anna.token), json!({"role": "admin"}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["role"]);
    let me = app.get("/me", Some(&anna.token)).await.expect(200);
    assert_eq!(me["display_name"], "Anna");
    assert_eq!(me["role"], "member");
}

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_ends_every_session() {
    let app = spawn_app().await;
    let anna = app.member("Anna").await;
    let other_device = app.sign_in("anna@example.org").await;
    let fields = app
        .post(
            "/me/password",
            Some(&anna.token),
            json!({"current_password": "not it at all", "new_password": "a brand new one"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["current_password"]);
    let fields = app
        .post(
            "/me/password",
            Some(&anna.token),
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["new_password"]);
    app.post(
        "/me/password",
        Some(&anna.token),
        json!({"current_password": PASSWORD, "new_password": "a brand new one"}),
    )
    .await
    .expect(204);
    app.login("anna@example.org", PASSWORD)
        .await
        .expect_problem(401);
    app.login("anna@example.org", "a brand new one")
        .await
        .expect(200);
    for refresh_token in [&anna.refresh_token, &other_device.refresh_token] {
        app.post(
            "/auth/refresh",
            None,
            json!({"refresh_token": refresh_token}),
        )
        .await
        .expect_problem(401);
    }
}

#[actix_web::test]
async fn login_attempts_are_limited_per_account_with_retry_after() {
    let app = spawn_app_with(|c| c.login_attempts_per_minute = 9).await;
    app.register("anna@example.org", "Anna").await;
    // A third of 9 per account: three attempts, then 429.
    for _ in 0..3 {
        app.login("anna@example.org", "wrong password")
            .await
            .expect_problem(401);
    }
    let limited = app.login("anna@example.org", PASSWORD).await;
    limited.expect_problem(429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[actix_web::test]
async fn login_attempts_are_limited_per_client_address() {
    let app = spawn_app_with(|c| c.login_attempts_per_minute = 4).await;
    for i in 0..4 {
        app.login(&format!("nobody{i}@example.org"), PASSWORD)
            .await
            .expect_problem(401);
    }
    let limited = app.login("someone@example.org", PASSWORD).await;
    limited.expect_problem(429);
    assert!(limited.header("retry-after").is_some());
}
