//! Who sees which prayer request: every visibility tier, anonymity, moderation states, for each
//! kind of caller, through reads, lists, searches, counts and actions.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Session, TestApp};

struct Church {
    app: TestApp,
    admin: Session,
    leader: Session,
    requester: Session,
    other: Session,
}

async fn church() -> Church {
    church_with(|_| {}).await
}

async fn church_with(configure: impl FnOnce(&mut intercede::config::Config)) -> Church {
    let app = spawn_app_with(configure).await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let requester = app.member("Rita").await;
    let other = app.member("Omar").await;
    Church {
        app,
        admin,
        leader,
        requester,
        other,
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

impl Church {
    /// Whether `who` can read `id` and find it in the list and in a search for `word`.
    async fn sees(&self, who: &Session, id: &str, word: &str) -> bool {
        let app = &self.app;
        let one = app
            .get(&format!("/prayer-requests/{id}"), Some(&who.token))
            .await;
        let listed = ids(&app
            .get("/prayer-requests?limit=100", Some(&who.token))
            .await
            .expect(200));
        let found = ids(&app
            .get(&format!("/prayer-requests?q={word}"), Some(&who.token))
            .await
            .expect(200));
        let sorted = ids(&app
            .get(
                "/prayer-requests?sort=needs_prayer&limit=100",
                Some(&who.token),
            )
            .await
            .expect(200));
        let in_list = listed.contains(&id.to_string());
        let in_search = found.contains(&id.to_string());
        let in_sorted = sorted.contains(&id.to_string());
        match one.status {
            200 => {
                assert!(in_list && in_search, "readable but not listed or found");
                true
            }
            404 => {
                one.expect_problem(404);
                assert!(
                    !in_list && !in_search && !in_sorted,
                    "hidden but listed or found"
                );
                false
            }
            other => panic!("unexpected status {other}: {}", one.text()),
        }
    }
}

#[actix_web::test]
async fn each_visibility_reaches_exactly_its_audience() {
    let c = church().await;
    for (visibility, word, other_sees) in [
        ("congregation", "zebra", true),
        ("team", "giraffe", false),
        ("leaders", "okapi", false),
    ] {
        let request = c
            .app
            .create_request(
                &c.requester.token,
                json!({"visibility": visibility, "body": format!("A {word} in the body")}),
            )
            .await;
        let id = request["id"].as_str().unwrap();
        assert!(
            c.sees(&c.requester, id, word).await,
            "{visibility}: requester"
        );
        assert!(c.sees(&c.leader, id, word).await, "{visibility}: leader");
        assert!(c.sees(&c.admin, id, word).await, "{visibility}: admin");
        assert_eq!(
            c.sees(&c.other, id, word).await,
            other_sees,
            "{visibility}: other member"
        );
        c.app
            .get(&format!("/prayer-requests/{id}"), None)
            .await
            .expect_problem(401);
    }
}

#[actix_web::test]
async fn an_anonymous_request_hides_its_requester_from_all_but_the_requester_and_leaders() {
    let c = church().await;
    let request = c
        .app
        .create_request(&c.requester.token, json!({"anonymous": true}))
        .await;
    let path = format!("/prayer-requests/{}", request["id"].as_str().unwrap());
    let as_other = c.app.get(&path, Some(&c.other.token)).await.expect(200);
    assert_eq!(as_other["requester"], Value::Null);
    assert_eq!(as_other["anonymous"], true);
    for who in [&c.requester, &c.leader, &c.admin] {
        let seen = c.app.get(&path, Some(&who.token)).await.expect(200);
        assert_eq!(seen["requester"]["id"], c.requester.id.as_str());
        assert_eq!(seen["requester"]["display_name"], "Rita");
    }
    // Nor does a list give it away.
    let page = c
        .app
        .get("/prayer-requests", Some(&c.other.token))
        .await
        .expect(200);
    assert_eq!(page["items"][0]["requester"], Value::Null);
    // Without anonymity the requester is named to everyone who sees the request.
    let named = c.app.create_request(&c.requester.token, json!({})).await;
    let seen = c
        .app
        .get(
            &format!("/prayer-requests/{}", named["id"].as_str().unwrap()),
            Some(&c.other.token),
        )
        .await
        .expect(200);
    assert_eq!(seen["requester"]["display_name"], "Rita");
}

#[actix_web::test]
async fn a_pending_request_is_seen_only_by_its_requester_and_leaders_until_approved() {
    let c = church_with(|cfg| cfg.require_approval = true).await;
    let request = c.app.create_request(&c.requester.token, json!({})).await;
    assert_eq!(request["status"], "pending");
    let id = request["id"].as_str().unwrap();
    assert!(c.sees(&c.requester, id, "hospital").await);
    assert!(c.sees(&c.leader, id, "hospital").await);
    assert!(!c.sees(&c.other, id, "hospital").await);
    // Members cannot approve; leaders can.
    c.app
        .post(
            &format!("/prayer-requests/{id}/approve"),
            Some(&c.requester.token),
            json!({}),
        )
        .await
        .expect_problem(403);
    let approved = c
        .app
        .call(
            actix_web::http::Method::POST,
            &format!("/prayer-requests/{id}/approve"),
            Some(&c.leader.token),
            None,
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "active");
    assert!(c.sees(&c.other, id, "hospital").await);
    // A leader's own request needs no approval.
    let own = c.app.create_request(&c.leader.token, json!({})).await;
    assert_eq!(own["status"], "active");
}

#[actix_web::test]
async fn a_flagged_request_leaves_the_congregation_until_a_leader_approves_it() {
    let c = church().await;
    let request = c.app.create_request(&c.requester.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    c.app
        .post(
            &format!("/prayer-requests/{id}/flag"),
            Some(&c.other.token),
            json!({"reason": "Names a person without consent"}),
        )
        .await
        .expect(204);
    assert!(!c.sees(&c.other, id, "hospital").await);
    assert!(c.sees(&c.requester, id, "hospital").await);
    let as_requester = c
        .app
        .get(&format!("/prayer-requests/{id}"), Some(&c.requester.token))
        .await
        .expect(200);
    assert_eq!(as_requester["flagged"], true);
    assert_eq!(
        as_requester["flag_reason"],
        Value::Null,
        "the reason is for leaders"
    );
    let flagged = c
        .app
        .get("/prayer-requests?flagged=true", Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(ids(&flagged), vec![id.to_string()]);
    assert_eq!(
        flagged["items"][0]["flag_reason"],
        "Names a person without consent"
    );
    assert!(ids(&c
        .app
        .get("/prayer-requests?flagged=true", Some(&c.other.token))
        .await
        .expect(200))
    .is_empty());
    c.app
        .post(
            &format!("/prayer-requests/{id}/approve"),
            Some(&c.leader.token),
            json!({}),
        )
        .await
        .expect(200);
    assert!(c.sees(&c.other, id, "hospital").await);
    // Approving again has nothing to approve.
    c.app
        .post(
            &format!("/prayer-requests/{id}/approve"),
            Some(&c.leader.token),
            json!({}),
        )
        .await
        .expect_problem(409);
}

#[actix_web::test]
async fn a_rejected_request_is_closed_and_hidden_and_its_requester_reads_why() {
    let c = church().await;
    let request = c.app.create_request(&c.requester.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    c.app
        .post(
            &format!("/prayer-requests/{id}/reject"),
            Some(&c.other.token),
            json!({"reason": "no"}),
        )
        .await
        .expect_problem(403);
    let rejected = c
        .app
        .post(
            &format!("/prayer-requests/{id}/reject"),
            Some(&c.leader.token),
            json!({"reason": "Please share this one with a pastor privately."}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "closed");
    assert!(!c.sees(&c.other, id, "hospital").await);
    let mine = c
        .app
        .get(&format!("/prayer-requests/{id}"), Some(&c.requester.token))
        .await
        .expect(200);
    assert_eq!(
        mine["rejection_reason"],
        "Please share this one with a pastor privately."
    );
    // The requester cannot undo the rejection by reopening; a leader can.
    c.app
        .post(
            &format!("/prayer-requests/{id}/reopen"),
            Some(&c.requester.token),
            json!({}),
        )
        .await
        .expect_problem(409);
    let reopened = c
        .app
        .post(
            &format!("/prayer-requests/{id}/reopen"),
            Some(&c.leader.token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(reopened["status"], "active");
    assert!(c.sees(&c.other, id, "hospital").await);
}

#[actix_web::test]
async fn actions_on_a_request_one_cannot_see_are_404_never_403() {
    let c = church().await;
    let hidden = c
        .app
        .create_request(
            &c.requester.token,
            json!({"visibility": "leaders", "allow_comments": true}),
        )
        .await;
    let id = hidden["id"].as_str().unwrap();
    let t = Some(c.other.token.as_str());
    let p = |suffix: &str| format!("/prayer-requests/{id}{suffix}");
    c.app
        .patch(&p(""), t, json!({"title": "x"}))
        .await
        .expect_problem(404);
    c.app.delete(&p(""), t).await.expect_problem(404);
    for (suffix, body) in [
        ("/prayers", json!({})),
        ("/updates", json!({"body": "x"})),
        ("/comments", json!({"body": "x"})),
        ("/answer", json!({})),
        ("/reopen", json!({})),
        ("/flag", json!({"reason": "x"})),
    ] {
        let res = c.app.post(&p(suffix), t, body).await;
        let problem = res.expect_problem(404);
        assert!(!problem.to_string().contains("okapi") && !problem.to_string().contains("Healing"));
    }
    for suffix in ["/prayers", "/updates", "/comments"] {
        c.app.get(&p(suffix), t).await.expect_problem(404);
    }
}

#[actix_web::test]
async fn on_a_visible_request_only_the_requester_or_leaders_act_and_others_get_403() {
    let c = church().await;
    let request = c.app.create_request(&c.requester.token, json!({})).await;
    let id = request["id"].as_str().unwrap();
    let p = |suffix: &str| format!("/prayer-requests/{id}{suffix}");
    let t = Some(c.other.token.as_str());
    c.app
        .patch(&p(""), t, json!({"title": "Mine now"}))
        .await
        .expect_problem(403);
    c.app.delete(&p(""), t).await.expect_problem(403);
    c.app
        .post(&p("/updates"), t, json!({"body": "x"}))
        .await
        .expect_problem(403);
    c.app
        .post(&p("/answer"), t, json!({}))
        .await
        .expect_problem(403);
    c.app.get(&p("/prayers"), t).await.expect_problem(403);
    let unchanged = c.app.get(&p(""), t).await.expect(200);
    assert_eq!(unchanged["title"], "Healing for my mother");
    // The requester and a leader may edit.
    let edited = c
        .app
        .patch(
            &p(""),
            Some(&c.requester.token),
            json!({"title": "Healing for Mum"}),
        )
        .await
        .expect(200);
    assert_eq!(edited["title"], "Healing for Mum");
    let edited = c
        .app
        .patch(&p(""), Some(&c.leader.token), json!({"urgent": true}))
        .await
        .expect(200);
    assert_eq!(edited["urgent"], true);
    assert_eq!(edited["title"], "Healing for Mum");
}

#[actix_web::test]
async fn deleting_is_for_the_requester_or_an_admin_and_takes_everything_with_it() {
    let c = church().await;
    let first = c.app.create_request(&c.requester.token, json!({})).await;
    let second = c.app.create_request(&c.requester.token, json!({})).await;
    let (a, b) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    c.app
        .post(
            &format!("/prayer-requests/{a}/prayers"),
            Some(&c.other.token),
            json!({}),
        )
        .await
        .expect(201);
    c.app
        .delete(&format!("/prayer-requests/{a}"), Some(&c.leader.token))
        .await
        .expect_problem(403);
    c.app
        .delete(&format!("/prayer-requests/{a}"), Some(&c.requester.token))
        .await
        .expect(204);
    c.app
        .get(&format!("/prayer-requests/{a}"), Some(&c.admin.token))
        .await
        .expect_problem(404);
    c.app
        .get(
            &format!("/prayer-requests/{a}/prayers"),
            Some(&c.admin.token),
        )
        .await
        .expect_problem(404);
    c.app
        .delete(&format!("/prayer-requests/{b}"), Some(&c.admin.token))
        .await
        .expect(204);
    c.app
        .delete(&format!("/prayer-requests/{b}"), Some(&c.admin.token))
        .await
        .expect_problem(404);
}

#[actix_web::test]
async fn a_testimony_is_private_unless_shared() {
    let c = church().await;
    let private = c.app.create_request(&c.requester.token, json!({})).await;
    let shared = c.app.create_request(&c.requester.token, json!({})).await;
    for (request, share) in [(&private, false), (&shared, true)] {
        c.app
            .post(
                &format!("/prayer-requests/{}/answer", request["id"].as_str().unwrap()),
                Some(&c.requester.token),
                json!({"testimony": "She walked out of hospital on Sunday!", "share_testimony": share}),
            )
            .await
            .expect(200);
    }
    let read = |r: &Value, who: &Session| {
        let path = format!("/prayer-requests/{}", r["id"].as_str().unwrap());
        let token = who.token.clone();
        let app = &c.app;
        async move { app.get(&path, Some(&token)).await.expect(200) }
    };
    assert_eq!(read(&private, &c.other).await["testimony"], Value::Null);
    assert_eq!(
        read(&private, &c.leader).await["testimony"],
        "She walked out of hospital on Sunday!"
    );
    assert_eq!(
        read(&private, &c.requester).await["testimony"],
        "She walked out of hospital on Sunday!"
    );
    assert_eq!(
        read(&shared, &c.other).await["testimony"],
        "She walked out of hospital on Sunday!"
    );
}

#[actix_web::test]
async fn visitors_requests_are_pending_for_leaders_only_and_name_the_visitor_to_leaders() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let member = app.member("Mo").await;
    let res = app
        .post(
            "/public/prayer-requests",
            None,
            json!({"name": "A visitor", "email": "Visitor@Example.org", "title": "Work",
                   "body": "I lost my job.", "category": "provision"}),
        )
        .await;
    let body = res.expect(202);
    assert_eq!(body, json!({"status": "received"}));
    assert!(res.header("location").is_none());
    let pending = app
        .get("/prayer-requests?status=pending", Some(&leader.token))
        .await
        .expect(200);
    let item = &pending["items"][0];
    assert_eq!(item["status"], "pending");
    assert_eq!(item["visibility"], "leaders");
    assert_eq!(item["requester"], Value::Null);
    assert_eq!(
        item["submitted_by"],
        json!({"name": "A visitor", "email": "visitor@example.org"})
    );
    let seen = app
        .get("/prayer-requests", Some(&member.token))
        .await
        .expect(200);
    assert!(ids(&seen).is_empty());
    // Approved, it is still for leaders only: a member never sees a visitor's email.
    let id = item["id"].as_str().unwrap();
    app.post(
        &format!("/prayer-requests/{id}/approve"),
        Some(&leader.token),
        json!({}),
    )
    .await
    .expect(200);
    app.get(&format!("/prayer-requests/{id}"), Some(&member.token))
        .await
        .expect_problem(404);
}
