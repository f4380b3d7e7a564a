//! Invitations and password reset, end to end through the email that crossed a real SMTP
//! server ([`crate::mail`]).

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::mail::MailServer;
use crate::teams::{church_in, Church};

async fn church_with_mail(mail: &MailServer) -> Church {
    church_in(spawn_app_with(|c| mail.configure(c)).await).await
}

/// The link of the one email to `address`, as a path (`/invitations/{token}`, without the
/// API's base).
async fn emailed_link(mail: &MailServer, address: &str, n: usize) -> String {
    let got = mail.wait_for(address, n).await;
    assert_eq!(got.len(), n, "{n} emails to {address}");
    got[n - 1]
        .link()
        .strip_prefix("/api/v1")
        .unwrap()
        .to_string()
}

async fn invite(c: &Church, by: &crate::helpers::Session, body: Value) -> crate::helpers::Resp {
    c.app.post("/invitations", Some(&by.token), body).await
}

#[actix_web::test]
async fn an_invitation_brings_a_new_intercessor_into_a_team_though_registration_is_closed() {
    let mail = MailServer::start();
    let app = spawn_app_with(|c| {
        mail.configure(c);
        c.registration = intercede::config::Registration::Closed;
    })
    .await;
    // A closed church: its admin is made on the command line, and nobody may register.
    let admin = app.admin("Ada").await;
    let healing = app
        .post("/teams", Some(&admin.token), json!({"name": "Healing"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let made = app
        .post(
            "/invitations",
            Some(&admin.token),
            json!({"email": "Grace@Example.org", "team_id": healing}),
        )
        .await
        .expect(201);
    assert_eq!(made["email"], "grace@example.org");
    assert_eq!(made["role"], "member");
    assert_eq!(made["team_id"], healing.as_str());
    assert_eq!(made["team_role"], "member");
    assert_eq!(made["status"], "pending");
    let expires: chrono::DateTime<chrono::Utc> =
        made["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires - chrono::Utc::now();
    assert!(ttl > chrono::Duration::hours(167) && ttl <= chrono::Duration::hours(168));

    let link = emailed_link(&mail, "grace@example.org", 1).await;
    assert!(link.starts_with("/invitations/"), "{link}");
    let email = &mail.wait_for("grace@example.org", 1).await[0];
    assert_eq!(email.subject(), "You are invited to pray with us");
    assert!(email.text().contains("Ada invited you"), "{}", email.text());
    assert!(email.text().contains("in the team Healing"));
    assert!(email.header("List-Unsubscribe").is_none());
    // The token is stored only as a hash: nowhere in the database as it was sent.
    let token = link.rsplit('/').next().unwrap().to_string();
    assert!(token.len() >= 43, "at least 256 bits: {token}");
    assert_eq!(count_text_anywhere(&app, &token).await, 0);

    // Following the link changes nothing, however often (mail scanners open links).
    for _ in 0..2 {
        let shown = app.get(&link, None).await.expect(200);
        assert_eq!(shown["email"], "grace@example.org");
        assert_eq!(shown["role"], "member");
        assert_eq!(shown["team"], json!({"id": healing, "name": "Healing"}));
    }
    let listed = app
        .get("/invitations?status=pending", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // Registration is closed, and the invitation still works.
    app
        .post(
            "/auth/register",
            None,
            json!({"email": "grace@example.org", "password": "a long password", "display_name": "Grace"}),
        )
        .await
        .expect_problem(403);
    let signed_in = app
        .post(
            &format!("{link}/accept"),
            None,
            json!({"display_name": "Grace", "password": "a long password", "timezone": "Africa/Lagos"}),
        )
        .await
        .expect(201);
    let token = signed_in["access_token"].as_str().unwrap();
    let me = app.get("/me", Some(token)).await.expect(200);
    assert_eq!(me["email"], "grace@example.org");
    assert_eq!(me["role"], "member");
    assert_eq!(me["timezone"], "Africa/Lagos");
    let team = app
        .get(&format!("/teams/{}/members", healing), Some(&admin.token))
        .await
        .expect(200);
    assert!(
        team["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["member"]["id"] == me["id"] && m["team_role"] == "member"),
        "{team}"
    );
    app.login("grace@example.org", "a long password")
        .await
        .expect(200);
    // Once only.
    app.post(
        &format!("{link}/accept"),
        None,
        json!({"display_name": "Grace again", "password": "another password"}),
    )
    .await
    .expect_problem(410);
    app.get(&link, None).await.expect_problem(410);
    let accepted = app
        .get("/invitations?status=accepted", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(accepted["items"][0]["status"], "accepted");
    app.get("/invitations/not-a-token", None)
        .await
        .expect_problem(404);
}

/// How many rows of the outbox and the invitations hold `text` anywhere.
async fn count_text_anywhere(app: &TestApp, text: &str) -> i64 {
    use diesel::prelude::*;
    use intercede::db::schema::{invitations, outbox};
    let db = crate::helpers::connect(&app.config.database_url);
    let pattern = format!("%{text}%");
    db.read(move |conn| {
        let a: i64 = outbox::table
            .filter(outbox::data.like(&pattern))
            .count()
            .get_result(conn)?;
        let b: i64 = invitations::table
            .filter(invitations::token_hash.like(&pattern))
            .count()
            .get_result(conn)?;
        Ok(a + b)
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn who_may_invite_whom() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    // A member may not invite; a team leader may, into their own team, as members only.
    invite(&c, &c.omar, json!({"email": "a@example.org"}))
        .await
        .expect_problem(403);
    invite(&c, &c.tom, json!({"email": "a@example.org"}))
        .await
        .expect_problem(403);
    invite(
        &c,
        &c.tom,
        json!({"email": "a@example.org", "team_id": c.nations}),
    )
    .await
    .expect_problem(403);
    invite(
        &c,
        &c.tom,
        json!({"email": "a@example.org", "team_id": c.healing, "role": "leader"}),
    )
    .await
    .expect_problem(403);
    let by_tom = invite(
        &c,
        &c.tom,
        json!({"email": "a@example.org", "team_id": c.healing, "team_role": "leader"}),
    )
    .await
    .expect(201);
    assert_eq!(by_tom["team_role"], "leader");
    // Only an admin invites a leader; nobody invites an admin.
    invite(
        &c,
        &c.leader,
        json!({"email": "b@example.org", "role": "leader"}),
    )
    .await
    .expect_problem(403);
    let leader = invite(
        &c,
        &c.admin,
        json!({"email": "b@example.org", "role": "leader"}),
    )
    .await
    .expect(201);
    assert_eq!(leader["role"], "leader");
    let bad = invite(
        &c,
        &c.admin,
        json!({"email": "c@example.org", "role": "admin"}),
    )
    .await
    .expect_invalid();
    assert_eq!(bad, vec!["role"]);
    let bad = invite(
        &c,
        &c.leader,
        json!({"email": "not an address", "team_role": "member"}),
    )
    .await
    .expect_invalid();
    assert_eq!(bad, vec!["email", "team_role"]);
    invite(
        &c,
        &c.leader,
        json!({"email": "d@example.org", "team_id": "no-such-team"}),
    )
    .await
    .expect_invalid();
    invite(
        &c,
        &c.leader,
        json!({"email": "d@example.org", "role": "pastor"}),
    )
    .await
    .expect_problem(422);
    // An address that is a member's already.
    let taken = invite(&c, &c.leader, json!({"email": "omar@example.org"}))
        .await
        .expect_problem(409);
    assert_eq!(taken["type"], "/problems/email-taken");
    // Leaders list; others may not.
    c.app
        .get("/invitations", Some(&c.tom.token))
        .await
        .expect_problem(403);
    let all = c
        .app
        .get("/invitations", Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);

    // Revoking: its inviter, or a leader; nobody else. The link dies (404).
    let link = emailed_link(&mail, "a@example.org", 1).await;
    let id = by_tom["id"].as_str().unwrap();
    c.app
        .delete(&format!("/invitations/{id}"), Some(&c.hana.token))
        .await
        .expect_problem(403);
    c.app
        .delete(&format!("/invitations/{id}"), Some(&c.tom.token))
        .await
        .expect(204);
    c.app.get(&link, None).await.expect_problem(404);
    c.app
        .post(
            &format!("{link}/accept"),
            None,
            json!({"display_name": "A", "password": "a long password"}),
        )
        .await
        .expect_problem(404);
    let revoked = c
        .app
        .get("/invitations?status=revoked", Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(revoked["items"][0]["id"], id);
}

#[actix_web::test]
async fn an_expired_invitation_is_gone_and_a_new_one_replaces_the_old() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    invite(&c, &c.leader, json!({"email": "e@example.org"}))
        .await
        .expect(201);
    let first = emailed_link(&mail, "e@example.org", 1).await;
    // Invited again: the first link dies, the second works.
    invite(&c, &c.leader, json!({"email": "e@example.org"}))
        .await
        .expect(201);
    let second = emailed_link(&mail, "e@example.org", 2).await;
    assert_ne!(first, second);
    c.app.get(&first, None).await.expect_problem(404);
    c.app.get(&second, None).await.expect(200);
    // A week passes.
    c.app
        .sql("UPDATE invitations SET expires_at = '2020-01-01 00:00:00'")
        .await;
    c.app.get(&second, None).await.expect_problem(410);
    c.app
        .post(
            &format!("{second}/accept"),
            None,
            json!({"display_name": "E", "password": "a long password"}),
        )
        .await
        .expect_problem(410);
    let expired = c
        .app
        .get("/invitations?status=expired", Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(expired["items"].as_array().unwrap().len(), 1);
    assert_eq!(expired["items"][0]["status"], "expired");
}

/// Eight people accept the same invitation at once: one member is made.
#[actix_web::test]
async fn an_invitation_accepted_many_times_at_once_makes_one_member() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    invite(&c, &c.leader, json!({"email": "f@example.org"}))
        .await
        .expect(201);
    let link = emailed_link(&mail, "f@example.org", 1).await;
    let accepts = (0..8).map(|i| {
        let (app, path) = (&c.app, format!("{link}/accept"));
        async move {
            app.post(
                &path,
                None,
                json!({"display_name": format!("F{i}"), "password": "a long password"}),
            )
            .await
            .status
        }
    });
    let statuses = futures_util::future::join_all(accepts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 410),
        "{statuses:?}"
    );
    let found = c
        .app
        .get("/members?q=f%40example.org", Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_password_is_reset_by_email_once_and_every_session_ends() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    let answer = c
        .app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "Omar@example.org"}),
        )
        .await;
    assert_eq!(answer.status, 202);
    let link = emailed_link(&mail, "omar@example.org", 1).await;
    assert!(link.starts_with("/auth/password-reset/"), "{link}");
    let email = &mail.wait_for("omar@example.org", 1).await[0];
    assert_eq!(email.subject(), "Reset your password");
    let shown = c.app.get(&link, None).await.expect(200);
    assert_eq!(shown["email"], "omar@example.org");
    let expires: chrono::DateTime<chrono::Utc> =
        shown["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires - chrono::Utc::now() <= chrono::Duration::hours(1));
    assert!(expires - chrono::Utc::now() > chrono::Duration::minutes(58));
    let weak = c
        .app
        .post(&link, None, json!({"new_password": "short"}))
        .await
        .expect_invalid();
    assert_eq!(weak, vec!["new_password"]);
    c.app
        .post(&link, None, json!({"new_password": "a brand new password"}))
        .await
        .expect(204);
    // Every session ended; the new password works, the old one does not.
    c.app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": c.omar.refresh_token}),
        )
        .await
        .expect_problem(401);
    c.app
        .login("omar@example.org", crate::helpers::PASSWORD)
        .await
        .expect_problem(401);
    c.app
        .login("omar@example.org", "a brand new password")
        .await
        .expect(200);
    // Once only; and the member is told by email.
    c.app
        .post(&link, None, json!({"new_password": "yet another password"}))
        .await
        .expect_problem(410);
    c.app.get(&link, None).await.expect_problem(410);
    let got = mail.wait_for("omar@example.org", 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].subject(), "Your password was changed");
    c.app
        .get("/auth/password-reset/not-a-token", None)
        .await
        .expect_problem(404);
}

/// A stranger's address gets the same answer as a member's, and the service does the same work
/// for it (one outbox row): the difference appears only later, in the worker, where the row is
/// dropped and nothing is sent.
#[actix_web::test]
async fn a_strangers_address_gets_the_same_answer_and_no_email() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    let member = c
        .app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "omar@example.org"}),
        )
        .await;
    let stranger = c
        .app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "nobody@example.org"}),
        )
        .await;
    assert_eq!((member.status, stranger.status), (202, 202));
    assert_eq!(member.body, stranger.body);
    assert_eq!(mail.wait_for("omar@example.org", 1).await.len(), 1);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(mail.wait_for("nobody@example.org", 0).await.is_empty());
    let log = c
        .app
        .get(
            "/notification-deliveries?channel=email",
            Some(&c.admin.token),
        )
        .await
        .expect(200);
    let resets: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "password.reset")
        .collect();
    assert_eq!(resets.len(), 2, "one row each: {log}");
    assert!(resets.iter().any(|d| d["status"] == "dropped"));
    assert!(resets.iter().any(|d| d["status"] == "sent"));
}

