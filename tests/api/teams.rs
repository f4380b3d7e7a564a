//! Teams and memberships, with per-team roles.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, Session, TestApp};

pub struct Church {
    pub app: TestApp,
    pub admin: Session,
    pub leader: Session,
    /// Team leader of Healing.
    pub tom: Session,
    /// Team leader of Nations.
    pub tia: Session,
    /// Members of Healing.
    pub hana: Session,
    pub ivy: Session,
    /// Member of Nations.
    pub nate: Session,
    /// Requester, in no team.
    pub rita: Session,
    /// In no team.
    pub omar: Session,
    pub healing: String,
    pub nations: String,
}

pub async fn church() -> Church {
    church_in(spawn_app().await).await
}

/// The same church in an app started by the caller (with its own configuration).
pub async fn church_in(app: TestApp) -> Church {
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let mut people = Vec::new();
    for name in ["Tom", "Tia", "Hana", "Ivy", "Nate", "Rita", "Omar"] {
        people.push(app.member(name).await);
    }
    let [tom, tia, hana, ivy, nate, rita, omar]: [Session; 7] = people.try_into().unwrap();
    let healing = app
        .post(
            "/teams",
            Some(&leader.token),
            json!({"name": "Healing", "description": "Prayer for the sick"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let nations = app
        .post("/teams", Some(&leader.token), json!({"name": "Nations"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |team: &str, who: &Session, role: &str| {
        let path = format!("/teams/{team}/members/{}", who.id);
        let token = leader.token.clone();
        let app = &app;
        let role = role.to_string();
        async move {
            app.put(&path, Some(&token), json!({"team_role": role}))
                .await
                .expect(201)
        }
    };
    put(&healing, &tom, "leader").await;
    put(&healing, &hana, "member").await;
    put(&healing, &ivy, "member").await;
    put(&nations, &tia, "leader").await;
    put(&nations, &nate, "member").await;
    Church {
        app,
        admin,
        leader,
        tom,
        tia,
        hana,
        ivy,
        nate,
        rita,
        omar,
        healing,
        nations,
    }
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member"]["display_name"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn leaders_create_teams_members_read_them() {
    let c = church().await;
    c.app
        .post("/teams", Some(&c.tom.token), json!({"name": "Youth"}))
        .await
        .expect_problem(403);
    c.app
        .post("/teams", Some(&c.leader.token), json!({"name": "healing"}))
        .await
        .expect_problem(409);
    let fields = c
        .app
        .post("/teams", Some(&c.leader.token), json!({"name": ""}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["name"]);
    let list = c.app.get("/teams", Some(&c.omar.token)).await.expect(200);
    let teams: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(teams, vec!["Healing", "Nations"]);
    assert_eq!(list["items"][0]["member_count"], 3);
    assert_eq!(list["items"][0]["my_team_role"], Value::Null);
    let as_tom = c
        .app
        .get(&format!("/teams/{}", c.healing), Some(&c.tom.token))
        .await
        .expect(200);
    assert_eq!(as_tom["my_team_role"], "leader");
    assert_eq!(as_tom["description"], "Prayer for the sick");
    let as_hana = c
        .app
        .get(&format!("/teams/{}", c.healing), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(as_hana["my_team_role"], "member");
    c.app
        .get("/teams/nope", Some(&c.hana.token))
        .await
        .expect_problem(404);
    c.app.get("/teams", None).await.expect_problem(401);
}

#[actix_web::test]
async fn a_team_leader_adds_members_to_their_own_team_but_appoints_no_team_leaders() {
    let c = church().await;
    let path = |team: &str, who: &Session| format!("/teams/{team}/members/{}", who.id);
    let added = c
        .app
        .put(
            &path(&c.healing, &c.omar),
            Some(&c.tom.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect(201);
    assert_eq!(added["member"]["display_name"], "Omar");
    assert_eq!(added["team_role"], "member");
    // Again: the same membership, 200.
    c.app
        .put(
            &path(&c.healing, &c.omar),
            Some(&c.tom.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect(200);
    c.app
        .put(
            &path(&c.healing, &c.ivy),
            Some(&c.tom.token),
            json!({"team_role": "leader"}),
        )
        .await
        .expect_problem(403);
    c.app
        .put(
            &path(&c.nations, &c.rita),
            Some(&c.tom.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect_problem(403);
    c.app
        .put(
            &path(&c.healing, &c.rita),
            Some(&c.hana.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect_problem(403);
    // Only a leader appoints a team leader.
    let promoted = c
        .app
        .put(
            &path(&c.healing, &c.ivy),
            Some(&c.leader.token),
            json!({"team_role": "leader"}),
        )
        .await
        .expect(200);
    assert_eq!(promoted["team_role"], "leader");
    // ...and only a leader demotes one.
    c.app
        .put(
            &path(&c.healing, &c.ivy),
            Some(&c.tom.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect_problem(403);
    c.app
        .put(
            &format!("/teams/{}/members/nobody", c.healing),
            Some(&c.leader.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect_problem(404);
    let fields = c
        .app
        .put(
            &path(&c.healing, &c.rita),
            Some(&c.leader.token),
            json!({"team_role": "captain"}),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["team_role"]);
}

#[actix_web::test]
async fn team_members_and_leaders_read_the_member_list_others_do_not() {
    let c = church().await;
    let path = format!("/teams/{}/members", c.healing);
    for who in [&c.hana, &c.tom, &c.leader, &c.admin] {
        let page = c.app.get(&path, Some(&who.token)).await.expect(200);
        let mut got = names(&page);
        got.sort();
        assert_eq!(got, vec!["Hana", "Ivy", "Tom"]);
    }
    for who in [&c.nate, &c.tia, &c.omar] {
        c.app.get(&path, Some(&who.token)).await.expect_problem(403);
    }
    let first = c
        .app
        .get(&format!("{path}?limit=2"), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = c
        .app
        .get(
            &format!("{path}?limit=2&cursor={cursor}"),
            Some(&c.hana.token),
        )
        .await
        .expect(200);
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn members_leave_team_leaders_remove_members_only_leaders_remove_team_leaders() {
    let c = church().await;
    let path = |who: &Session| format!("/teams/{}/members/{}", c.healing, who.id);
    c.app
        .delete(&path(&c.hana), Some(&c.nate.token))
        .await
        .expect_problem(403);
    c.app
        .delete(&path(&c.hana), Some(&c.tia.token))
        .await
        .expect_problem(403);
    c.app
        .delete(&path(&c.hana), Some(&c.hana.token))
        .await
        .expect(204);
    c.app
        .delete(&path(&c.hana), Some(&c.hana.token))
        .await
        .expect_problem(404);
    c.app
        .delete(&path(&c.ivy), Some(&c.tom.token))
        .await
        .expect(204);
    c.app
        .put(
            &path(&c.ivy),
            Some(&c.leader.token),
            json!({"team_role": "leader"}),
        )
        .await
        .expect(201);
    c.app
        .delete(&path(&c.ivy), Some(&c.tom.token))
        .await
        .expect_problem(403);
    c.app
        .delete(&path(&c.ivy), Some(&c.leader.token))
        .await
        .expect(204);
    c.app
        .delete(&path(&c.tom), Some(&c.tom.token))
        .await
        .expect(204);
    let team = c
        .app
        .get(&format!("/teams/{}", c.healing), Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(team["member_count"], 0);
}

#[actix_web::test]
async fn a_team_is_edited_and_deleted_by_its_team_leader_or_a_leader() {
    let c = church().await;
    let path = format!("/teams/{}", c.healing);
    for who in [&c.hana, &c.tia, &c.omar] {
        c.app
            .patch(&path, Some(&who.token), json!({"name": "X"}))
            .await
            .expect_problem(403);
        c.app
            .delete(&path, Some(&who.token))
            .await
            .expect_problem(403);
    }
    let renamed = c
        .app
        .patch(
            &path,
            Some(&c.tom.token),
            json!({"name": "Healing & Hope", "description": null}),
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "Healing & Hope");
    assert_eq!(renamed["description"], Value::Null);
    c.app
        .patch(&path, Some(&c.leader.token), json!({"name": "NATIONS"}))
        .await
        .expect_problem(409);
    c.app.delete(&path, Some(&c.tom.token)).await.expect(204);
    c.app
        .get(&path, Some(&c.leader.token))
        .await
        .expect_problem(404);
    // Its name is free again.
    c.app
        .post(
            "/teams",
            Some(&c.leader.token),
            json!({"name": "Healing & Hope"}),
        )
        .await
        .expect(201);
}
