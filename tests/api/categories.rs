//! Categories: seeded, read by members, kept by leaders.

use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_twelve_default_categories_are_there_for_members() {
    let app = spawn_app().await;
    let mo = app.member("Mo").await;
    let page = app
        .get("/categories?limit=100", Some(&mo.token))
        .await
        .expect(200);
    let mut names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "children",
            "church",
            "family",
            "finances",
            "healing",
            "marriage",
            "ministry",
            "nation",
            "other",
            "provision",
            "revival",
            "salvation"
        ]
    );
    app.get("/categories", None).await.expect_problem(401);
    let first = app
        .get("/categories?limit=5", Some(&mo.token))
        .await
        .expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    assert!(first["next_cursor"].is_string());
}

#[actix_web::test]
async fn leaders_add_and_rename_categories_and_members_cannot() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let mo = app.member("Mo").await;
    app.post("/categories", Some(&mo.token), json!({"name": "grief"}))
        .await
        .expect_problem(403);
    let grief = app
        .post(
            "/categories",
            Some(&leader.token),
            json!({"name": "  Grief ", "description": "Loss"}),
        )
        .await
        .expect(201);
    assert_eq!(grief["name"], "grief");
    app.post("/categories", Some(&leader.token), json!({"name": "GRIEF"}))
        .await
        .expect_problem(409);
    let fields = app
        .post("/categories", Some(&leader.token), json!({"name": ""}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["name"]);
    let request = app
        .create_request(&mo.token, json!({"category": "grief"}))
        .await;
    let id = grief["id"].as_str().unwrap();
    app.patch(
        &format!("/categories/{id}"),
        Some(&mo.token),
        json!({"name": "loss"}),
    )
    .await
    .expect_problem(403);
    let renamed = app
        .patch(
            &format!("/categories/{id}"),
            Some(&leader.token),
            json!({"name": "Bereavement"}),
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "bereavement");
    assert_eq!(renamed["description"], "Loss");
    let read = app
        .get(
            &format!("/prayer-requests/{}", request["id"].as_str().unwrap()),
            Some(&mo.token),
        )
        .await
        .expect(200);
    assert_eq!(read["category"], "bereavement");
    app.patch(
        &format!("/categories/{id}"),
        Some(&leader.token),
        json!({"name": "healing"}),
    )
    .await
    .expect_problem(409);
    app.patch(
        "/categories/nope",
        Some(&leader.token),
        json!({"name": "x"}),
    )
    .await
    .expect_problem(404);
}

#[actix_web::test]
async fn a_category_in_use_cannot_be_deleted() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let mo = app.member("Mo").await;
    let used = app
        .post("/categories", Some(&leader.token), json!({"name": "used"}))
        .await
        .expect(201);
    let unused = app
        .post(
            "/categories",
            Some(&leader.token),
            json!({"name": "unused"}),
        )
        .await
        .expect(201);
    app.create_request(&mo.token, json!({"category": "used"}))
        .await;
    app.delete(
        &format!("/categories/{}", used["id"].as_str().unwrap()),
        Some(&leader.token),
    )
    .await
    .expect_problem(409);
    app.delete(
        &format!("/categories/{}", unused["id"].as_str().unwrap()),
        Some(&mo.token),
    )
    .await
    .expect_problem(403);
    app.delete(
        &format!("/categories/{}", unused["id"].as_str().unwrap()),
        Some(&leader.token),
    )
    .await
    .expect(204);
    app.delete(
        &format!("/categories/{}", unused["id"].as_str().unwrap()),
        Some(&leader.token),
    )
    .await
    .expect_problem(404);
}
