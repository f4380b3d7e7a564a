//! Privacy operations: the audit log, export, erasure and retention.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, PASSWORD};

fn events(page: &Value) -> Vec<(String, String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor_id"].as_str().unwrap_or("").to_string(),
                e["subject_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn reads_of_confidential_requests_role_changes_and_deactivations_are_audited() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let rita = app.member("Rita").await;
    let secret = app
        .create_request(
            &rita.token,
            json!({"visibility": "leaders", "title": "Husband in intensive care"}),
        )
        .await;
    let open = app
        .create_request(&rita.token, json!({"visibility": "congregation"}))
        .await;
    let secret_id = secret["id"].as_str().unwrap();
    app.get(
        &format!("/prayer-requests/{secret_id}"),
        Some(&leader.token),
    )
    .await
    .expect(200);
    app.get(
        &format!("/prayer-requests/{}", open["id"].as_str().unwrap()),
        Some(&leader.token),
    )
    .await
    .expect(200);
    app.get("/prayer-requests", Some(&leader.token))
        .await
        .expect(200);
    app.change_member(&admin, &rita.id, json!({"active": false}))
        .await;
    app.get("/audit-events", Some(&leader.token))
        .await
        .expect_problem(403);
    app.get("/audit-events", Some(&rita.token))
        .await
        .expect_problem(401);
    let page = app
        .get("/audit-events?limit=100", Some(&admin.token))
        .await
        .expect(200);
    let all = events(&page);
    let reads: Vec<_> = all.iter().filter(|e| e.0 == "request.read").collect();
    assert_eq!(reads.len(), 2, "one read alone, one in the list: {all:?}");
    assert!(reads.iter().all(|e| e.1 == leader.id && e.2 == secret_id));
    assert!(all
        .iter()
        .any(|e| e.0 == "member.role_changed" && e.1 == admin.id && e.2 == leader.id));
    assert!(all
        .iter()
        .any(|e| e.0 == "member.deactivated" && e.2 == rita.id));
    assert!(
        !page.to_string().contains("intensive care"),
        "audit records never hold request text"
    );
    let only_reads = app
        .get(
            &format!("/audit-events?kind=request.read&actor_id={}", leader.id),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_eq!(events(&only_reads).len(), 2);
    let none = app
        .get(
            "/audit-events?from=2100-01-01T00:00:00Z",
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert!(events(&none).is_empty());
    let first = app
        .get("/audit-events?limit=1", Some(&admin.token))
        .await
        .expect(200);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/audit-events?limit=1&cursor={cursor}"),
            Some(&admin.token),
        )
        .await
        .expect(200);
    assert_ne!(first["items"][0]["id"], next["items"][0]["id"]);
    assert_eq!(
        app.get("/audit-events?kind=gossip", Some(&admin.token))
            .await
            .expect_invalid(),
        vec!["kind"]
    );
}

#[actix_web::test]
async fn the_export_holds_everything_about_the_member_and_nothing_about_others() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let mine = app
        .create_request(
            &rita.token,
            json!({"title": "My own request", "allow_comments": true}),
        )
        .await;
    let theirs = app
        .create_request(
            &omar.token,
            json!({"title": "Omar's request", "allow_comments": true}),
        )
        .await;
    let t = theirs["id"].as_str().unwrap();
    let m = mine["id"].as_str().unwrap();
    app.post(
        &format!("/prayer-requests/{t}/prayers"),
        Some(&rita.token),
        json!({"note": "Rita's prayer note"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/prayer-requests/{t}/comments"),
        Some(&rita.token),
        json!({"body": "Rita's comment"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/prayer-requests/{m}/updates"),
        Some(&rita.token),
        json!({"body": "Rita's update"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/prayer-requests/{m}/comments"),
        Some(&omar.token),
        json!({"body": "Omar's comment"}),
    )
    .await
    .expect(201);
    let watch = app
        .post("/watches", Some(&admin.token), json!({"name": "W", "timezone": "UTC", "starts_on": "2027-01-01", "slot_minutes": 60, "min_per_slot": 1}))
        .await
        .expect(201);
    app.post(
        &format!("/watches/{}/signups", watch["id"].as_str().unwrap()),
        Some(&rita.token),
        json!({"slot_start": "2027-06-01T10:00:00Z"}),
    )
    .await
    .expect(201);
    let fast = app
        .post("/fasts", Some(&admin.token), json!({"name": "F", "fast_type": "water", "starts_on": "2026-01-01", "days": 3, "timezone": "UTC"}))
        .await
        .expect(201);
    let f = fast["id"].as_str().unwrap();
    app.post(
        &format!("/fasts/{f}/participants"),
        Some(&rita.token),
        json!({}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/fasts/{f}/check-ins"),
        Some(&rita.token),
        json!({"day": 2, "kept": "partial", "note": "Rita's fasting note"}),
    )
    .await
    .expect(201);
    app.put(
        "/me/notification-preferences",
        Some(&rita.token),
        json!({"discreet": true}),
    )
    .await
    .expect(200);
    // Rita is given a request to pray for: the notification is in her export.
    let need = app
        .create_request(&admin.token, json!({"title": "The admin's need"}))
        .await;
    app.post(
        &format!(
            "/prayer-requests/{}/assignments",
            need["id"].as_str().unwrap()
        ),
        Some(&admin.token),
        json!({"member_id": rita.id}),
    )
    .await
    .expect(201);
    for _ in 0..100 {
        let inbox = app
            .get("/me/notifications", Some(&rita.token))
            .await
            .expect(200);
        if !inbox["items"].as_array().unwrap().is_empty() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let res = app.get("/me/export", Some(&rita.token)).await;
    let export = res.expect(200);
    assert!(res
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    let text = export.to_string();
    assert_eq!(export["member"]["email"], "rita@example.org");
    assert_eq!(export["prayer_requests"].as_array().unwrap().len(), 1);
    for expected in [
        "My own request",
        "Rita's prayer note",
        "Rita's comment",
        "Rita's update",
        "2027-06-01T10:00:00Z",
        "Rita's fasting note",
    ] {
        assert!(text.contains(expected), "export lacks {expected}");
    }
    for foreign in ["Omar's request", "Omar's comment", "password", "argon2"] {
        assert!(!text.contains(foreign), "export holds {foreign}");
    }
    // Each section's items carry exactly the fields its schema in the committed OpenAPI document
    // names, so an app's generated client reads the export as it is.
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut checked = 0;
    for (section, items) in export.as_object().unwrap() {
        let Some(reference) = schemas["Export"]["properties"][section]["items"]["$ref"].as_str()
        else {
            continue;
        };
        let schema = &schemas[reference.rsplit('/').next().unwrap()];
        let named: std::collections::BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for item in items.as_array().unwrap() {
            let held: std::collections::BTreeSet<&str> = item
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(held, named, "{section}: {item}");
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} items checked");
    assert_eq!(export["notifications"][0]["event"], "assignment.created");
    assert_eq!(export["notifications"][0]["read_at"], Value::Null);
    assert_eq!(export["notification_preferences"]["discreet"], true);
    assert_eq!(
        export["notification_preferences"]["in_app"]["assignment.created"],
        true
    );
    assert_eq!(export["fasts"][0]["check_ins"][0]["kept"], "partial");
    assert_eq!(
        export["watch_signups"][0]["slots"][0],
        "2027-06-01T10:00:00Z"
    );
    let audit = app
        .get("/audit-events?kind=account.exported", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(events(&audit)[0].1, rita.id);
}

#[actix_web::test]
async fn erasing_an_account_needs_the_password_keeps_requests_unattributed_and_spares_the_last_admin(
) {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
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
    let erase = |token: &str, password: &str| {
        let token = token.to_string();
        let body = json!({"password": password});
        let app = &app;
        async move {
            app.call(Method::DELETE, "/me", Some(&token), Some(body))
                .await
        }
    };
    assert_eq!(
        erase(&rita.token, "not my password").await.expect_invalid(),
        vec!["password"]
    );
    erase(&rita.token, PASSWORD).await.expect(204);
    app.get("/me", Some(&rita.token)).await.expect_problem(401);
    app.login("rita@example.org", PASSWORD)
        .await
        .expect_problem(401);
    let kept = app
        .get(&format!("/prayer-requests/{id}"), Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(kept["requester"], Value::Null);
    assert_eq!(kept["prayer_count"], 1);
    // The email is free again.
    app.register("rita@example.org", "Rita again").await;
    // The last admin cannot leave the church without one.
    erase(&admin.token, PASSWORD).await.expect_problem(409);
    app.get("/me", Some(&admin.token)).await.expect(200);
    let audit = app
        .get("/audit-events?kind=account.erased", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(events(&audit)[0].2, rita.id);
}
