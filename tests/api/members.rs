//! The members directory and admin changes to roles and activation.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{is_postgres, line_up, spawn_app};

#[actix_web::test]
async fn only_leaders_and_admins_list_members() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let member = app.member("Mo").await;
    app.get("/members", Some(&member.token))
        .await
        .expect_problem(403);
    app.get("/members", None).await.expect_problem(401);
    for caller in [&leader, &admin] {
        let page = app.get("/members", Some(&caller.token)).await.expect(200);
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        assert_eq!(page["next_cursor"], serde_json::Value::Null);
    }
}

#[actix_web::test]
async fn pages_never_repeat_or_skip_a_member_when_others_join_between_calls() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    for i in 0..6 {
        app.register(&format!("m{i}@example.org"), &format!("M{i}"))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/members?limit=2&cursor={c}"),
            None => "/members?limit=2".to_string(),
        };
        let page = app.get(&path, Some(&admin.token)).await.expect(200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|m| m["id"].as_str().unwrap().to_string()));
        pages += 1;
        if pages == 1 {
            // Someone joins while the leader is paging.
            app.register("late@example.org", "Late").await;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a member was repeated: {seen:?}");
    assert_eq!(seen.len(), 8, "admin, six members and the late joiner");
    assert_eq!(pages, 4);
}

#[actix_web::test]
async fn search_is_case_insensitive_in_every_script_and_filters_combine() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    app.register("olaf@example.org", "Ölaf Ångström").await;
    app.register("maria@example.org", "Мария").await;
    app.register("pct@example.org", "100% Faithful").await;
    let names = |page: serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["display_name"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |s: &str| format!("/members?q={}", urlencode(s));
    assert_eq!(
        names(app.get(&q("ÖLAF"), Some(&admin.token)).await.expect(200)),
        vec!["Ölaf Ångström"]
    );
    assert_eq!(
        names(app.get(&q("мари"), Some(&admin.token)).await.expect(200)),
        vec!["Мария"]
    );
    assert_eq!(
        names(
            app.get(&q("MARIA@EXAMPLE"), Some(&admin.token))
                .await
                .expect(200)
        ),
        vec!["Мария"]
    );
    // LIKE wildcards are taken literally.
    assert_eq!(
        names(app.get(&q("0%"), Some(&admin.token)).await.expect(200)),
        vec!["100% Faithful"]
    );
    assert!(names(app.get(&q("_"), Some(&admin.token)).await.expect(200)).is_empty());
    assert_eq!(
        names(
            app.get("/members?role=admin", Some(&admin.token))
                .await
                .expect(200)
        ),
        vec!["Ada"]
    );
    assert!(names(
        app.get(&format!("{}&role=admin", q("ölaf")), Some(&admin.token))
            .await
            .expect(200)
    )
    .is_empty());
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[actix_web::test]
async fn a_member_reads_themself_a_leader_reads_anyone_others_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let anna = app.member("Anna").await;
    let ben = app.member("Ben").await;
    let path = format!("/members/{}", anna.id);
    assert_eq!(
        app.get(&path, Some(&anna.token)).await.expect(200)["id"],
        anna.id.as_str()
    );
    app.get(&path, Some(&leader.token)).await.expect(200);
    app.get(&path, Some(&admin.token)).await.expect(200);
    app.get(&path, Some(&ben.token)).await.expect_problem(403);
    app.get(&path, None).await.expect_problem(401);
    app.get("/members/no-such-member", Some(&leader.token))
        .await
        .expect_problem(404);
}

#[actix_web::test]
async fn only_admins_change_roles_and_activation() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let anna = app.member("Anna").await;
    let path = format!("/members/{}", anna.id);
    for caller in [&leader, &anna] {
        app.patch(&path, Some(&caller.token), json!({"role": "admin"}))
            .await
            .expect_problem(403);
    }
    let me = app.get("/me", Some(&anna.token)).await.expect(200);
    assert_eq!(me["role"], "member");
    let updated = app
        .patch(&path, Some(&admin.token), json!({"role": "admin"}))
        .await
        .expect(200);
    assert_eq!(updated["role"], "admin");
    app.patch(
        "/members/nobody",
        Some(&admin.token),
        json!({"role": "leader"}),
    )
    .await
    .expect_problem(404);
    let fields = app
        .patch(&path, Some(&admin.token), json!({"role": "bishop"}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["role"]);
}

#[actix_web::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let path = format!("/members/{}", admin.id);
    let problem = app
        .patch(&path, Some(&admin.token), json!({"role": "leader"}))
        .await
        .expect_problem(409);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("last active admin"));
    app.patch(&path, Some(&admin.token), json!({"active": false}))
        .await
        .expect_problem(409);
    // With a second admin, the first may step down.
    let second = app.member("Sam").await;
    app.change_member(&admin, &second.id, json!({"role": "admin"}))
        .await;
    app.patch(&path, Some(&admin.token), json!({"role": "member"}))
        .await
        .expect(200);
    // Now Sam is the last one.
    app.patch(
        &format!("/members/{}", second.id),
        Some(&second.token),
        json!({"active": false}),
    )
    .await
    .expect_problem(409);
}

#[actix_web::test]
async fn a_deactivated_admin_does_not_count_as_an_active_admin() {
    let app = spawn_app().await;
    let ada = app.admin("Ada").await;
    let bo = app.member("Bo").await;
    let bo_path = format!("/members/{}", bo.id);
    app.patch(&bo_path, Some(&ada.token), json!({"role": "admin"}))
        .await
        .expect(200);
    app.patch(&bo_path, Some(&ada.token), json!({"active": false}))
        .await
        .expect(200);
    app.patch(
        &format!("/members/{}", ada.id),
        Some(&ada.token),
        json!({"role": "member"}),
    )
    .await
    .expect_problem(409);
}

#[actix_web::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = spawn_app().await;
    let ada = app.admin("Ada").await;
    let bo = app.member("Bo").await;
    app.change_member(&ada, &bo.id, json!({"role": "admin"}))
        .await;
    let rounds = if is_postgres() { 3 } else { 2 };
    for _ in 0..rounds {
        // On PostgreSQL both demotions are held at their write until both are in flight.
        let lock = app.hold_writes("members").await;
        let mut results = line_up(
            lock,
            vec![
                app.patch(
                    &format!("/members/{}", bo.id),
                    Some(&ada.token),
                    json!({"role": "member"}),
                ),
                app.patch(
                    &format!("/members/{}", ada.id),
                    Some(&bo.token),
                    json!({"role": "member"}),
                ),
            ],
        )
        .await;
        let (b, a) = (results.pop().unwrap(), results.pop().unwrap());
        let statuses = [a.status, b.status];
        let admins = app
            .get("/members?role=admin&active=true", Some(&ada.token))
            .await;
        // Whoever was demoted lost access to the list; ask as the survivor.
        let survivor = if a.status == 200 { &ada } else { &bo };
        let admins = if admins.status == 200 {
            admins.json()
        } else {
            app.get("/members?role=admin&active=true", Some(&survivor.token))
                .await
                .expect(200)
        };
        assert_eq!(admins["items"].as_array().unwrap().len(), 1, "{statuses:?}");
        // One wins; the other is refused either by the last-admin rule (409) or, when the win
        // landed first, because its caller is no longer an admin (403).
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [200, 403, 409].contains(s)),
            "{statuses:?}"
        );
        // Restore both as admins for the next round.
        let demoted = if a.status == 200 { &bo } else { &ada };
        app.change_member(survivor, &demoted.id, json!({"role": "admin"}))
            .await;
    }
}
