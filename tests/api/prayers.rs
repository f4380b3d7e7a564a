//! "I prayed for this": exact counts under concurrency, anonymity toward the requester, and the
//! intercessor's prayer list (`sort=needs_prayer`).

use actix_web::http::Method;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{is_postgres, line_up, spawn_app};

#[actix_web::test]
async fn each_prayer_counts_once_and_each_intercessor_once() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let paul = app.member("Paul").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let path = format!("/prayer-requests/{}", request["id"].as_str().unwrap());
    // No body at all is a plain "I prayed".
    let prayer = app
        .call(
            Method::POST,
            &format!("{path}/prayers"),
            Some(&omar.token),
            None,
        )
        .await
        .expect(201);
    assert_eq!(prayer["member"]["id"], omar.id.as_str());
    app.post(
        &format!("{path}/prayers"),
        Some(&omar.token),
        json!({"note": "Again tonight"}),
    )
    .await
    .expect(201);
    app.post(&format!("{path}/prayers"), Some(&paul.token), json!({}))
        .await
        .expect(201);
    let read = app.get(&path, Some(&rita.token)).await.expect(200);
    assert_eq!(read["prayer_count"], 3);
    assert_eq!(read["intercessor_count"], 2);
    assert!(read["last_prayed_at"].as_str().unwrap().ends_with('Z'));
}

#[actix_web::test]
async fn simultaneous_prayers_are_all_counted_exactly() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let mut intercessors = Vec::new();
    for name in ["Ann", "Ben", "Cat", "Dan", "Eve"] {
        intercessors.push(app.member(name).await);
    }
    let request = app.create_request(&rita.token, json!({})).await;
    let path = format!(
        "/prayer-requests/{}/prayers",
        request["id"].as_str().unwrap()
    );
    let total = if is_postgres() { 200 } else { 100 };
    let posts = (0..total)
        .map(|i| {
            let token = intercessors[i % intercessors.len()].token.clone();
            let path = path.clone();
            let app = &app;
            async move { app.post(&path, Some(&token), json!({})).await.status }
        })
        .collect();
    // On PostgreSQL the counter updates are held back until all posts are in flight.
    let lock = app.hold_writes("prayer_requests").await;
    let statuses = line_up(lock, posts).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let read = app
        .get(
            &format!("/prayer-requests/{}", request["id"].as_str().unwrap()),
            Some(&rita.token),
        )
        .await
        .expect(200);
    assert_eq!(read["prayer_count"], total as i64);
    assert_eq!(read["intercessor_count"], 5);
}

/// Simultaneous writes share transactions on SQLite (one savepoint each, see
/// `db::sqlite_writer`): those that fail (prayers on an answered request) must take none of the
/// others with them, and must leave nothing behind themselves.
#[actix_web::test]
async fn simultaneous_prayers_that_fail_take_none_of_the_others_with_them() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let mut intercessors = Vec::new();
    for name in ["Ann", "Ben", "Cat", "Dan"] {
        intercessors.push(app.member(name).await);
    }
    let open = app.create_request(&rita.token, json!({})).await;
    let answered = app.create_request(&rita.token, json!({})).await;
    let open_id = open["id"].as_str().unwrap().to_string();
    let answered_id = answered["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/prayer-requests/{answered_id}/answer"),
        Some(&rita.token),
        json!({}),
    )
    .await
    .expect(200);
    let total = 80;
    let posts = (0..total)
        .map(|i| {
            let token = intercessors[(i / 2) % intercessors.len()].token.clone();
            let target = if i % 2 == 0 { &open_id } else { &answered_id };
            let path = format!("/prayer-requests/{target}/prayers");
            let app = &app;
            async move {
                (
                    i % 2 == 0,
                    app.post(&path, Some(&token), json!({})).await.status,
                )
            }
        })
        .collect();
    let lock = app.hold_writes("prayer_requests").await;
    let outcomes = line_up(lock, posts).await;
    for (to_open, status) in &outcomes {
        assert_eq!(*status, if *to_open { 201 } else { 409 }, "{outcomes:?}");
    }
    let open = app
        .get(&format!("/prayer-requests/{open_id}"), Some(&rita.token))
        .await
        .expect(200);
    assert_eq!(open["prayer_count"], total as i64 / 2);
    assert_eq!(open["intercessor_count"], 4);
    let answered = app
        .get(
            &format!("/prayer-requests/{answered_id}"),
            Some(&rita.token),
        )
        .await
        .expect(200);
    assert_eq!(answered["prayer_count"], 0);
    assert_eq!(answered["intercessor_count"], 0);
}

