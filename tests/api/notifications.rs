//! Notifications: the outbox written with the change, the worker delivering to the in-app inbox,
//! each event's audience, and the privacy of what a notification says.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Session, TestApp};
use crate::teams::{church, Church};

/// The member's inbox, waiting (at most 10 s) until it holds at least `n` notifications.
pub async fn inbox(app: &TestApp, who: &Session, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let items = app
            .get("/me/notifications?limit=100", Some(&who.token))
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        if items.len() >= n || start.elapsed() > Duration::from_secs(10) {
            return items;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Called once a notice has arrived: what was enqueued with it was claimed in the same batch
/// or the next poll (every second), so after this an empty inbox means nothing was sent.
async fn settled() {
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
}

impl Church {
    async fn new_request(&self, by: &Session, visibility: &str, title: &str) -> String {
        self.app
            .create_request(
                &by.token,
                json!({"visibility": visibility, "title": title, "body": "A private body text"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn assigned(&self, by: &Session, request: &str, body: Value) -> Value {
        self.app
            .post(
                &format!("/prayer-requests/{request}/assignments"),
                Some(&by.token),
                body,
            )
            .await
            .expect(201)
    }
}

#[actix_web::test]
async fn an_assignment_by_name_reaches_the_intercessors_inbox_and_nobody_elses() {
    let c = church().await;
    let r = c
        .new_request(&c.rita, "congregation", "Healing for Anna")
        .await;
    let a = c
        .assigned(&c.leader, &r, json!({"member_id": c.omar.id}))
        .await;
    let items = inbox(&c.app, &c.omar, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let n = &items[0];
    assert_eq!(n["event"], "assignment.created");
    assert_eq!(n["title"], "New assignment");
    assert_eq!(
        n["body"],
        "You were asked to pray for \u{201c}Healing for Anna\u{201d}."
    );
    assert_eq!(n["link"], format!("/api/v1/prayer-requests/{r}"));
    assert_eq!(n["data"]["request_id"], r.as_str());
    assert_eq!(n["data"]["assignment_id"], a["id"]);
    assert_eq!(n["read_at"], Value::Null);
    assert!(n["created_at"].as_str().unwrap().ends_with('Z'));
    let mut keys: Vec<&String> = n.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "body",
            "created_at",
            "data",
            "event",
            "id",
            "link",
            "read_at",
            "title"
        ]
    );
    // The assigner and everyone else hear nothing.
    settled().await;
    for other in [&c.leader, &c.rita, &c.hana, &c.tom] {
        assert!(inbox(&c.app, other, 0).await.is_empty());
    }
    // Read: it leaves the unread list, and keeps its time when marked again.
    let id = n["id"].as_str().unwrap();
    c.app
        .post(
            "/me/notifications/read",
            Some(&c.omar.token),
            json!({"ids": [id]}),
        )
        .await
        .expect(204);
    let unread = c
        .app
        .get("/me/notifications?unread=true", Some(&c.omar.token))
        .await
        .expect(200);
    assert_eq!(unread["items"], json!([]));
    let read = inbox(&c.app, &c.omar, 1).await;
    let read_at = read[0]["read_at"].clone();
    assert!(read_at.is_string());
    c.app
        .post(
            "/me/notifications/read",
            Some(&c.omar.token),
            json!({"all": true}),
        )
        .await
        .expect(204);
    assert_eq!(inbox(&c.app, &c.omar, 1).await[0]["read_at"], read_at);
    // Someone else's id marks nothing of theirs, and is no error.
    c.app
        .post(
            "/me/notifications/read",
            Some(&c.hana.token),
            json!({"ids": [id]}),
        )
        .await
        .expect(204);
}

#[actix_web::test]
async fn marking_read_needs_ids_or_all_and_the_inbox_needs_a_token() {
    let c = church().await;
    for body in [
        json!({}),
        json!({"ids": []}),
        json!({"ids": ["a"], "all": true}),
        json!({"ids": "a"}),
        json!({"every": true}),
    ] {
        c.app
            .post("/me/notifications/read", Some(&c.omar.token), body)
            .await
            .expect_problem(422);
    }
    c.app
        .get("/me/notifications", None)
        .await
        .expect_problem(401);
    c.app
        .get("/me/notifications?unread=perhaps", Some(&c.omar.token))
        .await
        .expect_problem(422);
}

#[actix_web::test]
async fn a_confidential_request_is_never_named_and_no_body_ever_leaves() {
    let c = church().await;
    let r = c.new_request(&c.rita, "leaders", "Secret matter").await;
    c.assigned(&c.leader, &r, json!({"member_id": c.omar.id}))
        .await;
    let items = inbox(&c.app, &c.omar, 1).await;
    assert_eq!(
        items[0]["body"],
        "You were asked to pray for a confidential request."
    );
    // An update and the answer reach the assignee; none says the title or any body.
    c.app
        .post(
            &format!("/prayer-requests/{r}/updates"),
            Some(&c.rita.token),
            json!({"body": "The update's private words"}),
        )
        .await
        .expect(201);
    c.app
        .post(
            &format!("/prayer-requests/{r}/answer"),
            Some(&c.rita.token),
            json!({"testimony": "The testimony's words"}),
        )
        .await
        .expect(200);
    let items = inbox(&c.app, &c.omar, 3).await;
    assert_eq!(items.len(), 3, "{items:?}");
    let text = serde_json::to_string(&items).unwrap();
    for secret in [
        "Secret matter",
        "A private body text",
        "The update's private words",
        "The testimony's words",
        "Rita",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(items[0]["event"], "request.answered");
    assert_eq!(
        items[0]["body"],
        "A confidential request was answered. Thank you for praying."
    );
    assert_eq!(items[1]["event"], "request.update");
    assert_eq!(
        items[1]["body"],
        "There is an update on a confidential request."
    );
    // The requester wrote both: she hears of neither.
    assert!(inbox(&c.app, &c.rita, 0).await.is_empty());
}

#[actix_web::test]
async fn a_team_assignment_reaches_its_members_and_a_decline_the_assigner_and_team_leaders() {
    let c = church().await;
    let r = c.new_request(&c.rita, "team", "Team matter").await;
    // The leader assigns Healing: its members, its team leader Tom among them, hear; the leader
    // (the assigner) does not.
    c.assigned(&c.leader, &r, json!({"team_id": c.healing}))
        .await;
    for member in [&c.hana, &c.ivy, &c.tom] {
        let items = inbox(&c.app, member, 1).await;
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0]["body"],
            "Healing was asked to pray for \u{201c}Team matter\u{201d}."
        );
    }
    // The leader assigns Hana by name within Healing; she declines: the leader (assigner) and
    // Tom (Healing's team leader) hear it, Hana does not, and the reason is not in it.
    let a = c
        .assigned(
            &c.leader,
            &r,
            json!({"member_id": c.hana.id, "team_id": c.healing}),
        )
        .await;
    c.app
        .patch(
            &format!("/assignments/{}", a["id"].as_str().unwrap()),
            Some(&c.hana.token),
            json!({"status": "declined", "reason": "A private reason"}),
        )
        .await
        .expect(200);
    for hearer in [&c.leader, &c.tom] {
        let items = inbox(&c.app, hearer, 1).await;
        let declined: Vec<&Value> = items
            .iter()
            .filter(|n| n["event"] == "assignment.declined")
            .collect();
        assert_eq!(declined.len(), 1, "{items:?}");
        assert_eq!(
            declined[0]["body"],
            "Hana declined the assignment of \u{201c}Team matter\u{201d}."
        );
        assert!(!serde_json::to_string(&items)
            .unwrap()
            .contains("A private reason"));
    }
    let hana = inbox(&c.app, &c.hana, 2).await;
    assert!(hana.iter().all(|n| n["event"] == "assignment.created"));
    // Nate (Nations) hears nothing of Healing's assignment.
    assert!(inbox(&c.app, &c.nate, 0).await.is_empty());
}

#[actix_web::test]
async fn news_of_a_request_reaches_who_prayed_and_who_carries_it_but_not_its_author() {
    let c = church().await;
    let r = c.new_request(&c.rita, "congregation", "Open matter").await;
    c.app
        .post(
            &format!("/prayer-requests/{r}/prayers"),
            Some(&c.nate.token),
            json!({}),
        )
        .await
        .expect(201);
    c.assigned(&c.leader, &r, json!({"member_id": c.omar.id}))
        .await;
    // A leader posts the update: Rita (the requester, who has not prayed) is not a follower.
    c.app
        .post(
            &format!("/prayer-requests/{r}/updates"),
            Some(&c.leader.token),
            json!({"body": "News"}),
        )
        .await
        .expect(201);
    let nate = inbox(&c.app, &c.nate, 1).await;
    assert_eq!(nate.len(), 1);
    assert_eq!(nate[0]["event"], "request.update");
    assert_eq!(
        nate[0]["body"],
        "There is an update on \u{201c}Open matter\u{201d}."
    );
    let omar = inbox(&c.app, &c.omar, 2).await;
    assert_eq!(omar[0]["event"], "request.update");
    settled().await;
    assert!(inbox(&c.app, &c.leader, 0).await.is_empty());
    assert!(inbox(&c.app, &c.hana, 0).await.is_empty());
}

/// A notice is judged when it is delivered: one enqueued while the worker was off, about a request
/// the recipient can no longer see by then, is dropped; one about a request still visible goes.
#[actix_web::test]
async fn a_recipient_who_may_no_longer_see_the_request_when_it_is_delivered_gets_nothing() {
    let app = crate::helpers::spawn_app_with(|c| c.workers_enabled = false).await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let omar = app.member("Omar").await;
    let rita = app.member("Rita").await;
    let hidden = app
        .create_request(
            &rita.token,
            json!({"visibility": "leaders", "title": "Hidden"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let kept = app
        .create_request(
            &rita.token,
            json!({"visibility": "leaders", "title": "Kept"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for r in [&hidden, &kept] {
        app.post(
            &format!("/prayer-requests/{r}/assignments"),
            Some(&leader.token),
            json!({"member_id": omar.id}),
        )
        .await
        .expect(201);
    }
    // Before anything is delivered, the first assignment is released: Omar may no longer read it.
    let list = app
        .get(
            &format!("/prayer-requests/{hidden}/assignments"),
            Some(&leader.token),
        )
        .await
        .expect(200);
    let a = list["items"][0]["id"].as_str().unwrap().to_string();
    app.patch(
        &format!("/assignments/{a}"),
        Some(&leader.token),
        json!({"status": "released"}),
    )
    .await
    .expect(200);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert!(inbox(&app, &omar, 0).await.is_empty(), "no worker ran");
    // Now an instance with its worker on delivers.
    let _worker = app.start_worker().await;
    let items = inbox(&app, &omar, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["data"]["request_id"], kept.as_str());
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(inbox(&app, &omar, 0).await.len(), 1);
    // The admin's delivery log says which was dropped and why, and never what either said.
    let log = app
        .get("/notification-deliveries", Some(&admin.token))
        .await
        .expect(200);
    let text = log.to_string();
    assert!(!text.contains("Hidden") && !text.contains("Kept"), "{text}");
    let dropped = app
        .get(
            &format!(
                "/notification-deliveries?status=dropped&member_id={}",
                omar.id
            ),
            Some(&admin.token),
        )
        .await
        .expect(200);
    let dropped = dropped["items"].as_array().unwrap();
    assert_eq!(dropped.len(), 1, "{log}");
    assert_eq!(dropped[0]["event"], "assignment.created");
    assert_eq!(dropped[0]["channel"], "in_app");
    assert!(dropped[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("may no longer see"));
    let sent = app
        .get("/notification-deliveries?status=sent", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(sent["items"].as_array().unwrap().len(), 1);
    assert_eq!(sent["items"][0]["attempts"], 1);
    assert!(sent["items"][0]["sent_at"].is_string());
    app.get("/notification-deliveries", Some(&leader.token))
        .await
        .expect_problem(403);
    app.get("/notification-deliveries?status=lost", Some(&admin.token))
        .await
        .expect_problem(422);
}

/// A batch's in-app rows are delivered in one transaction; a row that fails in it does not hold
/// back the rest: they are delivered each alone, and only the row at fault waits for its retry
/// (not in hand until its lease runs out).
#[actix_web::test]
async fn an_in_app_row_that_fails_does_not_hold_back_the_rest_of_its_batch() {
    let app = crate::helpers::spawn_app_with(|c| c.workers_enabled = false).await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let omar = app.member("Omar").await;
    let nate = app.member("Nate").await;
    let rita = app.member("Rita").await;
    let r = app
        .create_request(&rita.token, json!({"visibility": "congregation"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for who in [&omar, &nate] {
        app.post(
            &format!("/prayer-requests/{r}/assignments"),
            Some(&leader.token),
            json!({"member_id": who.id}),
        )
        .await
        .expect(201);
    }
    // Nate's inbox refuses it (a trigger stands for any error on one row): delivering it fails.
    let refuse = if crate::helpers::is_postgres() {
        format!(
            "CREATE FUNCTION refuse_nate() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'refused'; END $$; \
             CREATE TRIGGER refuse_nate BEFORE INSERT ON notifications FOR EACH ROW \
             WHEN (NEW.member_id = '{}') EXECUTE FUNCTION refuse_nate();",
            nate.id
        )
    } else {
        format!(
            "CREATE TRIGGER refuse_nate BEFORE INSERT ON notifications \
             WHEN NEW.member_id = '{}' BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            nate.id
        )
    };
    crate::helpers::run_sql(&app.config.database_url, &refuse).await;
    let _worker = app.start_worker().await;
    let items = inbox(&app, &omar, 1).await;
    assert_eq!(items.len(), 1, "Omar's notice went despite Nate's");
    assert_eq!(items[0]["event"], "assignment.created");
    let start = Instant::now();
    let failed: Vec<Value> = loop {
        let nates: Vec<Value> = app
            .get(
                &format!(
                    "/notification-deliveries?status=pending&member_id={}",
                    nate.id
                ),
                Some(&admin.token),
            )
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone();
        if !nates.is_empty() || start.elapsed() > Duration::from_secs(10) {
            break nates;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    let all = app
        .get("/notification-deliveries", Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(
        failed.len(),
        1,
        "the failed row is recorded, due again: {all}"
    );
    assert_eq!(failed[0]["event"], "assignment.created");
    assert_eq!(failed[0]["attempts"], 1);
    assert!(failed[0]["last_error"].is_string(), "{failed:?}");
}

/// A change that fails after writing its notices leaves no outbox row and sends nothing: they
/// are written in its transaction.
#[actix_web::test]
async fn notices_of_a_change_that_rolls_back_are_never_sent() {
    let app = crate::helpers::spawn_app().await;
    let omar = app.member("Omar").await;
    let rita = app.member("Rita").await;
    let r = app.create_request(&rita.token, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = app.config.database_url.clone();
    let (member, request) = (omar.id.clone(), r.clone());
    let db = crate::helpers::connect(&url);
    let failed = db
        .write(move |conn| {
            intercede::outbox::enqueue(
                conn,
                intercede::clock::Clock::real().now(),
                &[intercede::outbox::Channel::InApp],
                &[intercede::outbox::Notice {
                    event: intercede::outbox::Event::RequestUpdate,
                    member_id: member.clone(),
                    data: json!({"request_id": request}),
                    key: "request.update:rolled-back".into(),
                    due: None,
                }],
            )?;
            intercede::outbox::tell(
                conn,
                intercede::clock::Clock::real().now(),
                &[intercede::outbox::Channel::InApp],
                &[intercede::outbox::News {
                    event: intercede::outbox::Event::RequestUpdate,
                    key: "request.update:rolled-back-news".into(),
                    data: json!({"request_id": request}),
                    members: vec![member],
                }],
            )?;
            Err::<(), _>(intercede::error::AppError::bug(
                "the change fails after its notices",
            ))
        })
        .await;
    assert!(failed.is_err());
    let count = db
        .read(|conn| {
            use diesel::prelude::*;
            use intercede::db::schema::{outbox, outbox_news};
            Ok(outbox::table.count().get_result::<i64>(conn)?
                + outbox_news::table.count().get_result::<i64>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(count, 0);
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    assert!(inbox(&app, &omar, 0).await.is_empty());
}

#[actix_web::test]
async fn preferences_default_to_everything_on_replace_whole_and_refuse_unknown_events() {
    let c = church().await;
    let path = "/me/notification-preferences";
    let p = c.app.get(path, Some(&c.omar.token)).await.expect(200);
    for channel in ["email", "in_app"] {
        let events = p[channel].as_object().unwrap();
        assert!(events.contains_key("assignment.created"), "{p}");
        // Every event on, but api.md's one exception: the daily prayed digest by email.
        for (event, on) in events {
            let expected = !(channel == "email" && event == "request.prayed_digest");
            assert_eq!(on, &Value::Bool(expected), "{channel} {event}: {p}");
        }
    }
    assert_eq!(p["reminder_lead_minutes"], 60);
    assert_eq!(p["fast_reminder_time"], "20:00");
    assert_eq!(p["quiet_hours"], Value::Null);
    assert_eq!(p["discreet"], false);
    let bad = c
        .app
        .put(
            path,
            Some(&c.omar.token),
            json!({"in_app": {"assignment.made": false}, "fast_reminder_time": "25:00",
                   "reminder_lead_minutes": 2, "quiet_hours": {"start": "22:00", "end": "7am"}}),
        )
        .await
        .expect_problem(422);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "in_app.assignment.made",
        "fast_reminder_time",
        "reminder_lead_minutes",
        "quiet_hours.end",
    ] {
        assert!(fields.contains(&field), "{fields:?}");
    }
    // Nothing was stored by the refused PUT.
    assert_eq!(c.app.get(path, Some(&c.omar.token)).await.expect(200), p);
    let set = c
        .app
        .put(
            path,
            Some(&c.omar.token),
            json!({"in_app": {"assignment.created": false}, "quiet_hours": {"start": "22:00", "end": "07:00"}, "discreet": true}),
        )
        .await
        .expect(200);
    assert_eq!(set["in_app"]["assignment.created"], false);
    assert_eq!(set["in_app"]["request.update"], true);
    assert_eq!(
        set["quiet_hours"],
        json!({"start": "22:00", "end": "07:00"})
    );
    assert_eq!(c.app.get(path, Some(&c.omar.token)).await.expect(200), set);
    // Switched off in-app: the assignment is not in the inbox; an update still is.
    let r = c.new_request(&c.rita, "congregation", "Quiet").await;
    c.assigned(&c.leader, &r, json!({"member_id": c.omar.id}))
        .await;
    c.app
        .post(
            &format!("/prayer-requests/{r}/updates"),
            Some(&c.rita.token),
            json!({"body": "News"}),
        )
        .await
        .expect(201);
    inbox(&c.app, &c.omar, 1).await;
    settled().await;
    let items = inbox(&c.app, &c.omar, 0).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["event"], "request.update");
    // A PUT replaces the whole object: `{}` is the defaults again.
    assert_eq!(
        c.app
            .put(path, Some(&c.omar.token), json!({}))
            .await
            .expect(200),
        p
    );
}

/// `/readyz` tells an operator whether notifications are being delivered: with no worker, the
/// age of the oldest owed notice; once a worker has delivered, nothing is owed.
#[actix_web::test]
async fn readiness_shows_whether_the_outbox_is_draining() {
    let app = crate::helpers::spawn_app_with(|c| c.workers_enabled = false).await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let omar = app.member("Omar").await;
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["workers"], false);
    assert_eq!(ready["outbox_oldest_due_seconds"], Value::Null);
    let r = app.create_request(&leader.token, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/prayer-requests/{r}/assignments"),
        Some(&leader.token),
        json!({"member_id": omar.id}),
    )
    .await
    .expect(201);
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    let waiting = app.get("/readyz", None).await.expect(200);
    assert!(
        waiting["outbox_oldest_due_seconds"].as_i64().unwrap() >= 1,
        "{waiting}"
    );
    let _worker = app.start_worker().await;
    assert_eq!(inbox(&app, &omar, 1).await.len(), 1);
    let ready = app.get("/readyz", None).await.expect(200);
    assert_eq!(ready["outbox_oldest_due_seconds"], Value::Null);
}

/// A notice enqueued twice (the same occurrence, member and channel) is one row and one
/// notification.
#[actix_web::test]
async fn the_same_notice_enqueued_twice_is_delivered_once() {
    let app = crate::helpers::spawn_app().await;
    let omar = app.member("Omar").await;
    let r = app.create_request(&omar.token, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = crate::helpers::connect(&app.config.database_url);
    for _ in 0..2 {
        let (member, request) = (omar.id.clone(), r.clone());
        db.write(move |conn| {
            intercede::outbox::enqueue(
                conn,
                intercede::clock::Clock::real().now(),
                &[intercede::outbox::Channel::InApp],
                &[intercede::outbox::Notice {
                    event: intercede::outbox::Event::RequestUpdate,
                    member_id: member,
                    data: json!({"request_id": request}),
                    key: "request.update:twice".into(),
                    due: None,
                }],
            )
        })
        .await
        .unwrap();
    }
    assert_eq!(inbox(&app, &omar, 1).await.len(), 1);
    settled().await;
    assert_eq!(inbox(&app, &omar, 0).await.len(), 1);
}

/// `request.urgent` goes when an urgent request becomes active: to the leaders, and to whoever
/// holds the watch slot under way now in a watch that can see it; never to the requester, and a
/// confidential one reaches no slot holder who may not read it.
#[actix_web::test]
async fn an_urgent_request_reaches_the_leaders_and_whoever_is_praying_in_the_watch_now() {
    use chrono::{Duration as Days, Timelike, Utc};
    let c = church().await;
    let watch = c
        .app
        .post(
            "/watches",
            Some(&c.leader.token),
            json!({"name": "Prayer room", "timezone": "UTC",
                   "starts_on": (Utc::now().date_naive() - Days::days(1)).to_string(),
                   "slot_minutes": 60, "min_per_slot": 1}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The slot under way must stay under way through the test: not in its last minute.
    if Utc::now().minute() == 59 {
        let left = 61 - Utc::now().second();
        actix_web::rt::time::sleep(Duration::from_secs(left.into())).await;
    }
    let now = Utc::now();
    let this_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    c.app
        .post(
            &format!("/watches/{watch}/signups"),
            Some(&c.nate.token),
            json!({"slot_start": this_hour.format("%Y-%m-%dT%H:%M:%SZ").to_string()}),
        )
        .await
        .expect(201);
    // Hana holds the next hour's slot, not this one.
    c.app
        .post(
            &format!("/watches/{watch}/signups"),
            Some(&c.hana.token),
            json!({"slot_start": (this_hour + Days::hours(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string()}),
        )
        .await
        .expect(201);
    let open = c
        .app
        .create_request(
            &c.rita.token,
            json!({"title": "Surgery now", "urgent": true, "visibility": "congregation"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for hearer in [&c.leader, &c.admin, &c.nate] {
        let items = inbox(&c.app, hearer, 1).await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["event"], "request.urgent");
        assert_eq!(items[0]["data"]["request_id"], open.as_str());
        assert_eq!(
            items[0]["body"],
            "Please pray now for \u{201c}Surgery now\u{201d}."
        );
    }
    settled().await;
    for quiet in [&c.rita, &c.hana, &c.omar] {
        assert!(inbox(&c.app, quiet, 0).await.is_empty());
    }
    // A confidential urgent request: the leaders hear of "a confidential request"; Nate, in the
    // watch now, may not read it and hears nothing.
    c.app
        .create_request(
            &c.rita.token,
            json!({"title": "Hidden trouble", "urgent": true, "visibility": "leaders"}),
        )
        .await;
    let items = inbox(&c.app, &c.leader, 2).await;
    assert_eq!(
        items[0]["body"],
        "Please pray now for a confidential request."
    );
    settled().await;
    assert_eq!(inbox(&c.app, &c.nate, 0).await.len(), 1);
    // Not urgent: nothing; made urgent while active: it goes then.
    let plain = c
        .app
        .create_request(&c.rita.token, json!({"title": "Later urgent"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    settled().await;
    assert_eq!(inbox(&c.app, &c.leader, 0).await.len(), 2);
    c.app
        .patch(
            &format!("/prayer-requests/{plain}"),
            Some(&c.rita.token),
            json!({"urgent": true}),
        )
        .await
        .expect(200);
    let items = inbox(&c.app, &c.leader, 3).await;
    assert_eq!(items[0]["data"]["request_id"], plain.as_str());
}

/// With approval required, an urgent request is announced when a leader approves it, not before,
/// and not to the leader who approved it.
#[actix_web::test]
async fn an_urgent_request_waiting_for_approval_is_announced_when_approved() {
    let app = crate::helpers::spawn_app_with(|c| c.require_approval = true).await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let rita = app.member("Rita").await;
    let r = app
        .create_request(&rita.token, json!({"urgent": true}))
        .await;
    assert_eq!(r["status"], "pending");
    settled().await;
    assert!(inbox(&app, &admin, 0).await.is_empty());
    app.post(
        &format!("/prayer-requests/{}/approve", r["id"].as_str().unwrap()),
        Some(&leader.token),
        json!({}),
    )
    .await
    .expect(200);
    let items = inbox(&app, &admin, 1).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["event"], "request.urgent");
    settled().await;
    assert!(inbox(&app, &leader, 0).await.is_empty());
}

/// An instance stopped while its worker drains the outbox loses nothing: the row in hand is
/// finished, the rest of its batch is handed back (none is left `sending`), and another instance
/// delivers every notice, each once.
#[actix_web::test]
async fn a_worker_stopped_while_draining_hands_back_what_it_held_and_nothing_is_lost() {
    use diesel::prelude::*;
    use intercede::db::schema::{notifications, outbox};
    const NOTICES: usize = 2000;
    let app = crate::helpers::spawn_app_with(|c| c.workers_enabled = false).await;
    let omar = app.member("Omar").await;
    let r = app.create_request(&omar.token, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = crate::helpers::connect(&app.config.database_url);
    let (member, request) = (omar.id.clone(), r.clone());
    db.write(move |conn| {
        let notices: Vec<intercede::outbox::Notice> = (0..NOTICES)
            .map(|i| intercede::outbox::Notice {
                event: intercede::outbox::Event::RequestUpdate,
                member_id: member.clone(),
                data: json!({"request_id": request}),
                key: format!("request.update:drain-{i}"),
                due: None,
            })
            .collect();
        intercede::outbox::enqueue(
            conn,
            intercede::clock::Clock::real().now(),
            &[intercede::outbox::Channel::InApp],
            &notices,
        )
    })
    .await
    .unwrap();
    let count = |state: Option<&'static str>| {
        let db = &db;
        async move {
            db.read(move |conn| {
                let n = match state {
                    Some("inbox") => notifications::table.count().get_result::<i64>(conn)?,
                    Some(s) => outbox::table
                        .filter(outbox::state.eq(s))
                        .count()
                        .get_result::<i64>(conn)?,
                    None => outbox::table.count().get_result::<i64>(conn)?,
                };
                Ok(n)
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(count(None).await, NOTICES as i64);
    // A worker starts draining; it is stopped as soon as the first notices arrive.
    let worker = app.start_worker().await;
    let start = Instant::now();
    while count(Some("inbox")).await == 0 && start.elapsed() < Duration::from_secs(10) {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    // Stopped, and waited for: a worker still running between two of the counts below would
    // move a batch from `pending` to `sending` under them.
    worker.stop().await;
    // Generous: a loaded CI machine stops a server slowly; a worker that lost what it held
    // would leave it `sending` for the whole 5-minute lease.
    let start = Instant::now();
    while count(Some("sending")).await > 0 && start.elapsed() < Duration::from_secs(30) {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count(Some("sending")).await,
        0,
        "claimed rows were handed back"
    );
    let (sent, pending) = (count(Some("sent")).await, count(Some("pending")).await);
    assert!(pending > 0, "the worker was stopped mid-batch: {sent} sent");
    assert_eq!(sent + pending, NOTICES as i64);
    assert_eq!(count(Some("inbox")).await, sent);
    // Another instance delivers the rest, each once.
    let _again = app.start_worker().await;
    let start = Instant::now();
    while count(Some("sent")).await < NOTICES as i64 && start.elapsed() < Duration::from_secs(60) {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(Some("sent")).await, NOTICES as i64);
    assert_eq!(count(Some("inbox")).await, NOTICES as i64);
    let most_attempts = db
        .read(|conn| {
            Ok(outbox::table
                .select(diesel::dsl::max(outbox::attempts))
                .first::<Option<i32>>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(
        most_attempts,
        Some(1),
        "a handed-back row's attempt is not counted"
    );
}

/// A request deleted by its requester leaves nothing said of it: its notifications leave every
/// inbox, and its deliveries the log.
#[actix_web::test]
async fn deleting_a_request_deletes_every_notification_about_it() {
    let c = church().await;
    let gone = c.new_request(&c.rita, "congregation", "Regretted").await;
    let kept = c.new_request(&c.rita, "congregation", "Still here").await;
    for r in [&gone, &kept] {
        c.assigned(&c.leader, r, json!({"member_id": c.omar.id}))
            .await;
    }
    assert_eq!(inbox(&c.app, &c.omar, 2).await.len(), 2);
    c.app
        .delete(&format!("/prayer-requests/{gone}"), Some(&c.rita.token))
        .await
        .expect(204);
    let items = inbox(&c.app, &c.omar, 0).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["data"]["request_id"], kept.as_str());
    assert!(!serde_json::to_string(&items).unwrap().contains("Regretted"));
    let log = c
        .app
        .get("/notification-deliveries", Some(&c.admin.token))
        .await
        .expect(200);
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

/// News for a team costs its change one row, whatever the team's size; the workers address it
/// to each member once, even three instances at once, and a member who erased their account
/// before it was addressed gets nothing.
#[actix_web::test]
async fn news_for_a_team_is_one_row_addressed_once_to_the_members_still_there() {
    use actix_web::http::Method;
    use diesel::prelude::*;
    use intercede::db::schema::{outbox, outbox_news};
    const TEAM: usize = 12;
    let app = crate::helpers::spawn_app_with(|c| c.workers_enabled = false).await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let team = app
        .post("/teams", Some(&leader.token), json!({"name": "Many"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut members = Vec::new();
    for i in 0..TEAM {
        let m = app.member(&format!("Member{i}")).await;
        app.put(
            &format!("/teams/{team}/members/{}", m.id),
            Some(&leader.token),
            json!({"team_role": "member"}),
        )
        .await
        .expect(201);
        members.push(m);
    }
    let r = app.create_request(&leader.token, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/prayer-requests/{r}/assignments"),
        Some(&leader.token),
        json!({"team_id": team}),
    )
    .await
    .expect(201);
    let db = crate::helpers::connect(&app.config.database_url);
    let counts = || {
        let db = &db;
        async move {
            db.read(|conn| {
                let news = outbox_news::table.count().get_result::<i64>(conn)?;
                let rows = outbox::table
                    .filter(outbox::event.eq("assignment.created"))
                    .count()
                    .get_result::<i64>(conn)?;
                Ok((news, rows))
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(counts().await, (1, 0), "one row for the whole team");
    let ready = app.get("/readyz", None).await.expect(200);
    assert!(ready["outbox_oldest_due_seconds"].is_number(), "{ready}");
    // One of them leaves before any worker runs.
    let gone = members.pop().unwrap();
    app.call(
        Method::DELETE,
        "/me",
        Some(&gone.token),
        Some(json!({"password": crate::helpers::PASSWORD})),
    )
    .await
    .expect(204);
    let workers = futures_util::future::join_all((0..3).map(|_| app.start_worker())).await;
    for m in &members {
        let items = inbox(&app, m, 1).await;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0]["event"], "assignment.created");
    }
    settled().await;
    assert_eq!(counts().await, (0, (TEAM - 1) as i64));
    for m in &members {
        assert_eq!(inbox(&app, m, 1).await.len(), 1, "delivered once");
    }
    drop(workers);
}
