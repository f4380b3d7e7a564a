//! Updates from the requester and comments from the church.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_requester_and_leaders_post_updates_everyone_who_sees_the_request_reads_them() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let request = app.create_request(&rita.token, json!({})).await;
    let path = format!(
        "/prayer-requests/{}/updates",
        request["id"].as_str().unwrap()
    );
    let first = app
        .post(
            &path,
            Some(&rita.token),
            json!({"body": "Surgery went well 🙏"}),
        )
        .await
        .expect(201);
    assert_eq!(first["author"]["display_name"], "Rita");
    app.post(
        &path,
        Some(&leader.token),
        json!({"body": "We prayed at the Sunday service."}),
    )
    .await
    .expect(201);
    app.post(
        &path,
        Some(&omar.token),
        json!({"body": "Not mine to post"}),
    )
    .await
    .expect_problem(403);
    let fields = app
        .post(&path, Some(&rita.token), json!({"body": ""}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["body"]);
    let list = app.get(&path, Some(&omar.token)).await.expect(200);
    let bodies: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec!["Surgery went well 🙏", "We prayed at the Sunday service."]
    );
}

#[actix_web::test]
async fn on_an_anonymous_request_the_requesters_updates_and_comments_do_not_name_them() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let request = app
        .create_request(
            &rita.token,
            json!({"anonymous": true, "allow_comments": true}),
        )
        .await;
    let base = format!("/prayer-requests/{}", request["id"].as_str().unwrap());
    app.post(
        &format!("{base}/updates"),
        Some(&rita.token),
        json!({"body": "Thank you all"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("{base}/comments"),
        Some(&rita.token),
        json!({"body": "Grateful"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("{base}/comments"),
        Some(&omar.token),
        json!({"body": "Praying!"}),
    )
    .await
    .expect(201);
    for suffix in ["updates", "comments"] {
        let as_omar = app
            .get(&format!("{base}/{suffix}"), Some(&omar.token))
            .await
            .expect(200);
        assert_eq!(as_omar["items"][0]["author"], Value::Null, "{suffix}");
        assert!(
            !as_omar.to_string().contains(&rita.id),
            "{suffix} names the requester"
        );
        let as_admin = app
            .get(&format!("{base}/{suffix}"), Some(&admin.token))
            .await
            .expect(200);
        assert_eq!(
            as_admin["items"][0]["author"]["display_name"], "Rita",
            "{suffix}"
        );
    }
    let comments = app
        .get(&format!("{base}/comments"), Some(&omar.token))
        .await
        .expect(200);
    assert_eq!(comments["items"][1]["author"]["display_name"], "Omar");
}

#[actix_web::test]
async fn comments_are_open_only_when_the_requester_allows_them() {
    let app = spawn_app().await;
    let rita = app.member("Rita").await;
    let omar = app.member("Omar").await;
    let closed = app.create_request(&rita.token, json!({})).await;
    let path = format!(
        "/prayer-requests/{}/comments",
        closed["id"].as_str().unwrap()
    );
    app.post(&path, Some(&omar.token), json!({"body": "Hello"}))
        .await
        .expect_problem(409);
    app.get(&path, Some(&omar.token)).await.expect_problem(409);
    // Opening comments later lets them in.
    app.patch(
        &format!("/prayer-requests/{}", closed["id"].as_str().unwrap()),
        Some(&rita.token),
        json!({"allow_comments": true}),
    )
    .await
    .expect(200);
    let comment = app
        .post(&path, Some(&omar.token), json!({"body": "Hello"}))
        .await
        .expect(201);
    assert_eq!(comment["author"]["display_name"], "Omar");
    let fields = app
        .post(&path, Some(&omar.token), json!({"body": "x".repeat(1001)}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["body"]);
    let list = app.get(&path, Some(&rita.token)).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
