//! A scripted church, with its own SMTP server and webhook receiver: a morning of requests,
//! assignments, prayers, updates, answers and a fast, and then every email that crossed the SMTP
//! socket, every webhook body the receiver got and every inbox notification read for what must
//! never leave: a request's body, a `leaders` request's title, an update's or comment's text, a
//! decline's reason, a testimony, a prayer's or a fast check-in's note, and who asked an
//! anonymous request.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::spawn_app_with;
use crate::mail::MailServer;
use crate::receiver::Receiver;
use crate::teams::church_in;

const SECRETS: &[&str] = &[
    "SECRET-BODY-ONE",
    "SECRET-BODY-TWO",
    "SECRET-TITLE-LEADERS",
    "SECRET-BODY-ANON",
    "SECRET-UPDATE",
    "SECRET-COMMENT",
    "SECRET-REASON",
    "SECRET-TESTIMONY",
    "SECRET-PRAYER-NOTE",
    "SECRET-FAST-NOTE",
];

#[actix_web::test]
async fn nothing_confidential_leaves_by_email_webhook_or_inbox() {
    let mail = MailServer::start();
    let c = church_in(
        spawn_app_with(|cfg| {
            mail.configure(cfg);
            cfg.webhook_allow_private = true;
        })
        .await,
    )
    .await;
    let hooks = Receiver::start();
    let events: Vec<&str> = vec![
        "assignment.created",
        "assignment.declined",
        "request.urgent",
        "request.update",
        "request.answered",
        "request.created",
        "prayer.logged",
        "signup.created",
        "signup.cancelled",
        "fast.check_in",
    ];
    c.app
        .post(
            "/webhooks",
            Some(&c.admin.token),
            json!({"url": hooks.url, "events": events}),
        )
        .await
        .expect(201);
    let post = |path: String, by: &crate::helpers::Session, body: Value| {
        let (app, token) = (&c.app, by.token.clone());
        async move { app.post(&path, Some(&token), body).await }
    };
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();

    // Three requests: an urgent congregation one, an urgent leaders-only one, an anonymous one.
    let open = id(&c
        .app
        .create_request(
            &c.rita.token,
            json!({"visibility": "congregation", "urgent": true, "title": "Healing for Anna",
                   "body": "SECRET-BODY-ONE", "allow_comments": true}),
        )
        .await);
    let secret = id(&c
        .app
        .create_request(
            &c.rita.token,
            json!({"visibility": "leaders", "urgent": true, "title": "SECRET-TITLE-LEADERS",
                   "body": "SECRET-BODY-TWO"}),
        )
        .await);
    let anon = id(&c
        .app
        .create_request(
            &c.rita.token,
            json!({"visibility": "congregation", "anonymous": true, "title": "A son",
                   "body": "SECRET-BODY-ANON"}),
        )
        .await);
    // Assignments: the confidential one to Omar by name, the others to the Healing team.
    post(
        format!("/prayer-requests/{secret}/assignments"),
        &c.leader,
        json!({"member_id": c.omar.id}),
    )
    .await
    .expect(201);
    for r in [&open, &anon] {
        post(
            format!("/prayer-requests/{r}/assignments"),
            &c.leader,
            json!({"team_id": c.healing}),
        )
        .await
        .expect(201);
    }
    let named = post(
        format!("/prayer-requests/{anon}/assignments"),
        &c.leader,
        json!({"member_id": c.nate.id}),
    )
    .await
    .expect(201);
    c.app
        .patch(
            &format!("/assignments/{}", id(&named)),
            Some(&c.nate.token),
            json!({"status": "declined", "reason": "SECRET-REASON"}),
        )
        .await
        .expect(200);
    // Prayers, with notes; updates and a comment; answers with a testimony.
    for (who, r) in [(&c.hana, &open), (&c.omar, &secret), (&c.ivy, &anon)] {
        post(
            format!("/prayer-requests/{r}/prayers"),
            who,
            json!({"note": "SECRET-PRAYER-NOTE"}),
        )
        .await
        .expect(201);
    }
    for r in [&open, &secret, &anon] {
        post(
            format!("/prayer-requests/{r}/updates"),
            &c.rita,
            json!({"body": "SECRET-UPDATE"}),
        )
        .await
        .expect(201);
    }
    post(
        format!("/prayer-requests/{open}/comments"),
        &c.hana,
        json!({"body": "SECRET-COMMENT"}),
    )
    .await
    .expect(201);
    for r in [&open, &secret, &anon] {
        post(
            format!("/prayer-requests/{r}/answer"),
            &c.rita,
            json!({"testimony": "SECRET-TESTIMONY", "share_testimony": true}),
        )
        .await
        .expect(200);
    }
    // A fast, and a check-in with a note.
    let fast = id(&post(
        "/fasts".into(),
        &c.leader,
        json!({"name": "Daniel fast", "fast_type": "daniel", "days": 21, "timezone": "UTC",
               "starts_on": chrono::Utc::now().date_naive().to_string()}),
    )
    .await
    .expect(201));
    post(format!("/fasts/{fast}/participants"), &c.ivy, json!({}))
        .await
        .expect(201);
    post(
        format!("/fasts/{fast}/check-ins"),
        &c.ivy,
        json!({"day": 1, "kept": "yes", "note": "SECRET-FAST-NOTE"}),
    )
    .await
    .expect(201);

    // Everything owed is delivered (reminders due later, such as the fast's check-in reminders
    // of the days to come, are not owed yet).
    let db = crate::helpers::connect(&c.app.config.database_url);
    let start = Instant::now();
    loop {
        let now = intercede::clock::Clock::real().now();
        let owed = db
            .read(move |conn| {
                use diesel::prelude::*;
                use intercede::db::schema::{outbox, outbox_news};
                let rows = outbox::table
                    .filter(outbox::state.eq_any(["pending", "sending"]))
                    .filter(outbox::run_at.le(now))
                    .count()
                    .get_result::<i64>(conn)?;
                // News not yet addressed to their members are owed too.
                Ok(rows + outbox_news::table.count().get_result::<i64>(conn)?)
            })
            .await
            .unwrap();
        if owed == 0 || start.elapsed() > Duration::from_secs(30) {
            assert_eq!(owed, 0, "the outbox drained");
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }

    let emails = mail.received();
    let bodies = hooks.received();
    assert!(
        emails.len() >= 15,
        "the church was told things: {} emails",
        emails.len()
    );
    assert!(bodies.len() >= 15, "and its app: {} webhooks", bodies.len());
    let mut inboxes = Vec::new();
    for who in [
        &c.admin, &c.leader, &c.tom, &c.tia, &c.hana, &c.ivy, &c.nate, &c.rita, &c.omar,
    ] {
        let items = c
            .app
            .get("/me/notifications?limit=100", Some(&who.token))
            .await
            .expect(200);
        inboxes.push(items.to_string());
    }
    let webhook_texts: Vec<String> = bodies
        .iter()
        .map(|b| String::from_utf8_lossy(&b.body).to_string())
        .collect();
    for text in emails
        .iter()
        .map(|m| m.everything())
        .chain(webhook_texts.iter().cloned())
        .chain(inboxes.iter().cloned())
    {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} left in: {text}");
        }
    }
    // Who asked the anonymous request is named to nobody but herself.
    for m in emails.iter().filter(|m| m.to != ["rita@example.org"]) {
        assert!(!m.everything().contains("Rita"), "{}", m.everything());
    }
    for text in &webhook_texts {
        assert!(!text.contains(&c.rita.id), "{text}");
    }
    // The confidential request was announced, as such.
    let omar = mail.wait_for("omar@example.org", 1).await;
    assert!(
        omar.iter()
            .any(|m| m.text().contains("a confidential request") && m.text().contains(&secret)),
        "Omar was told of the confidential request, without its title"
    );
}