#[actix_web::test]
async fn a_newer_reset_link_ends_the_older_and_links_die_after_an_hour() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    for _ in 0..2 {
        c.app
            .post(
                "/auth/password-reset",
                None,
                json!({"email": "ivy@example.org"}),
            )
            .await;
        mail.wait_for("ivy@example.org", 1).await;
    }
    let got = mail.wait_for("ivy@example.org", 2).await;
    assert_eq!(got.len(), 2);
    let (older, newer) = (got[0].link(), got[1].link());
    let older = older.strip_prefix("/api/v1").unwrap();
    let newer = newer.strip_prefix("/api/v1").unwrap();
    c.app.get(older, None).await.expect_problem(410);
    c.app.get(newer, None).await.expect(200);
    c.app
        .sql("UPDATE password_resets SET expires_at = '2020-01-01 00:00:00'")
        .await;
    c.app.get(newer, None).await.expect_problem(410);
    c.app
        .post(newer, None, json!({"new_password": "a brand new password"}))
        .await
        .expect_problem(410);
}

#[actix_web::test]
async fn reset_requests_are_limited_per_address_and_per_client() {
    let mail = MailServer::start();
    let app = spawn_app_with(|c| {
        mail.configure(c);
        c.password_resets_per_hour = 2;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            app.post(
                "/auth/password-reset",
                None,
                json!({"email": "x@example.org"})
            )
            .await
            .status,
            202
        );
    }
    let limited = app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "x@example.org"}),
        )
        .await;
    limited.expect_problem(429);
    assert!(limited.header("retry-after").is_some());
    // From one client: four times the per-address limit, across addresses.
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(
            app.post(
                "/auth/password-reset",
                None,
                json!({"email": format!("y{i}@example.org")}),
            )
            .await
            .status,
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        5,
        "{statuses:?}"
    );
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "not an address"}),
    )
    .await
    .expect_invalid();
}

#[actix_web::test]
async fn changing_ones_password_sends_a_password_changed_email() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    c.app
        .post(
            "/me/password",
            Some(&c.nate.token),
            json!({"current_password": crate::helpers::PASSWORD, "new_password": "a brand new password"}),
        )
        .await
        .expect(204);
    let got = mail.wait_for("nate@example.org", 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject(), "Your password was changed");
    assert!(got[0].header("List-Unsubscribe").is_none());
}