#[actix_web::test]
async fn the_requester_sees_who_prayed_except_those_who_prayed_anonymously() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let paul = app.member("Paul").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let path = format!(
        "/prayer-requests/{}/prayers",
        request["id"].as_str().unwrap()
    );
    app.post(
        &path,
        Some(&omar.token),
        json!({"note": "Praying for peace", "anonymous": false}),
    )
    .await
    .expect(201);
    let mine = app
        .post(
            &path,
            Some(&paul.token),
            json!({"note": "Quietly", "anonymous": true}),
        )
        .await
        .expect(201);
    assert_eq!(
        mine["member"]["id"],
        paul.id.as_str(),
        "the intercessor sees their own name"
    );
    let as_requester = app.get(&path, Some(&rita.token)).await.expect(200);
    let items = as_requester["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    // Newest first: Paul's anonymous prayer, then Omar's.
    assert_eq!(items[0]["member"], Value::Null);
    assert_eq!(items[0]["anonymous"], true);
    assert_eq!(items[0]["note"], "Quietly");
    assert_eq!(items[1]["member"]["display_name"], "Omar");
    assert!(!as_requester.to_string().contains(&paul.id));
    let as_admin = app.get(&path, Some(&admin.token)).await.expect(200);
    assert_eq!(as_admin["items"][0]["member"]["display_name"], "Paul");
    app.get(&path, Some(&omar.token)).await.expect_problem(403);
    let fields = app
        .post(&path, Some(&omar.token), json!({"note": "x".repeat(1001)}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["note"]);
}

#[actix_web::test]
async fn only_active_requests_take_prayers() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    app.post(
        &format!("/prayer-requests/{id}/answer"),
        Some(&rita.token),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/prayer-requests/{id}/prayers"),
        Some(&omar.token),
        json!({}),
    )
    .await
    .expect_problem(409);
    let read = app
        .get(&format!("/prayer-requests/{id}"), Some(&rita.token))
        .await
        .expect(200);
    assert_eq!(read["prayer_count"], 0);
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn needs_prayer_puts_urgent_first_then_the_least_prayed_for_then_the_oldest() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let mut ids = Vec::new();
    for (title, urgent) in [("R1", false), ("R2", false), ("R3", true), ("R4", false)] {
        let r = app
            .create_request(&rita.token, json!({"title": title, "urgent": urgent}))
            .await;
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let pray = |i: usize| {
        let path = format!("/prayer-requests/{}/prayers", ids[i]);
        let token = omar.token.clone();
        let app = &app;
        async move { app.post(&path, Some(&token), json!({})).await.expect(201) }
    };
    pray(0).await;
    pray(0).await;
    pray(1).await;
    // An answered request is not on the prayer list.
    let answered = app
        .create_request(&rita.token, json!({"title": "R5"}))
        .await;
    app.post(
        &format!(
            "/prayer-requests/{}/answer",
            answered["id"].as_str().unwrap()
        ),
        Some(&rita.token),
        json!({}),
    )
    .await
    .expect(200);
    let list = app
        .get("/prayer-requests?sort=needs_prayer", Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(titles(&list), vec!["R3", "R4", "R2", "R1"]);
    // Paging one at a time gives the same order.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/prayer-requests?sort=needs_prayer&limit=1&cursor={c}"),
            None => "/prayer-requests?sort=needs_prayer&limit=1".into(),
        };
        let page = app.get(&path, Some(&omar.token)).await.expect(200);
        paged.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, vec!["R3", "R4", "R2", "R1"]);
    // A newest-order cursor does not fit the prayer list.
    let newest = app
        .get("/prayer-requests?limit=1", Some(&omar.token))
        .await
        .expect(200);
    let wrong = newest["next_cursor"].as_str().unwrap();
    let fields = app
        .get(
            &format!("/prayer-requests?sort=needs_prayer&cursor={wrong}"),
            Some(&omar.token),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["cursor"]);
    // Prayers older than 7 days no longer count: R1's two move out of the window.
    let eight_days_ago = (Utc::now().naive_utc() - Duration::days(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.sql(&format!(
        "UPDATE prayers SET created_at = '{eight_days_ago}' WHERE request_id = '{id}';
         UPDATE prayer_requests SET last_prayed_at = '{eight_days_ago}' WHERE id = '{id}';",
        id = ids[0]
    ))
    .await;
    let list = app
        .get("/prayer-requests?sort=needs_prayer", Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(titles(&list), vec!["R3", "R1", "R4", "R2"]);
    // Paging across every segment boundary (urgent cold, non-urgent cold, non-urgent hot).
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/prayer-requests?sort=needs_prayer&limit=1&cursor={c}"),
            None => "/prayer-requests?sort=needs_prayer&limit=1".into(),
        };
        let page = app.get(&path, Some(&omar.token)).await.expect(200);
        paged.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, vec!["R3", "R1", "R4", "R2"]);
    // An urgent request prayed for this week comes after the urgent unprayed-for, before the rest.
    let r6 = app
        .create_request(&rita.token, json!({"title": "R6", "urgent": true}))
        .await;
    app.post(
        &format!("/prayer-requests/{}/prayers", r6["id"].as_str().unwrap()),
        Some(&omar.token),
        json!({}),
    )
    .await
    .expect(201);
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/prayer-requests?sort=needs_prayer&limit=2&cursor={c}"),
            None => "/prayer-requests?sort=needs_prayer&limit=2".into(),
        };
        let page = app.get(&path, Some(&omar.token)).await.expect(200);
        paged.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, vec!["R3", "R6", "R1", "R4", "R2"]);
}

