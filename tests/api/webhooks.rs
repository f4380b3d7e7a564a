//! Webhooks, against a real receiver on loopback ([`crate::receiver`]): registration, the
//! Standard Webhooks signature (verified with the specification's own library), what a payload
//! may say, retries, 410, redirects, redelivery, rotation, and the address rules.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Session, TestApp};
use crate::receiver::Receiver;

async fn app_for_webhooks() -> (TestApp, Session) {
    let app = spawn_app_with(|c| c.webhook_allow_private = true).await;
    let admin = app.admin("Ada").await;
    (app, admin)
}

async fn register(app: &TestApp, admin: &Session, url: &str, events: &[&str]) -> Value {
    app.post(
        "/webhooks",
        Some(&admin.token),
        json!({"url": url, "events": events, "description": "The church app"}),
    )
    .await
    .expect(201)
}

async fn deliveries(app: &TestApp, admin: &Session, hook: &str) -> Vec<Value> {
    app.get(&format!("/webhooks/{hook}/deliveries"), Some(&admin.token))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits (at most `secs` s) until the webhook's newest delivery satisfies `done`.
async fn newest_delivery(
    app: &TestApp,
    admin: &Session,
    hook: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = std::time::Instant::now();
    loop {
        let items = deliveries(app, admin, hook).await;
        if let Some(d) = items.first() {
            if done(d) || start.elapsed() > Duration::from_secs(secs) {
                return d.clone();
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_webhook_gets_its_events_signed_by_the_standard_and_its_secret_is_shown_once() {
    let (app, admin) = app_for_webhooks().await;
    let receiver = Receiver::start();
    let hook = register(
        &app,
        &admin,
        &receiver.url,
        &["request.created", "prayer.logged"],
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{hook}");
    assert_eq!(hook["events"], json!(["request.created", "prayer.logged"]));
    assert_eq!(hook["active"], true);
    assert_eq!(hook["description"], "The church app");
    let hook_id = id(&hook);
    let shown = app
        .get(&format!("/webhooks/{hook_id}"), Some(&admin.token))
        .await
        .expect(200);
    assert!(shown.get("secret").is_none(), "{shown}");
    let listed = app.get("/webhooks", Some(&admin.token)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none());

    let member = app.member("Mia").await;
    let r = app
        .create_request(
            &member.token,
            json!({"visibility": "congregation", "title": "Rain for the farms", "body": "Private details"}),
        )
        .await;
    let got = receiver.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert!(
        d.verified_with(&secret),
        "the signature verifies: {:?}",
        d.headers
    );
    assert!(!d.verified_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(d.header("content-type"), "application/json");
    let body = d.json();
    assert_eq!(body["type"], "request.created");
    assert_eq!(body["data"]["request_id"], r["id"]);
    assert_eq!(body["data"]["title"], "Rain for the farms");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(!String::from_utf8_lossy(&d.body).contains("Private details"));
    // The webhook-id is the delivery's id in the log.
    let logged = newest_delivery(&app, &admin, &hook_id, 10, |d| d["status"] == "sent").await;
    assert_eq!(logged["status"], "sent", "{logged}");
    assert_eq!(d.header("webhook-id"), logged["id"].as_str().unwrap());
    assert_eq!(logged["response_status"], 200);
    assert_eq!(logged["attempts"], 1);
    assert_eq!(logged["next_attempt_at"], Value::Null);

    // A prayer said anonymously does not say who prayed; a named one does.
    let intercessor = app.member("Ian").await;
    let rid = r["id"].as_str().unwrap();
    app.post(
        &format!("/prayer-requests/{rid}/prayers"),
        Some(&intercessor.token),
        json!({"anonymous": true, "note": "A note of my own"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/prayer-requests/{rid}/prayers"),
        Some(&intercessor.token),
        json!({}),
    )
    .await
    .expect(201);
    let got = receiver.wait_for(3, 10).await;
    assert_eq!(got.len(), 3);
    let prayers: Vec<Value> = got[1..].iter().map(|g| g.json()).collect();
    assert!(prayers.iter().all(|p| p["type"] == "prayer.logged"));
    assert!(prayers.iter().any(|p| p["data"]["member_id"].is_null()));
    assert!(prayers
        .iter()
        .any(|p| p["data"]["member_id"] == intercessor.id.as_str()));
    assert!(got.iter().all(|g| g.verified_with(&secret)));
    assert!(!got
        .iter()
        .any(|g| String::from_utf8_lossy(&g.body).contains("A note of my own")));
}

#[actix_web::test]
async fn a_confidential_or_pending_request_is_never_named_to_a_webhook() {
    let app = spawn_app_with(|c| {
        c.webhook_allow_private = true;
        c.require_approval = true;
    })
    .await;
    let admin = app.admin("Ada").await;
    let receiver = Receiver::start();
    register(&app, &admin, &receiver.url, &["request.created"]).await;
    let member = app.member("Mia").await;
    app.create_request(
        &member.token,
        json!({"visibility": "leaders", "title": "Marriage in crisis", "body": "Nobody may read"}),
    )
    .await;
    // Waiting for a leader's approval: not yet the congregation's to read.
    app.create_request(
        &member.token,
        json!({"visibility": "congregation", "title": "Not yet approved", "anonymous": true}),
    )
    .await;
    let got = receiver.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    for g in &got {
        let text = String::from_utf8_lossy(&g.body);
        assert!(g.json()["data"].get("title").is_none(), "{text}");
        assert!(!text.contains("Marriage") && !text.contains("Nobody may read"));
        assert!(
            !text.contains("Not yet approved") && !text.contains(&member.id),
            "{text}"
        );
    }
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_with_the_same_id_and_a_410_disables_the_webhook() {
    let (app, admin) = app_for_webhooks().await;
    let receiver = Receiver::start();
    let hook = register(&app, &admin, &receiver.url, &["request.created"]).await;
    let hook_id = id(&hook);
    // A 503 asking for a second; then a redirect, which is not followed; then success.
    receiver.answer(vec![
        (503, vec![("Retry-After", "1".to_string())]),
        (
            302,
            vec![("Location", "http://127.0.0.1:1/elsewhere".to_string())],
        ),
    ]);
    let member = app.member("Mia").await;
    app.create_request(&member.token, json!({})).await;
    let first = newest_delivery(&app, &admin, &hook_id, 10, |d| {
        d["attempts"] == 1 && d["status"] == "pending"
    })
    .await;
    assert_eq!(first["status"], "pending", "{first}");
    assert_eq!(first["response_status"], 503);
    assert!(first["last_error"].as_str().unwrap().contains("503"));
    assert!(first["next_attempt_at"].is_string());
    let second = newest_delivery(&app, &admin, &hook_id, 15, |d| {
        d["attempts"] == 2 && d["status"] != "sending"
    })
    .await;
    assert_eq!(second["response_status"], 302, "{second}");
    assert_eq!(second["status"], "pending");
    // The next try is 5 minutes away; an admin sends it again now, the same webhook-id.
    let delivery = id(&second);
    app.post(
        &format!("/webhooks/{hook_id}/deliveries/{delivery}/redeliver"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect(202);
    let third = newest_delivery(&app, &admin, &hook_id, 10, |d| d["status"] == "sent").await;
    assert_eq!(third["status"], "sent", "{third}");
    assert_eq!(third["attempts"], 1, "the schedule started over");
    assert_eq!(third["response_status"], 200);
    let got = receiver.received();
    assert_eq!(got.len(), 3, "the redirect was not followed");
    assert!(got.iter().all(|g| g.header("webhook-id") == delivery));
    app.post(
        &format!("/webhooks/{hook_id}/deliveries/nope/redeliver"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect_problem(404);

    // 410 Gone: the receiver wants no more. The webhook is disabled; later events are not sent.
    receiver.answer(vec![(410, vec![])]);
    app.create_request(&member.token, json!({})).await;
    let gone = newest_delivery(&app, &admin, &hook_id, 10, |d| d["status"] == "failed").await;
    assert_eq!(gone["status"], "failed", "{gone}");
    assert_eq!(gone["response_status"], 410);
    let shown = app
        .get(&format!("/webhooks/{hook_id}"), Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(shown["active"], false);
    app.create_request(&member.token, json!({})).await;
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.received().len(), 4);
    app.post(
        &format!("/webhooks/{hook_id}/ping"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect_problem(409);
    // Made active again, it receives again.
    app.patch(
        &format!("/webhooks/{hook_id}"),
        Some(&admin.token),
        json!({"active": true}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/webhooks/{hook_id}/ping"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect(202);
    let got = receiver.wait_for(5, 10).await;
    assert_eq!(got[4].json()["type"], "webhook.ping");

    // A receiver's Retry-After longer than the schedule's next step is honoured.
    receiver.answer(vec![(429, vec![("Retry-After", "7200".to_string())])]);
    app.post(
        &format!("/webhooks/{hook_id}/ping"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect(202);
    let later = newest_delivery(&app, &admin, &hook_id, 10, |d| d["response_status"] == 429).await;
    assert_eq!(later["status"], "pending", "{later}");
    let next: chrono::DateTime<chrono::Utc> =
        later["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = next - chrono::Utc::now();
    assert!(wait > chrono::Duration::seconds(7_000), "{later}");
}

#[actix_web::test]
async fn after_a_rotation_deliveries_carry_both_signatures() {
    let (app, admin) = app_for_webhooks().await;
    let receiver = Receiver::start();
    let hook = register(&app, &admin, &receiver.url, &["request.created"]).await;
    let (hook_id, old) = (id(&hook), hook["secret"].as_str().unwrap().to_string());
    let rotated = app
        .post(
            &format!("/webhooks/{hook_id}/rotate-secret"),
            Some(&admin.token),
            json!({}),
        )
        .await
        .expect(200);
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(new.starts_with("whsec_"));
    app.post(
        &format!("/webhooks/{hook_id}/ping"),
        Some(&admin.token),
        json!({}),
    )
    .await
    .expect(202);
    let got = receiver.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "webhook.ping");
    assert_eq!(got[0].json()["data"]["webhook_id"], hook_id.as_str());
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    assert!(got[0].verified_with(&new), "the new secret verifies");
    assert!(
        got[0].verified_with(&old),
        "the old one still does, for a day"
    );
}

#[actix_web::test]
async fn webhooks_refuse_bad_urls_unknown_events_and_private_addresses() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin("Ada").await;
    let bad = |url: &str, events: Value| {
        let (app, token) = (&app, admin.token.clone());
        let body = json!({"url": url, "events": events});
        async move {
            app.post("/webhooks", Some(&token), body)
                .await
                .expect_invalid()
        }
    };
    assert_eq!(
        bad("ftp://example.org/", json!(["request.created"])).await,
        vec!["url"]
    );
    assert_eq!(
        bad("http://127.0.0.1:9/hook", json!(["request.created"])).await,
        vec!["url"]
    );
    assert_eq!(
        bad("http://169.254.169.254/", json!(["request.created"])).await,
        vec!["url"]
    );
    assert_eq!(
        bad(
            "https://93.184.216.34/",
            json!(["request.created", "invitation"])
        )
        .await,
        vec!["events[1]"]
    );
    assert_eq!(
        bad("https://93.184.216.34/", json!([])).await,
        vec!["events"]
    );
    // A public address is taken (nothing is sent to it here: no event is subscribed that
    // happens in this test).
    let hook = app
        .post(
            "/webhooks",
            Some(&admin.token),
            json!({"url": "https://93.184.216.34/hook", "events": ["fast.check_in"]}),
        )
        .await
        .expect(201);
    let hook_id = id(&hook);
    app.patch(
        &format!("/webhooks/{hook_id}"),
        Some(&admin.token),
        json!({"url": "http://10.0.0.1/"}),
    )
    .await
    .expect_invalid();
    app.delete(&format!("/webhooks/{hook_id}"), Some(&admin.token))
        .await
        .expect(204);
    app.get(&format!("/webhooks/{hook_id}"), Some(&admin.token))
        .await
        .expect_problem(404);
}

/// An address that was allowed when registered is checked again at delivery: an instance that
/// does not allow private addresses sends nothing to one.
#[actix_web::test]
async fn a_private_address_is_refused_again_at_delivery() {
    let app = spawn_app_with(|c| {
        c.webhook_allow_private = true;
        c.workers_enabled = false;
    })
    .await;
    let admin = app.admin("Ada").await;
    let receiver = Receiver::start();
    let hook = register(&app, &admin, &receiver.url, &["request.created"]).await;
    let member = app.member("Mia").await;
    app.create_request(&member.token, json!({})).await;
    let mut strict = app.config.clone();
    strict.webhook_allow_private = false;
    let _worker = crate::helpers::start_worker_with(strict).await;
    let d = newest_delivery(&app, &admin, &id(&hook), 10, |d| d["status"] == "failed").await;
    assert_eq!(d["status"], "failed", "{d}");
    assert!(d["last_error"].as_str().unwrap().contains("private"), "{d}");
    assert!(receiver.received().is_empty());
}

/// Every event a webhook can subscribe to reaches it, once, when it happens: a whole morning of
/// a church's life, seen by its app.
#[actix_web::test]
async fn every_webhook_event_reaches_a_webhook_subscribed_to_it() {
    use chrono::{Duration as Days, Utc};
    let c = crate::teams::church_in(spawn_app_with(|c| c.webhook_allow_private = true).await).await;
    let receiver = Receiver::start();
    let all = [
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
    let hook = register(&c.app, &c.admin, &receiver.url, &all).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    // A second webhook hears only of answered prayer.
    let quiet = Receiver::start();
    register(&c.app, &c.admin, &quiet.url, &["request.answered"]).await;

    let r = c
        .app
        .create_request(
            &c.rita.token,
            json!({"visibility": "congregation", "urgent": true, "title": "Safe travel"}),
        )
        .await;
    let rid = r["id"].as_str().unwrap().to_string();
    let a = c
        .app
        .post(
            &format!("/prayer-requests/{rid}/assignments"),
            Some(&c.leader.token),
            json!({"member_id": c.omar.id}),
        )
        .await
        .expect(201);
    c.app
        .patch(
            &format!("/assignments/{}", a["id"].as_str().unwrap()),
            Some(&c.omar.token),
            json!({"status": "declined", "reason": "Travelling myself"}),
        )
        .await
        .expect(200);
    c.app
        .post(
            &format!("/prayer-requests/{rid}/prayers"),
            Some(&c.hana.token),
            json!({}),
        )
        .await
        .expect(201);
    c.app
        .post(
            &format!("/prayer-requests/{rid}/updates"),
            Some(&c.rita.token),
            json!({"body": "Landed safely in Lagos"}),
        )
        .await
        .expect(201);
    c.app
        .post(
            &format!("/prayer-requests/{rid}/answer"),
            Some(&c.rita.token),
            json!({"testimony": "All went well"}),
        )
        .await
        .expect(200);
    let w = c
        .app
        .post(
            "/watches",
            Some(&c.leader.token),
            json!({
                "name": "Night watch",
                "timezone": "UTC",
                "starts_on": (Utc::now().date_naive() - Days::days(1)).to_string(),
                "slot_minutes": 60,
                "min_per_slot": 1
            }),
        )
        .await
        .expect(201);
    let wid = w["id"].as_str().unwrap();
    let slot = (Utc::now() + Days::days(2))
        .date_naive()
        .and_hms_opt(3, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signup = c
        .app
        .post(
            &format!("/watches/{wid}/signups"),
            Some(&c.ivy.token),
            json!({"slot_start": slot}),
        )
        .await
        .expect(201);
    c.app
        .delete(
            &format!("/watches/{wid}/signups/{}", signup["id"].as_str().unwrap()),
            Some(&c.ivy.token),
        )
        .await
        .expect(204);
    let f = c
        .app
        .post(
            "/fasts",
            Some(&c.leader.token),
            json!({
                "name": "Daniel fast",
                "fast_type": "daniel",
                "starts_on": Utc::now().date_naive().to_string(),
                "days": 21,
                "timezone": "UTC"
            }),
        )
        .await
        .expect(201);
    let fid = f["id"].as_str().unwrap();
    c.app
        .post(
            &format!("/fasts/{fid}/participants"),
            Some(&c.nate.token),
            json!({}),
        )
        .await
        .expect(201);
    c.app
        .post(
            &format!("/fasts/{fid}/check-ins"),
            Some(&c.nate.token),
            json!({"day": 1, "kept": "yes", "note": "Hungry but glad"}),
        )
        .await
        .expect(201);

    let got = receiver.wait_for(all.len(), 15).await;
    let mut types: Vec<String> = got
        .iter()
        .map(|g| g.json()["type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    let mut expected: Vec<String> = all.iter().map(|e| e.to_string()).collect();
    expected.sort();
    assert_eq!(types, expected, "each event once");
    for g in &got {
        assert!(g.verified_with(&secret));
        let text = String::from_utf8_lossy(&g.body);
        for private in [
            "Travelling myself",
            "Landed safely",
            "All went well",
            "Hungry but glad",
        ] {
            assert!(!text.contains(private), "{text}");
        }
    }
    let by_type = |t: &str| got.iter().find(|g| g.json()["type"] == t).unwrap().json();
    assert_eq!(by_type("request.urgent")["data"]["title"], "Safe travel");
    assert_eq!(
        by_type("assignment.declined")["data"]["actor_id"],
        c.omar.id.as_str()
    );
    assert_eq!(
        by_type("signup.created")["data"]["slot_start"],
        slot.as_str()
    );
    assert_eq!(by_type("fast.check_in")["data"]["day"], 1);
    assert_eq!(
        by_type("fast.check_in")["data"]["member_id"],
        c.nate.id.as_str()
    );
    let answered = quiet.wait_for(1, 10).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(quiet.received().len(), 1, "only what it subscribed to");
    assert_eq!(answered[0].json()["type"], "request.answered");
}
