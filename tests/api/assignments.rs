//! Assignments: who may assign what to whom, the state machine, limits under concurrency,
//! auto-assign fairness, the visibility hand-over, and the team dashboard.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{is_postgres, line_up};
use crate::teams::{church, Church};

impl Church {
    async fn request(&self, visibility: &str, title: &str) -> String {
        self.app
            .create_request(
                &self.rita.token,
                json!({"visibility": visibility, "title": title}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn assign(
        &self,
        by: &crate::helpers::Session,
        request: &str,
        body: Value,
    ) -> crate::helpers::Resp {
        self.app
            .post(
                &format!("/prayer-requests/{request}/assignments"),
                Some(&by.token),
                body,
            )
            .await
    }

    async fn move_to(
        &self,
        by: &crate::helpers::Session,
        assignment: &Value,
        body: Value,
    ) -> crate::helpers::Resp {
        self.app
            .patch(
                &format!("/assignments/{}", assignment["id"].as_str().unwrap()),
                Some(&by.token),
                body,
            )
            .await
    }

    async fn can_read(&self, who: &crate::helpers::Session, request: &str) -> bool {
        match self
            .app
            .get(&format!("/prayer-requests/{request}"), Some(&who.token))
            .await
            .status
        {
            200 => true,
            404 => false,
            other => panic!("unexpected {other}"),
        }
    }
}

#[actix_web::test]
async fn leaders_assign_anything_team_leaders_only_their_team_members_nothing() {
    let c = church().await;
    let r = c.request("congregation", "Open").await;
    let a = c
        .assign(&c.leader, &r, json!({"team_id": c.nations}))
        .await
        .expect(201);
    assert_eq!(a["status"], "assigned");
    assert_eq!(a["team_id"], c.nations.as_str());
    assert_eq!(a["member_id"], Value::Null);
    assert_eq!(a["assigned_by"], c.leader.id.as_str());
    for key in [
        "id",
        "request_id",
        "team_id",
        "member_id",
        "status",
        "reason",
        "assigned_by",
        "created_at",
        "updated_at",
    ] {
        assert!(a.get(key).is_some(), "{key}");
    }
    c.assign(&c.leader, &r, json!({"member_id": c.nate.id}))
        .await
        .expect(201);
    let own_team = c
        .assign(&c.tom, &r, json!({"team_id": c.healing}))
        .await
        .expect(201);
    assert_eq!(own_team["team_id"], c.healing.as_str());
    let own_member = c
        .assign(&c.tom, &r, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    assert_eq!(
        own_member["team_id"],
        c.healing.as_str(),
        "assigned for the team they share"
    );
    c.assign(&c.tom, &r, json!({"team_id": c.nations}))
        .await
        .expect_problem(403);
    c.assign(&c.tom, &r, json!({"member_id": c.omar.id}))
        .await
        .expect_problem(403);
    c.assign(
        &c.tom,
        &r,
        json!({"member_id": c.ivy.id, "team_id": c.nations}),
    )
    .await
    .expect_invalid();
    c.assign(&c.hana, &r, json!({"member_id": c.ivy.id}))
        .await
        .expect_problem(403);
    c.assign(&c.omar, &r, json!({"team_id": c.healing}))
        .await
        .expect_problem(403);
    // Duplicates and nonsense.
    c.assign(&c.leader, &r, json!({"team_id": c.healing}))
        .await
        .expect_problem(409);
    c.assign(&c.leader, &r, json!({"member_id": c.hana.id}))
        .await
        .expect_problem(409);
    assert_eq!(
        c.assign(&c.leader, &r, json!({})).await.expect_invalid(),
        vec!["team_id"]
    );
    assert_eq!(
        c.assign(&c.leader, &r, json!({"team_id": "nope"}))
            .await
            .expect_invalid(),
        vec!["team_id"]
    );
    assert_eq!(
        c.assign(&c.leader, &r, json!({"member_id": "nope"}))
            .await
            .expect_invalid(),
        vec!["member_id"]
    );
}

#[actix_web::test]
async fn a_team_leader_cannot_assign_what_they_cannot_see() {
    let c = church().await;
    let hidden = c.request("leaders", "Confidential").await;
    c.assign(&c.tom, &hidden, json!({"team_id": c.healing}))
        .await
        .expect_problem(404);
    c.assign(&c.hana, &hidden, json!({"team_id": c.healing}))
        .await
        .expect_problem(404);
    c.assign(&c.leader, &hidden, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    // Still hidden from Tom: a leaders-only request reaches only who it is assigned to by name.
    assert!(!c.can_read(&c.tom, &hidden).await);
}

#[actix_web::test]
async fn the_assignee_accepts_declines_completes_and_the_assigner_or_a_leader_releases() {
    let c = church().await;
    let r1 = c.request("congregation", "One").await;
    let r2 = c.request("congregation", "Two").await;
    let a1 = c
        .assign(&c.tom, &r1, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    let a2 = c
        .assign(&c.tom, &r2, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    // Strangers to the assignment cannot even find it.
    c.move_to(&c.omar, &a1, json!({"status": "accepted"}))
        .await
        .expect_problem(404);
    c.move_to(&c.tom, &a1, json!({"status": "accepted"}))
        .await
        .expect_problem(403);
    c.move_to(&c.hana, &a1, json!({"status": "completed"}))
        .await
        .expect_problem(409);
    assert_eq!(
        c.move_to(&c.hana, &a1, json!({"status": "accepted"}))
            .await
            .expect(200)["status"],
        "accepted"
    );
    c.move_to(&c.hana, &a1, json!({"status": "declined", "reason": "x"}))
        .await
        .expect_problem(409);
    assert_eq!(
        c.move_to(&c.hana, &a1, json!({"status": "completed"}))
            .await
            .expect(200)["status"],
        "completed"
    );
    c.move_to(&c.tom, &a1, json!({"status": "released"}))
        .await
        .expect_problem(409);
    c.move_to(&c.hana, &a1, json!({"status": "assigned"}))
        .await
        .expect_problem(409);
    // Declining needs a reason, which the assigner reads and a bystander does not.
    assert_eq!(
        c.move_to(&c.hana, &a2, json!({"status": "declined"}))
            .await
            .expect_invalid(),
        vec!["reason"]
    );
    let declined = c
        .move_to(
            &c.hana,
            &a2,
            json!({"status": "declined", "reason": "I'm not sure I can carry more than one"}),
        )
        .await
        .expect(200);
    assert_eq!(declined["reason"], "I'm not sure I can carry more than one");
    let path = format!("/prayer-requests/{r2}/assignments");
    let as_tom = c.app.get(&path, Some(&c.tom.token)).await.expect(200);
    assert_eq!(
        as_tom["items"][0]["reason"],
        "I'm not sure I can carry more than one"
    );
    let as_omar = c.app.get(&path, Some(&c.omar.token)).await.expect(200);
    assert_eq!(as_omar["items"][0]["status"], "declined");
    assert_eq!(as_omar["items"][0]["reason"], Value::Null);
    // Release: the assigner or a leader, not the assignee.
    let a3 = c
        .assign(&c.tom, &r2, json!({"member_id": c.ivy.id}))
        .await
        .expect(201);
    c.move_to(&c.ivy, &a3, json!({"status": "released"}))
        .await
        .expect_problem(403);
    assert_eq!(
        c.move_to(&c.tom, &a3, json!({"status": "released"}))
            .await
            .expect(200)["status"],
        "released"
    );
    let a4 = c
        .assign(&c.tom, &r2, json!({"member_id": c.ivy.id}))
        .await
        .expect(201);
    c.move_to(&c.ivy, &a4, json!({"status": "accepted"}))
        .await
        .expect(200);
    assert_eq!(
        c.move_to(&c.leader, &a4, json!({"status": "released"}))
            .await
            .expect(200)["status"],
        "released"
    );
    assert_eq!(
        c.move_to(&c.leader, &a4, json!({"status": "finished"}))
            .await
            .expect_invalid(),
        vec!["status"]
    );
}

#[actix_web::test]
async fn a_team_assignment_is_accepted_by_that_teams_leader() {
    let c = church().await;
    let r = c.request("team", "For the team").await;
    let a = c
        .assign(&c.leader, &r, json!({"team_id": c.healing}))
        .await
        .expect(201);
    c.move_to(&c.hana, &a, json!({"status": "accepted"}))
        .await
        .expect_problem(404);
    c.move_to(&c.tia, &a, json!({"status": "accepted"}))
        .await
        .expect_problem(404);
    assert_eq!(
        c.move_to(&c.tom, &a, json!({"status": "accepted"}))
            .await
            .expect(200)["status"],
        "accepted"
    );
}

#[actix_web::test]
async fn no_one_is_given_more_than_their_limit() {
    let c = church().await;
    c.app
        .patch(
            "/me",
            Some(&c.hana.token),
            json!({"max_active_assignments": 1}),
        )
        .await
        .expect(200);
    let r1 = c.request("congregation", "One").await;
    let r2 = c.request("congregation", "Two").await;
    let a1 = c
        .assign(&c.leader, &r1, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    let full = c
        .assign(&c.leader, &r2, json!({"member_id": c.hana.id}))
        .await
        .expect_problem(409);
    assert!(full["detail"].as_str().unwrap().contains("limit"));
    c.move_to(&c.hana, &a1, json!({"status": "accepted"}))
        .await
        .expect(200);
    c.assign(&c.leader, &r2, json!({"member_id": c.hana.id}))
        .await
        .expect_problem(409);
    c.move_to(&c.hana, &a1, json!({"status": "completed"}))
        .await
        .expect(200);
    c.assign(&c.leader, &r2, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    // A limit of zero means "not now".
    c.app
        .patch(
            "/me",
            Some(&c.ivy.token),
            json!({"max_active_assignments": 0}),
        )
        .await
        .expect(200);
    c.assign(&c.tom, &r1, json!({"member_id": c.ivy.id}))
        .await
        .expect_problem(409);
}

#[actix_web::test]
async fn simultaneous_assignments_to_a_member_with_room_for_one_leave_exactly_one() {
    let c = church().await;
    let (rounds, n) = if is_postgres() { (2, 20) } else { (2, 6) };
    let mut requests = Vec::new();
    for i in 0..n {
        requests.push(c.request("congregation", &format!("R{i}")).await);
    }
    // Each round: a member with room for one, and every request assigned to them at once.
    for round in 0..rounds {
        let intercessor = c.app.member(&format!("Round{round}")).await;
        c.app
            .patch(
                "/me",
                Some(&intercessor.token),
                json!({"max_active_assignments": 1}),
            )
            .await
            .expect(200);
        let attempts = requests
            .iter()
            .map(|r| c.assign(&c.leader, r, json!({"member_id": intercessor.id})))
            .collect();
        let lock = c.app.hold_writes("assignments").await;
        let results = line_up(lock, attempts).await;
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        let created = statuses.iter().filter(|s| **s == 201).count();
        let refused = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!(
            (created, refused),
            (1, n - 1),
            "round {round}: {statuses:?}"
        );
        let mine = c
            .app
            .get("/me/assignments?status=assigned", Some(&intercessor.token))
            .await
            .expect(200);
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    }
}

#[actix_web::test]
async fn auto_assign_picks_the_least_loaded_fairly_and_skips_the_full_and_the_unwilling() {
    let c = church().await;
    // Healing: Tom (team leader), Hana, Ivy. Add Omar and Rita's friend Paul.
    let paul = c.app.member("Paul").await;
    for who in [&c.omar, &paul] {
        c.app
            .put(
                &format!("/teams/{}/members/{}", c.healing, who.id),
                Some(&c.tom.token),
                json!({"team_role": "member"}),
            )
            .await
            .expect(201);
    }
    let earlier = c.request("congregation", "Earlier").await;
    // Hana carries one already; Ivy is full; Paul declined the request in question.
    c.assign(&c.leader, &earlier, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    c.app
        .patch(
            "/me",
            Some(&c.ivy.token),
            json!({"max_active_assignments": 0}),
        )
        .await
        .expect(200);
    let target = c.request("congregation", "Target").await;
    let declined = c
        .assign(&c.leader, &target, json!({"member_id": paul.id}))
        .await
        .expect(201);
    c.move_to(
        &paul,
        &declined,
        json!({"status": "declined", "reason": "Too close to home"}),
    )
    .await
    .expect(200);
    // Tom and Omar carry nothing, Omar was never assigned, Tom neither: ties go by id order
    // after "least recently assigned". Assign Tom something earlier to make Omar the fairer pick.
    let other = c.request("congregation", "Other").await;
    let t = c
        .assign(&c.leader, &other, json!({"member_id": c.tom.id}))
        .await
        .expect(201);
    c.move_to(&c.tom, &t, json!({"status": "accepted"}))
        .await
        .expect(200);
    c.move_to(&c.tom, &t, json!({"status": "completed"}))
        .await
        .expect(200);

    let auto = |by: &crate::helpers::Session, count: i64| {
        let path = format!("/prayer-requests/{target}/assignments/auto");
        let token = by.token.clone();
        let body = json!({"team_id": c.healing, "count": count});
        let app = &c.app;
        async move { app.post(&path, Some(&token), body).await }
    };
    auto(&c.hana, 1).await.expect_problem(403);
    auto(&c.tia, 1).await.expect_problem(403);
    // Candidates: Omar (0 live, never assigned), Tom (0 live, assigned before), Hana (1 live).
    let too_many = auto(&c.tom, 4).await.expect_problem(409);
    assert_eq!(too_many["available"], 3);
    let nothing = c
        .app
        .get(
            &format!("/prayer-requests/{target}/assignments"),
            Some(&c.leader.token),
        )
        .await
        .expect(200);
    assert_eq!(
        nothing["items"].as_array().unwrap().len(),
        1,
        "all or nothing: only Paul's decline"
    );
    let placed = auto(&c.tom, 2).await.expect(201);
    let picked: Vec<&str> = placed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["member_id"].as_str().unwrap())
        .collect();
    assert_eq!(picked, vec![c.omar.id.as_str(), c.tom.id.as_str()]);
    assert!(placed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["team_id"] == c.healing.as_str()));
    let last = auto(&c.leader, 1).await.expect(201);
    assert_eq!(last["items"][0]["member_id"], c.hana.id.as_str());
    let none_left = auto(&c.leader, 1).await.expect_problem(409);
    assert_eq!(none_left["available"], 0);
    assert_eq!(auto(&c.leader, 0).await.expect_invalid(), vec!["count"]);
}

#[actix_web::test]
async fn an_intercessor_assigned_by_name_reads_a_confidential_request_only_while_it_is_live() {
    let c = church().await;
    let r = c.request("leaders", "Confidential").await;
    assert!(!c.can_read(&c.hana, &r).await);
    let a = c
        .assign(&c.leader, &r, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    assert!(c.can_read(&c.hana, &r).await);
    let mine = c
        .app
        .get("/prayer-requests?assigned_to_me=true", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert!(!c.can_read(&c.ivy, &r).await, "her teammates do not");
    c.app
        .post(
            &format!("/prayer-requests/{r}/prayers"),
            Some(&c.hana.token),
            json!({}),
        )
        .await
        .expect(201);
    c.move_to(&c.hana, &a, json!({"status": "accepted"}))
        .await
        .expect(200);
    assert!(c.can_read(&c.hana, &r).await);
    let listed = c
        .app
        .get("/me/assignments", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["request"]["title"], "Confidential");
    c.move_to(&c.hana, &a, json!({"status": "completed"}))
        .await
        .expect(200);
    assert!(
        !c.can_read(&c.hana, &r).await,
        "the hand-over ends with the assignment"
    );
    let listed = c
        .app
        .get("/me/assignments", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["status"], "completed");
    assert_eq!(listed["items"][0]["request"], Value::Null);
    let mine = c
        .app
        .get("/prayer-requests?assigned_to_me=true", Some(&c.hana.token))
        .await
        .expect(200);
    assert!(mine["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn a_team_request_reaches_the_team_it_is_assigned_to_and_no_other() {
    let c = church().await;
    let r = c.request("team", "Team matter").await;
    for who in [&c.hana, &c.ivy, &c.tom, &c.nate] {
        assert!(!c.can_read(who, &r).await);
    }
    let a = c
        .assign(&c.leader, &r, json!({"team_id": c.healing}))
        .await
        .expect(201);
    for who in [&c.hana, &c.ivy, &c.tom] {
        assert!(c.can_read(who, &r).await);
    }
    assert!(!c.can_read(&c.nate, &r).await);
    assert!(!c.can_read(&c.omar, &r).await);
    let by_team = c
        .app
        .get(
            &format!("/prayer-requests?team_id={}", c.healing),
            Some(&c.hana.token),
        )
        .await
        .expect(200);
    assert_eq!(by_team["items"].as_array().unwrap().len(), 1);
    c.move_to(&c.leader, &a, json!({"status": "released"}))
        .await
        .expect(200);
    assert!(!c.can_read(&c.hana, &r).await);
}

/// The edges of the "through an assignment" audiences: a team assignment opens only a `team`
/// request (never a `leaders` one) to the team; an intercessor picked for a team opens a `team`
/// request to themselves, not to their teammates; and a live assignment of someone else opens
/// nothing to the caller.
#[actix_web::test]
async fn a_team_assignment_opens_only_team_requests_and_a_named_one_only_its_intercessor() {
    let c = church().await;
    let confidential = c.request("leaders", "Leaders only").await;
    c.assign(&c.leader, &confidential, json!({"team_id": c.healing}))
        .await
        .expect(201);
    for who in [&c.hana, &c.ivy, &c.tom] {
        assert!(
            !c.can_read(who, &confidential).await,
            "a team assignment does not open a leaders request"
        );
    }

    let picked = c.request("team", "Picked for the team").await;
    let made = c
        .app
        .post(
            &format!("/prayer-requests/{picked}/assignments/auto"),
            Some(&c.leader.token),
            json!({"team_id": c.healing, "count": 1}),
        )
        .await
        .expect(201);
    let chosen = made["items"][0]["member_id"]
        .as_str()
        .expect("one intercessor picked")
        .to_string();
    let healing = [&c.hana, &c.ivy, &c.tom];
    let (ours, theirs): (Vec<_>, Vec<_>) = healing.iter().partition(|s| s.id == chosen);
    assert_eq!(ours.len(), 1, "the intercessor picked is in the team");
    assert!(c.can_read(ours[0], &picked).await);
    for who in theirs {
        assert!(
            !c.can_read(who, &picked).await,
            "an intercessor picked for a team does not open the request to the team"
        );
    }
    assert!(!c.can_read(&c.nate, &picked).await);
}

#[actix_web::test]
async fn deleting_a_team_releases_its_assignments_and_keeps_their_history() {
    let c = church().await;
    let r = c.request("team", "Team matter").await;
    c.assign(&c.leader, &r, json!({"team_id": c.healing}))
        .await
        .expect(201);
    c.assign(&c.tom, &r, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    assert!(c.can_read(&c.ivy, &r).await);
    c.app
        .delete(&format!("/teams/{}", c.healing), Some(&c.tom.token))
        .await
        .expect(204);
    assert!(!c.can_read(&c.ivy, &r).await);
    let history = c
        .app
        .get(
            &format!("/prayer-requests/{r}/assignments"),
            Some(&c.leader.token),
        )
        .await
        .expect(200);
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|a| a["status"] == "released" && a["team_id"] == c.healing.as_str()));
}

#[actix_web::test]
async fn the_team_dashboard_puts_the_unprayed_for_first_and_shows_only_what_the_caller_may_see() {
    let c = church().await;
    let prayed = c.request("congregation", "Prayed for").await;
    let forgotten = c.request("team", "Forgotten").await;
    let secret = c.request("leaders", "Secret").await;
    c.assign(&c.leader, &prayed, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    c.assign(&c.leader, &forgotten, json!({"team_id": c.healing}))
        .await
        .expect(201);
    c.assign(&c.leader, &secret, json!({"member_id": c.ivy.id}))
        .await
        .expect(201);
    c.app
        .call(
            Method::POST,
            &format!("/prayer-requests/{prayed}/prayers"),
            Some(&c.hana.token),
            None,
        )
        .await
        .expect(201);
    let path = format!("/teams/{}/assignments", c.healing);
    for who in [&c.hana, &c.tia, &c.omar] {
        c.app.get(&path, Some(&who.token)).await.expect_problem(403);
    }
    let board = c.app.get(&path, Some(&c.tom.token)).await.expect(200);
    let items = board["items"].as_array().unwrap();
    let titles: Vec<&str> = items
        .iter()
        .map(|i| i["request"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec!["Forgotten", "Prayed for"],
        "the secret one is not Tom's to see"
    );
    assert_eq!(items[0]["needs_attention"], true);
    assert_eq!(items[0]["prayer_count"], 0);
    assert_eq!(items[0]["assignees"][0]["member"], Value::Null);
    assert_eq!(items[1]["needs_attention"], false);
    assert_eq!(items[1]["prayer_count"], 1);
    assert_eq!(items[1]["assignees"][0]["member"]["display_name"], "Hana");
    assert!(items[1]["last_prayed_at"].is_string());
    let board = c.app.get(&path, Some(&c.leader.token)).await.expect(200);
    assert_eq!(board["items"].as_array().unwrap().len(), 3);
    let page = c
        .app
        .get(&format!("{path}?limit=1"), Some(&c.leader.token))
        .await
        .expect(200);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = c
        .app
        .get(
            &format!("{path}?limit=5&cursor={cursor}"),
            Some(&c.leader.token),
        )
        .await
        .expect(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn my_assignments_filter_by_status() {
    let c = church().await;
    let r1 = c.request("congregation", "One").await;
    let r2 = c.request("congregation", "Two").await;
    let a1 = c
        .assign(&c.leader, &r1, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    c.assign(&c.leader, &r2, json!({"member_id": c.hana.id}))
        .await
        .expect(201);
    c.move_to(&c.hana, &a1, json!({"status": "accepted"}))
        .await
        .expect(200);
    let all = c
        .app
        .get("/me/assignments", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let accepted = c
        .app
        .get("/me/assignments?status=accepted", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(accepted["items"].as_array().unwrap().len(), 1);
    assert_eq!(accepted["items"][0]["request"]["title"], "One");
    assert_eq!(
        c.app
            .get("/me/assignments?status=done", Some(&c.hana.token))
            .await
            .expect_invalid(),
        vec!["status"]
    );
    let none = c
        .app
        .get("/me/assignments", Some(&c.omar.token))
        .await
        .expect(200);
    assert!(none["items"].as_array().unwrap().is_empty());
}