#[actix_web::test]
async fn newest_pages_never_repeat_or_skip_when_requests_arrive_between_calls() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    for i in 0..5 {
        app.create_request(&rita.token, json!({"title": format!("P{i}")}))
            .await;
    }
    let first = app
        .get("/prayer-requests?limit=2", Some(&rita.token))
        .await
        .expect(200);
    assert_eq!(titles(&first), vec!["P4", "P3"]);
    app.create_request(&rita.token, json!({"title": "Late"}))
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/prayer-requests?limit=2&cursor={cursor}"),
            Some(&rita.token),
        )
        .await
        .expect(200);
    assert_eq!(titles(&second), vec!["P2", "P1"]);
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = app
        .get(
            &format!("/prayer-requests?limit=2&cursor={cursor}"),
            Some(&rita.token),
        )
        .await
        .expect(200);
    assert_eq!(titles(&third), vec!["P0"]);
    assert_eq!(third["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn list_filters_narrow_the_list() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    app.create_request(
        &rita.token,
        json!({"title": "A", "category": "family", "urgent": true}),
    )
    .await;
    app.create_request(
        &rita.token,
        json!({"title": "B", "category": "nation", "kind": "intercession", "on_behalf_of": "our country"}),
    )
    .await;
    app.create_request(&omar.token, json!({"title": "C", "category": "family"}))
        .await;
    let get = |q: &str| {
        let path = format!("/prayer-requests?{q}");
        let token = rita.token.clone();
        let app = &app;
        async move { titles(&app.get(&path, Some(&token)).await.expect(200)) }
    };
    assert_eq!(get("category=family").await, vec!["C", "A"]);
    assert_eq!(get("category=FAMILY").await, vec!["C", "A"]);
    assert_eq!(get("kind=intercession").await, vec!["B"]);
    assert_eq!(get("urgent=true").await, vec!["A"]);
    assert_eq!(get("mine=true").await, vec!["B", "A"]);
    assert_eq!(get("mine=false").await, vec!["C"]);
    assert_eq!(get("mine=true&category=family").await, vec!["A"]);
    assert_eq!(get("q=%25").await, Vec::<String>::new());
    for (q, field) in [
        ("category=astrology", "category"),
        ("status=lost", "status"),
        ("kind=wish", "kind"),
        ("sort=random", "sort"),
        ("urgent=maybe", "urgent"),
    ] {
        let fields = app
            .get(&format!("/prayer-requests?{q}"), Some(&rita.token))
            .await
            .expect_invalid();
        assert_eq!(fields, vec![field.to_string()], "{q}");
    }
}
