//! The email channel, against a real SMTP server on loopback ([`crate::mail`]): the message
//! that crossed the socket is the one inspected.

use std::time::Duration;

use chrono::{Timelike, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Session, TestApp};
use crate::mail::{Mail, MailServer};
use crate::teams::{church_in, Church};

/// A church whose service sends email to `mail`.
pub async fn church_with_mail(mail: &MailServer) -> Church {
    church_in(spawn_app_with(|c| mail.configure(c)).await).await
}

fn address(name: &str) -> String {
    format!("{}@example.org", name.to_lowercase())
}

async fn new_request(app: &TestApp, by: &Session, fields: Value) -> String {
    app.create_request(&by.token, fields).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn assign(app: &TestApp, by: &Session, request: &str, member: &Session) {
    app.post(
        &format!("/prayer-requests/{request}/assignments"),
        Some(&by.token),
        json!({"member_id": member.id}),
    )
    .await
    .expect(201);
}

/// The admin's delivery log for one member and channel.
async fn deliveries(c: &Church, member: &Session, channel: &str) -> Vec<Value> {
    c.app
        .get(
            &format!(
                "/notification-deliveries?channel={channel}&member_id={}",
                member.id
            ),
            Some(&c.admin.token),
        )
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits (at most 10 s) until the member's only delivery on `channel` has left `pending` or
/// `sending` with at least `attempts` attempts, and returns it.
async fn settled_delivery(c: &Church, member: &Session, channel: &str, attempts: i64) -> Value {
    let start = std::time::Instant::now();
    loop {
        let items = deliveries(c, member, channel).await;
        if let Some(d) = items.first() {
            let done = d["status"] != "sending" && d["attempts"].as_i64().unwrap() >= attempts;
            if done || start.elapsed() > Duration::from_secs(10) {
                return d.clone();
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn token_of(mail: &Mail) -> String {
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    let url = header.trim_matches(['<', '>']);
    url.rsplit('/').next().unwrap().to_string()
}

#[actix_web::test]
async fn an_assignment_is_emailed_as_text_and_html_with_a_stable_id_and_one_click_unsubscribe() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    let r = new_request(
        &c.app,
        &c.rita,
        json!({"visibility": "congregation", "title": "Healing for Anna", "body": "A private body text"}),
    )
    .await;
    assign(&c.app, &c.leader, &r, &c.omar).await;
    let got = mail.wait_for(&address("Omar"), 1).await;
    assert_eq!(got.len(), 1, "one email to Omar");
    let m = &got[0];
    assert_eq!(m.from, "prayer@example.org");
    assert_eq!(m.subject(), "New assignment");
    assert!(m.text().contains("Dear Omar"), "{}", m.text());
    assert!(
        m.text()
            .contains("You were asked to pray for \u{201c}Healing for Anna\u{201d}."),
        "{}",
        m.text()
    );
    assert!(m
        .text()
        .contains(&format!("http://127.0.0.1:8080/api/v1/prayer-requests/{r}")));
    assert!(m.html().contains("Healing for Anna"), "{}", m.html());
    assert!(m
        .html()
        .contains("<a href=\"http://127.0.0.1:8080/api/v1/prayer-requests/"));
    assert!(
        m.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative"),
        "{:?}",
        m.header("Content-Type")
    );
    assert!(!m.everything().contains("A private body text"));
    // The Message-ID is the delivery's id, so the log names the message a mail system saw.
    let sent = settled_delivery(&c, &c.omar, "email", 1).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(
        m.header("Message-ID").unwrap(),
        format!("<{}@example.org>", sent["id"].as_str().unwrap())
    );
    // Nobody else was emailed: the leader made the change, Rita wrote the request.
    assert_eq!(mail.received().len(), 1);
    assert_eq!(
        m.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let header = m.header("List-Unsubscribe").unwrap();
    assert!(
        header.starts_with("<http://127.0.0.1:8080/api/v1/unsubscribe/"),
        "{header}"
    );

    // One click, as a mail program makes it (RFC 8058): a form POST, no session.
    let token = token_of(m);
    let resp = c
        .app
        .raw(
            awc::http::Method::POST,
            &format!("/unsubscribe/{token}"),
            &[("content-type", "application/x-www-form-urlencoded")],
            b"List-Unsubscribe=One-Click".to_vec(),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text());
    let prefs = c
        .app
        .get("/me/notification-preferences", Some(&c.omar.token))
        .await
        .expect(200);
    assert_eq!(prefs["email"]["assignment.created"], false);
    assert_eq!(prefs["email"]["request.update"], true);
    assert_eq!(prefs["in_app"]["assignment.created"], true);
    // The next assignment reaches the inbox and not the mailbox.
    let r2 = new_request(&c.app, &c.rita, json!({"visibility": "congregation"})).await;
    assign(&c.app, &c.leader, &r2, &c.omar).await;
    let inbox = crate::notifications::inbox(&c.app, &c.omar, 2).await;
    assert_eq!(inbox.len(), 2);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(mail.wait_for(&address("Omar"), 1).await.len(), 1);
    let dropped: Vec<Value> = deliveries(&c, &c.omar, "email")
        .await
        .into_iter()
        .filter(|d| d["status"] == "dropped")
        .collect();
    assert_eq!(dropped.len(), 1, "the second email was dropped, not sent");
    // Unknown and altered tokens are 404, and change nothing.
    c.app
        .post("/unsubscribe/not-a-token", None, json!({}))
        .await
        .expect_problem(404);
    let (payload, tag) = token.split_once('.').unwrap();
    let mut altered = tag.to_string();
    altered.replace_range(0..1, if tag.starts_with('A') { "B" } else { "A" });
    c.app
        .post(
            &format!("/unsubscribe/{payload}.{altered}"),
            None,
            json!({}),
        )
        .await
        .expect_problem(404);
}

#[actix_web::test]
async fn a_confidential_request_is_never_named_and_discreet_email_says_only_what_happened() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    // A leaders-only request, urgent: the leader is told, without its title.
    let secret = new_request(
        &c.app,
        &c.rita,
        json!({"visibility": "leaders", "urgent": true, "title": "Marriage in crisis", "body": "Details nobody may read"}),
    )
    .await;
    let got = mail.wait_for(&address("Lea"), 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject(), "Urgent prayer request");
    assert!(
        got[0].text().contains("a confidential request"),
        "{}",
        got[0].text()
    );
    assert!(got[0].text().contains(&secret));
    assert!(!got[0].everything().contains("Marriage in crisis"));
    assert!(!got[0].everything().contains("Details nobody may read"));

    // Discreet: the email says what kind of thing happened and links to it; the inbox in the
    // app, behind the member's sign-in, still says which request.
    c.app
        .put(
            "/me/notification-preferences",
            Some(&c.omar.token),
            json!({"discreet": true}),
        )
        .await
        .expect(200);
    let r = new_request(
        &c.app,
        &c.rita,
        json!({"visibility": "congregation", "title": "Healing for Anna"}),
    )
    .await;
    assign(&c.app, &c.leader, &r, &c.omar).await;
    let got = mail.wait_for(&address("Omar"), 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject(), "New assignment");
    assert!(
        got[0]
            .text()
            .contains("You have a new notification: new assignment."),
        "{}",
        got[0].text()
    );
    assert!(got[0]
        .text()
        .contains(&format!("/api/v1/prayer-requests/{r}")));
    assert!(!got[0].everything().contains("Healing for Anna"));
    let inbox = crate::notifications::inbox(&c.app, &c.omar, 1).await;
    assert!(inbox[0]["body"]
        .as_str()
        .unwrap()
        .contains("Healing for Anna"));
}

/// A 4xx answer is tried again on the schedule (about 5 s), with the same `Message-ID`; a 5xx
/// answer is final.
#[actix_web::test]
async fn a_refused_email_is_retried_with_the_same_id_and_a_rejected_one_is_not() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    mail.refuse(451, 1);
    let r = new_request(&c.app, &c.rita, json!({"visibility": "congregation"})).await;
    assign(&c.app, &c.leader, &r, &c.omar).await;
    let first = settled_delivery(&c, &c.omar, "email", 1).await;
    assert_eq!(first["status"], "pending", "{first}");
    assert!(
        first["last_error"].as_str().unwrap().contains("451"),
        "{first}"
    );
    assert!(mail.received().is_empty());
    let got = mail.wait_for(&address("Omar"), 1).await;
    assert_eq!(got.len(), 1, "sent on the second attempt");
    let sent = settled_delivery(&c, &c.omar, "email", 2).await;
    assert_eq!(sent["status"], "sent");
    assert_eq!(sent["attempts"], 2);
    assert_eq!(
        got[0].header("Message-ID").unwrap(),
        format!("<{}@example.org>", first["id"].as_str().unwrap())
    );

    mail.refuse(550, 1);
    let r = new_request(&c.app, &c.rita, json!({"visibility": "congregation"})).await;
    assign(&c.app, &c.leader, &r, &c.ivy).await;
    let failed = settled_delivery(&c, &c.ivy, "email", 1).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("550"));
    actix_web::rt::time::sleep(Duration::from_millis(6000)).await;
    assert!(mail.wait_for(&address("Ivy"), 0).await.is_empty());
    assert_eq!(
        settled_delivery(&c, &c.ivy, "email", 1).await["attempts"],
        1
    );
}

/// The outbox row of an email, read from the database.
async fn email_row(app: &TestApp, member_id: &str) -> (String, i32, chrono::NaiveDateTime) {
    use intercede::db::schema::outbox;
    let db = crate::helpers::connect(&app.config.database_url);
    let member_id = member_id.to_string();
    db.read(move |conn| {
        Ok(outbox::table
            .filter(outbox::member_id.eq(member_id))
            .filter(outbox::channel.eq("email"))
            .select((outbox::state, outbox::attempts, outbox::run_at))
            .first::<(String, i32, chrono::NaiveDateTime)>(conn)?)
    })
    .await
    .expect("an email row")
}

/// Quiet hours, read in the member's own zone: email waits until they end (the attempt not
/// counted), the in-app notification does not, and an urgent request does not wait.
#[actix_web::test]
async fn email_waits_for_the_end_of_quiet_hours_except_for_an_urgent_request() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    // Omar lives in Tokyo (UTC+9, no daylight saving); his quiet hours began an hour ago there
    // and end in two hours.
    c.app
        .patch(
            "/me",
            Some(&c.omar.token),
            json!({"timezone": "Asia/Tokyo"}),
        )
        .await
        .expect(200);
    let tokyo_hour = (Utc::now().hour() + 9) % 24;
    let hhmm = |h: u32| format!("{:02}:00", h % 24);
    c.app
        .put(
            "/me/notification-preferences",
            Some(&c.omar.token),
            json!({"quiet_hours": {"start": hhmm(tokyo_hour + 23), "end": hhmm(tokyo_hour + 2)}}),
        )
        .await
        .expect(200);
    let r = new_request(&c.app, &c.rita, json!({"visibility": "congregation"})).await;
    assign(&c.app, &c.leader, &r, &c.omar).await;
    assert_eq!(
        crate::notifications::inbox(&c.app, &c.omar, 1).await.len(),
        1
    );
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(mail.wait_for(&address("Omar"), 0).await.is_empty());
    let (state, attempts, run_at) = email_row(&c.app, &c.omar.id).await;
    assert_eq!(state, "pending");
    assert_eq!(attempts, 0, "waiting is not a failed attempt");
    let end_utc = (tokyo_hour + 2 + 24 - 9) % 24;
    assert_eq!(run_at.hour(), end_utc, "{run_at}");
    assert_eq!(run_at.minute(), 0);
    let ahead = run_at - intercede::clock::Clock::real().now();
    assert!(
        ahead > chrono::Duration::minutes(59) && ahead <= chrono::Duration::hours(2),
        "{ahead}"
    );

    // An urgent request is emailed at once, quiet hours or not (Omar carries it as a leader
    // would see it: make him one).
    let omar = c
        .app
        .change_member(&c.admin, &c.omar.id, json!({"role": "leader"}))
        .await;
    assert_eq!(omar["role"], "leader");
    new_request(
        &c.app,
        &c.rita,
        json!({"visibility": "congregation", "urgent": true}),
    )
    .await;
    let got = mail.wait_for(&address("Omar"), 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject(), "Urgent prayer request");
}

#[actix_web::test]
async fn readiness_says_whether_email_is_configured() {
    let mail = MailServer::start();
    let c = church_with_mail(&mail).await;
    let ready = c.app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["smtp_configured"], true);
    let plain = crate::helpers::spawn_app().await;
    let ready = plain.get("/readyz", None).await.expect(200);
    assert_eq!(ready["smtp_configured"], false);
}

/// With no SMTP configured, no email is written to the outbox at all.
#[actix_web::test]
async fn without_smtp_no_email_is_owed() {
    let c = crate::teams::church().await;
    let r = new_request(&c.app, &c.rita, json!({"visibility": "congregation"})).await;
    assign(&c.app, &c.leader, &r, &c.omar).await;
    assert_eq!(
        crate::notifications::inbox(&c.app, &c.omar, 1).await.len(),
        1
    );
    assert!(deliveries(&c, &c.omar, "email").await.is_empty());
    assert_eq!(deliveries(&c, &c.omar, "in_app").await.len(), 1);
}
