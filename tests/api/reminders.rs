//! Time-driven care, on the service's own clock: each test sets the church up on one instance
//! (workers off), then starts instances on the same database with `CLOCK_START` a few seconds
//! before the moment under test, and reads what crossed the SMTP socket and the inbox. No test
//! sleeps for real hours.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, start_worker_with, Session, TestApp, WorkerInstance};
use crate::mail::MailServer;

fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().unwrap()
}

/// A church on its own clock: the admin, a leader, and the watch's members, on an instance that
/// delivers nothing until a test starts a worker at the moment it wants.
struct Scene {
    app: TestApp,
    mail: MailServer,
    admin: Session,
    leader: Session,
}

impl Scene {
    async fn at(clock: &str) -> Self {
        let mail = MailServer::start();
        let start = at(clock);
        let app = spawn_app_with(|c| {
            mail.configure(c);
            c.workers_enabled = false;
            c.clock_start = Some(start);
            c.webhook_allow_private = true;
        })
        .await;
        let admin = app.admin("Ada").await;
        let leader = app.leader(&admin, "Lea").await;
        Scene {
            app,
            mail,
            admin,
            leader,
        }
    }

    /// A member living in `zone`.
    async fn member_in(&self, name: &str, zone: &str) -> Session {
        let who = self.app.member(name).await;
        self.app
            .patch("/me", Some(&who.token), json!({"timezone": zone}))
            .await
            .expect(200);
        who
    }

    async fn hourly_watch(&self, zone: &str, starts_on: &str) -> String {
        self.app
            .post(
                "/watches",
                Some(&self.leader.token),
                json!({"name": "Night and day", "timezone": zone, "starts_on": starts_on,
                       "slot_minutes": 60, "min_per_slot": 1}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn sign_up(&self, who: &Session, watch: &str, body: Value) -> String {
        self.app
            .post(&format!("/watches/{watch}/signups"), Some(&who.token), body)
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Another instance on this database, delivering, its clock started at `clock`.
    async fn instance_at(&self, clock: &str) -> WorkerInstance {
        let mut config = self.app.config.clone();
        config.clock_start = Some(at(clock));
        start_worker_with(config).await
    }

    /// The watch reminders in `who`'s inbox, waiting (at most 20 s) until there are `n`.
    async fn reminders(&self, who: &Session, n: usize) -> Vec<Value> {
        events_of(&self.app, who, "watch.reminder", n).await
    }

    /// `who`'s watch-reminder deliveries on `channel`, as the admin's delivery log shows them:
    /// `(slot_start, status)`, sorted.
    async fn reminder_log(&self, who: &Session, channel: &str) -> Vec<(String, String)> {
        let page = self
            .app
            .get(
                &format!(
                    "/notification-deliveries?member_id={}&channel={channel}&limit=100",
                    who.id
                ),
                Some(&self.admin.token),
            )
            .await
            .expect(200);
        if std::env::var("DEBUG_LOG").is_ok() {
            eprintln!("{page:#}");
        }
        let mut out: Vec<(String, String)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["event"] == "watch.reminder")
            .map(|d| {
                (
                    d["id"].as_str().unwrap().to_string(),
                    d["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// Waits (at most 20 s) until `who`'s reminder deliveries on `channel` have exactly the
    /// statuses `want` (sorted); returns what they have then.
    async fn log_until(&self, who: &Session, channel: &str, want: &[&str]) -> Vec<String> {
        let start = Instant::now();
        loop {
            let mut statuses: Vec<String> = self
                .reminder_log(who, channel)
                .await
                .into_iter()
                .map(|(_, s)| s)
                .collect();
            statuses.sort();
            if statuses == want || start.elapsed() > Duration::from_secs(20) {
                return statuses;
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until none of `who`'s reminder deliveries on `channel` is still owed.
    async fn settled(&self, who: &Session, channel: &str) -> Vec<String> {
        let start = Instant::now();
        loop {
            let log = self.reminder_log(who, channel).await;
            let open = log.iter().any(|(_, s)| s == "pending" || s == "sending");
            if !open || start.elapsed() > Duration::from_secs(20) {
                let mut statuses: Vec<String> = log.into_iter().map(|(_, s)| s).collect();
                statuses.sort();
                return statuses;
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// `who`'s notifications of `event`, waiting (at most 20 s) until there are `n`.
pub async fn events_of(app: &TestApp, who: &Session, event: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let items: Vec<Value> = app
            .get("/me/notifications?limit=100", Some(&who.token))
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["event"] == event)
            .cloned()
            .collect();
        if items.len() >= n || start.elapsed() > Duration::from_secs(20) {
            return items;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn slot_of(reminder: &Value) -> &str {
    reminder["data"]["slot_start"].as_str().unwrap()
}

#[actix_web::test]
async fn the_repeated_hour_gets_two_reminders_each_at_its_own_instant_in_the_members_zone() {
    // New York falls back on 7 November 2027: 01:00 EDT is 05:00Z, 01:00 EST is 06:00Z.
    let s = Scene::at("2027-11-07T03:30:00Z").await;
    let kenji = s.member_in("Kenji", "Asia/Tokyo").await;
    let watch = s.hourly_watch("America/New_York", "2027-11-01").await;
    for start in ["2027-11-07T05:00:00Z", "2027-11-07T06:00:00Z"] {
        s.sign_up(&kenji, &watch, json!({"slot_start": start}))
            .await;
    }
    // Its reminder time (03:00Z) had passed when this signup was made: no reminder.
    s.sign_up(
        &kenji,
        &watch,
        json!({"slot_start": "2027-11-07T04:00:00Z"}),
    )
    .await;
    // Cancelled before its reminder is due: not sent.
    let cancelled = s
        .sign_up(
            &kenji,
            &watch,
            json!({"slot_start": "2027-11-07T07:00:00Z"}),
        )
        .await;
    s.app
        .delete(
            &format!("/watches/{watch}/signups/{cancelled}"),
            Some(&kenji.token),
        )
        .await
        .expect(204);
    // Due at 08:00Z while no instance was running; found at 08:20Z it is dropped, not sent late.
    s.sign_up(
        &kenji,
        &watch,
        json!({"slot_start": "2027-11-07T09:00:00Z"}),
    )
    .await;

    let first = s.instance_at("2027-11-07T03:59:56Z").await;
    let got = s.reminders(&kenji, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-11-07T05:00:00Z");
    // 05:00Z is 14:00 in Tokyo.
    let body = got[0]["body"].as_str().unwrap();
    assert!(
        body.contains("14:00") && body.contains("Asia/Tokyo"),
        "{body}"
    );
    assert_eq!(got[0]["link"], format!("/api/v1/watches/{watch}"));
    // Its email too, before this instance stops (a delivery cut short by a stop is owed again,
    // and would by then be too late to send).
    assert_eq!(s.mail.wait_for("kenji@example.org", 1).await.len(), 1);
    s.log_until(&kenji, "email", &["pending", "pending", "pending", "sent"])
        .await;
    first.stop().await;

    let second = s.instance_at("2027-11-07T04:59:56Z").await;
    let got = s.reminders(&kenji, 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-11-07T06:00:00Z", "newest first");
    assert!(got[0]["body"].as_str().unwrap().contains("15:00"));
    assert_eq!(s.mail.wait_for("kenji@example.org", 2).await.len(), 2);
    assert_eq!(
        s.log_until(&kenji, "email", &["pending", "pending", "sent", "sent"])
            .await,
        ["pending", "pending", "sent", "sent"]
    );
    second.stop().await;

    let _late = s.instance_at("2027-11-07T08:20:00Z").await;
    let statuses = s.settled(&kenji, "in_app").await;
    assert_eq!(statuses, ["dropped", "dropped", "sent", "sent"]);
    assert_eq!(
        s.reminders(&kenji, 2).await.len(),
        2,
        "nothing more arrived"
    );
    // The same two by email, each once, in the member's own time.
    let mails = s.mail.wait_for("kenji@example.org", 2).await;
    assert_eq!(mails.len(), 2, "one email per reminder");
    assert_eq!(
        s.settled(&kenji, "email").await,
        ["dropped", "dropped", "sent", "sent"]
    );
    let texts: Vec<String> = mails.iter().map(|m| m.text()).collect();
    assert!(texts.iter().any(|t| t.contains("14:00")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("15:00")), "{texts:?}");
}

#[actix_web::test]
async fn the_slot_after_a_skipped_hour_is_reminded_at_its_true_start() {
    // London springs forward on 28 March 2027: 00:00 GMT (00:00Z), then 02:00 BST (01:00Z);
    // there is no 01:00 slot. A member in New York holds the 02:00 BST slot.
    let s = Scene::at("2027-03-27T20:00:00Z").await;
    let nia = s.member_in("Nia", "America/New_York").await;
    let watch = s.hourly_watch("Europe/London", "2027-03-01").await;
    let slots = s
        .app
        .get(
            &format!("/watches/{watch}/slots?from=2027-03-28&to=2027-03-29"),
            Some(&nia.token),
        )
        .await
        .expect(200);
    let starts: Vec<&str> = slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z"]);
    s.sign_up(&nia, &watch, json!({"slot_start": "2027-03-28T01:00:00Z"}))
        .await;

    let _on = s.instance_at("2027-03-27T23:59:56Z").await;
    let got = s.reminders(&nia, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-03-28T01:00:00Z");
    // 01:00Z is 21:00 of the day before in New York (EDT since 14 March).
    let body = got[0]["body"].as_str().unwrap();
    assert!(
        body.contains("21:00") && body.contains("Saturday 27 March"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_weekly_signup_is_reminded_week_by_week_from_a_rolling_window_never_a_year_of_rows() {
    let s = Scene::at("2027-01-04T12:00:00Z").await;
    let ruth = s.member_in("Ruth", "Europe/Berlin").await;
    let watch = s.hourly_watch("America/New_York", "2027-01-01").await;
    // Mondays 10:00 in New York (15:00Z in winter), every week for a year.
    s.sign_up(
        &ruth,
        &watch,
        json!({"slot_start": "2027-01-04T15:00:00Z", "repeat_weekly": true}),
    )
    .await;
    // Only the occurrence inside the 48-hour window has a reminder so far.
    assert_eq!(s.reminder_log(&ruth, "in_app").await.len(), 1);

    // A week later an instance's periodic task finds the next occurrence entering the window
    // and its reminder goes at 14:00Z.
    let _on = s.instance_at("2027-01-11T13:59:50Z").await;
    let got = s.reminders(&ruth, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-01-11T15:00:00Z");
    // The first week's reminder (due 14:00Z on the 4th) was far too late when found: dropped.
    let statuses = s.settled(&ruth, "in_app").await;
    assert_eq!(statuses, ["dropped", "sent"]);
}

#[actix_web::test]
async fn a_changed_lead_moves_the_reminder_and_a_switched_off_one_is_not_sent() {
    let s = Scene::at("2027-05-01T06:00:00Z").await;
    let paul = s.member_in("Paul", "Europe/Paris").await;
    let quiet = s.member_in("Quinn", "UTC").await;
    let watch = s.hourly_watch("UTC", "2027-05-01").await;
    for who in [&paul, &quiet] {
        s.sign_up(who, &watch, json!({"slot_start": "2027-05-01T10:00:00Z"}))
            .await;
    }
    // Paul wants 15 minutes' notice, not 60; Quinn wants no reminder in the inbox.
    s.app
        .put(
            "/me/notification-preferences",
            Some(&paul.token),
            json!({"reminder_lead_minutes": 15}),
        )
        .await
        .expect(200);
    s.app
        .put(
            "/me/notification-preferences",
            Some(&quiet.token),
            json!({"in_app": {"watch.reminder": false}}),
        )
        .await
        .expect(200);

    let on = s.instance_at("2027-05-01T08:59:57Z").await;
    // At 09:00Z the 60-minute reminders fall due: both are dropped, and the periodic task has
    // written Paul's at his new lead.
    assert_eq!(
        s.log_until(&paul, "in_app", &["dropped", "pending"]).await,
        ["dropped", "pending"]
    );
    assert_eq!(s.settled(&quiet, "in_app").await, ["dropped"]);
    assert!(s.reminders(&paul, 0).await.is_empty());
    on.stop().await;
    // Paul's goes at 09:45Z.
    let _later = s.instance_at("2027-05-01T09:44:57Z").await;
    let got = s.reminders(&paul, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(s.settled(&paul, "in_app").await, ["dropped", "sent"]);
    assert!(s.reminders(&quiet, 0).await.is_empty());
}

#[actix_web::test]
async fn a_fast_day_not_checked_in_is_reminded_at_the_members_own_time_and_a_kept_one_is_not() {
    // A New York fast from 1 February; at 01:00 there on the 2nd, day 2 has begun.
    let s = Scene::at("2027-02-02T06:00:00Z").await;
    let kenji = s.member_in("Kenji", "Asia/Tokyo").await;
    let maria = s.member_in("Maria", "America/New_York").await;
    let fast = s
        .app
        .post(
            "/fasts",
            Some(&s.leader.token),
            json!({"name": "Daniel fast", "fast_type": "daniel", "starts_on": "2027-02-01",
                   "days": 3, "timezone": "America/New_York"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.app
        .put(
            "/me/notification-preferences",
            Some(&maria.token),
            json!({"fast_reminder_time": "21:00"}),
        )
        .await
        .expect(200);
    let participants = format!("/fasts/{fast}/participants");
    s.app
        .post(&participants, Some(&kenji.token), json!({}))
        .await
        .expect(201);
    s.app
        .post(&participants, Some(&maria.token), json!({"days": [1, 2]}))
        .await
        .expect(201);
    // Joined on day 2: day 1's reminder (11:00Z on the 1st) is long past and never written;
    // day 2's (20:00 in Tokyo, 11:00Z) and day 3's are, and Maria's day 2 (21:00 in New York).
    let kenji_days = |log: Vec<Value>| -> Vec<i64> {
        log.iter()
            .map(|n| n["data"]["day"].as_i64().unwrap())
            .collect()
    };
    let on = s.instance_at("2027-02-02T10:59:56Z").await;
    let got = events_of(&s.app, &kenji, "fast.check_in_reminder", 1).await;
    assert_eq!(kenji_days(got.clone()), [2]);
    let body = got[0]["body"].as_str().unwrap();
    assert!(body.contains("Day 2 of Daniel fast"), "{body}");
    assert_eq!(got[0]["link"], format!("/api/v1/fasts/{fast}/check-ins/me"));
    on.stop().await;
    // Maria keeps day 2 before her reminder: it is not sent.
    s.app
        .post(
            &format!("/fasts/{fast}/check-ins"),
            Some(&maria.token),
            json!({"day": 2, "kept": "yes", "note": "A private note"}),
        )
        .await
        .expect(201);
    let _later = s.instance_at("2027-02-03T01:59:56Z").await;
    actix_web::rt::time::sleep(Duration::from_secs(6)).await;
    assert!(events_of(&s.app, &maria, "fast.check_in_reminder", 0)
        .await
        .is_empty());
    let log = s
        .app
        .get(
            &format!(
                "/notification-deliveries?member_id={}&channel=in_app&limit=100",
                maria.id
            ),
            Some(&s.admin.token),
        )
        .await
        .expect(200);
    let statuses: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "fast.check_in_reminder")
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["dropped"],
        "written at the join, dropped when due"
    );
    // No email ever carries a check-in note.
    assert!(s
        .mail
        .received()
        .iter()
        .all(|m| !m.everything().contains("A private note")));
}

#[actix_web::test]
async fn an_unprayed_for_assignment_nudges_its_intercessor_then_the_assigner_or_team_leaders() {
    let start = at("2027-06-01T00:00:00Z");
    let app = spawn_app_with(|c| {
        c.workers_enabled = false;
        c.clock_start = Some(start);
    })
    .await;
    let c = crate::teams::church_in(app).await;
    let request = |title: &'static str| {
        let c = &c;
        async move {
            c.app
                .create_request(
                    &c.rita.token,
                    json!({"title": title, "body": "A private body text", "visibility": "congregation"}),
                )
                .await["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let named = request("Healing for Anna").await;
    let by_team = request("A job for Sam").await;
    for (req, body) in [
        (&named, json!({"member_id": c.ivy.id})),
        (&by_team, json!({"team_id": c.healing})),
    ] {
        c.app
            .post(
                &format!("/prayer-requests/{req}/assignments"),
                Some(&c.leader.token),
                body,
            )
            .await
            .expect(201);
    }
    let instance = |clock: &str| {
        let mut config = c.app.config.clone();
        config.clock_start = Some(at(clock));
        start_worker_with(config)
    };

    // Two days on: Ivy is nudged about the request named to her; nobody else hears yet.
    let first = instance("2027-06-03T00:00:30Z").await;
    let got = events_of(&c.app, &c.ivy, "request.unprayed", 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["data"]["request_id"], named.as_str());
    let body = got[0]["body"].as_str().unwrap();
    assert!(
        body.contains("Healing for Anna") && body.contains("48 hours"),
        "{body}"
    );
    // Hana, of the team it was given to, prays for the other one then.
    let hana = c.app.sign_in_on(&first.base, "hana@example.org").await;
    c.app
        .post_on(
            &first.base,
            &format!("/prayer-requests/{by_team}/prayers"),
            Some(&hana),
            json!({}),
        )
        .await
        .expect(201);
    first.stop().await;

    // Four days on: Ivy again (a new period), and the leader who assigned it is told. The team's
    // request was prayed for two days ago: its leaders hear nothing.
    let second = instance("2027-06-05T00:01:00Z").await;
    assert_eq!(
        events_of(&c.app, &c.ivy, "request.unprayed", 2).await.len(),
        2
    );
    let told = events_of(&c.app, &c.leader, "request.unprayed", 1).await;
    assert_eq!(told.len(), 1, "{told:?}");
    let body = told[0]["body"].as_str().unwrap();
    assert!(body.contains("Ivy has not logged a prayer"), "{body}");
    // Ivy prays: her nudges start again from now.
    let ivy = c.app.sign_in_on(&second.base, "ivy@example.org").await;
    c.app
        .post_on(
            &second.base,
            &format!("/prayer-requests/{named}/prayers"),
            Some(&ivy),
            json!({}),
        )
        .await
        .expect(201);
    second.stop().await;

    // Six days on: two days after Ivy prayed she is nudged once more, but the leader is not
    // (the escalation waits for a second period); four days after Hana prayed, the team's
    // leaders are told.
    let _third = instance("2027-06-07T00:01:30Z").await;
    let told = events_of(&c.app, &c.tom, "request.unprayed", 1).await;
    assert_eq!(told.len(), 1, "{told:?}");
    let body = told[0]["body"].as_str().unwrap();
    assert!(
        body.contains("No one in Healing") && body.contains("A job for Sam"),
        "{body}"
    );
    assert_eq!(
        events_of(&c.app, &c.ivy, "request.unprayed", 3).await.len(),
        3
    );
    assert_eq!(
        events_of(&c.app, &c.leader, "request.unprayed", 0)
            .await
            .len(),
        1
    );
    for who in [&c.hana, &c.rita, &c.omar] {
        assert!(events_of(&c.app, who, "request.unprayed", 0)
            .await
            .is_empty());
    }
}

#[actix_web::test]
async fn two_instances_send_each_daily_digest_once_at_its_hour_in_its_zone() {
    let s = Scene::at("2027-06-01T12:00:00Z").await;
    let rita = s.member_in("Rita", "Europe/London").await;
    let ivy = s.member_in("Ivy", "UTC").await;
    let hana = s.member_in("Hana", "Asia/Tokyo").await;
    let request = s
        .app
        .create_request(
            &rita.token,
            json!({"title": "Healing for Anna", "body": "A private body text", "visibility": "congregation"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pray = format!("/prayer-requests/{request}/prayers");
    for who in [&ivy, &ivy, &hana, &rita] {
        s.app
            .post(&pray, Some(&who.token), json!({}))
            .await
            .expect(201);
    }
    // A New York watch needing one a slot, with one slot held.
    let watch = s.hourly_watch("America/New_York", "2027-05-01").await;
    s.sign_up(&ivy, &watch, json!({"slot_start": "2027-06-02T14:00:00Z"}))
        .await;

    // 08:00 in London on 2 June is 07:00Z: two instances, one digest.
    let (_a, _b) = (
        s.instance_at("2027-06-02T07:00:01Z").await,
        s.instance_at("2027-06-02T07:00:01Z").await,
    );
    let got = events_of(&s.app, &rita, "request.prayed_digest", 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let body = got[0]["body"].as_str().unwrap();
    // Her own prayer does not count; names never appear.
    assert!(body.contains("3 times by 2 intercessors"), "{body}");
    for name in ["Ivy", "Hana", "Healing for Anna"] {
        assert!(!body.contains(name), "{body}");
    }
    actix_web::rt::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        events_of(&s.app, &rita, "request.prayed_digest", 0)
            .await
            .len(),
        1
    );
    assert!(events_of(&s.app, &ivy, "request.prayed_digest", 0)
        .await
        .is_empty());
    // By email it is off unless chosen.
    assert!(s
        .mail
        .received()
        .iter()
        .all(|m| !m.subject().contains("prayed for")));
    _a.stop().await;
    _b.stop().await;

    // 07:00 in New York is 11:00Z: the leaders hear of the gaps in the next 72 hours, once each.
    let (_c, _d) = (
        s.instance_at("2027-06-02T11:00:01Z").await,
        s.instance_at("2027-06-02T11:00:01Z").await,
    );
    let lea = events_of(&s.app, &s.leader, "watch.gaps_digest", 1).await;
    assert_eq!(lea.len(), 1, "{lea:?}");
    let body = lea[0]["body"].as_str().unwrap();
    // 72 slots, one held.
    assert!(body.contains("71 slots"), "{body}");
    assert_eq!(lea[0]["link"], format!("/api/v1/watches/{watch}/coverage"));
    let gaps = lea[0]["data"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "before and after the held slot: {gaps:?}");
    assert_eq!(gaps[0]["start"], "2027-06-02T11:00:00Z");
    assert_eq!(gaps[0]["end"], "2027-06-02T14:00:00Z");
    assert_eq!(
        events_of(&s.app, &s.admin, "watch.gaps_digest", 1)
            .await
            .len(),
        1
    );
    actix_web::rt::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        events_of(&s.app, &s.leader, "watch.gaps_digest", 0)
            .await
            .len(),
        1
    );
    assert!(events_of(&s.app, &ivy, "watch.gaps_digest", 0)
        .await
        .is_empty());
}

#[actix_web::test]
async fn a_blocked_out_slot_gets_no_reminder() {
    let s = Scene::at("2027-05-01T06:00:00Z").await;
    let bea = s.member_in("Bea", "UTC").await;
    let watch = s.hourly_watch("UTC", "2027-05-01").await;
    for start in ["2027-05-01T10:00:00Z", "2027-05-01T11:00:00Z"] {
        s.sign_up(&bea, &watch, json!({"slot_start": start})).await;
    }
    // Away from 10:30: the 10:00 and 11:00 slots overlap it; their reminders are written
    // already and are dropped when due.
    s.app
        .post(
            "/me/blockouts",
            Some(&bea.token),
            json!({"starts_at": "2027-05-01T10:30:00Z", "ends_at": "2027-05-01T12:00:00Z"}),
        )
        .await
        .expect(201)["affected"]
        .as_array()
        .map(|a| assert_eq!(a.len(), 2))
        .unwrap();
    let _on = s.instance_at("2027-05-01T09:59:55Z").await;
    assert_eq!(s.settled(&bea, "in_app").await, ["dropped", "dropped"]);
    assert!(s.reminders(&bea, 0).await.is_empty());
}

#[actix_web::test]
async fn time_driven_events_reach_subscribed_webhooks_when_due_and_not_once_given_up() {
    let s = Scene::at("2027-05-01T06:00:00Z").await;
    let receiver = crate::receiver::Receiver::start();
    let hook = s
        .app
        .post(
            "/webhooks",
            Some(&s.admin.token),
            json!({"url": receiver.url, "events": ["watch.reminder"]}),
        )
        .await
        .expect(201);
    let secret = hook["secret"].as_str().unwrap().to_string();
    let eve = s.member_in("Eve", "UTC").await;
    let watch = s.hourly_watch("UTC", "2027-05-01").await;
    s.sign_up(&eve, &watch, json!({"slot_start": "2027-05-01T10:00:00Z"}))
        .await;
    let given_up = s
        .sign_up(&eve, &watch, json!({"slot_start": "2027-05-01T11:00:00Z"}))
        .await;
    s.app
        .delete(
            &format!("/watches/{watch}/signups/{given_up}"),
            Some(&eve.token),
        )
        .await
        .expect(204);
    // Nothing is sent before its time.
    assert!(receiver.received().is_empty());
    let _on = s.instance_at("2027-05-01T08:59:56Z").await;
    let got = receiver.wait_for(1, 20).await;
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["type"], "watch.reminder");
    assert_eq!(body["data"]["slot_start"], "2027-05-01T10:00:00Z");
    assert_eq!(body["data"]["member_id"], eve.id.as_str());
    assert_eq!(body["data"]["watch_id"], watch.as_str());
    assert!(got[0].verified_with(&secret), "signed");
    _on.stop().await;
    // The given-up slot's reminder (due 10:00) is dropped, not delivered.
    let _later = s.instance_at("2027-05-01T09:59:56Z").await;
    actix_web::rt::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(receiver.received().len(), 1, "only the slot still held");
}

#[actix_web::test]
async fn a_backlog_of_nudges_never_holds_back_a_reminder_that_falls_due() {
    let s = Scene::at("2027-05-01T06:00:00Z").await;
    let bea = s.member_in("Bea", "UTC").await;
    let watch = s.hourly_watch("UTC", "2027-05-01").await;
    // Its reminder is due at 09:00.
    s.sign_up(&bea, &watch, json!({"slot_start": "2027-05-01T10:00:00Z"}))
        .await;
    // Ten thousand nudges due an hour earlier, as the first nudge turn on a church with many old
    // assignments writes them (about requests long gone: each is dropped when delivered).
    let url = s.app.config.database_url.clone();
    let member = bea.id.clone();
    actix_web::web::block(move || {
        use intercede::outbox::{enqueue, Channel, Event, Notice};
        let db = crate::helpers::connect(&url);
        let mut conn = db.blocking_conn().expect("conn");
        let due = "2027-05-01T08:00:00".parse().unwrap();
        let notices: Vec<Notice> = (0..10_000)
            .map(|i| Notice {
                event: Event::RequestUnprayed,
                member_id: member.clone(),
                data: json!({"request_id": format!("gone-{i}"), "assignment_id": format!("a-{i}")}),
                key: format!("request.unprayed:backlog-{i}"),
                due: Some(due),
            })
            .collect();
        diesel::Connection::transaction(&mut **conn, |c| {
            enqueue(c, due, &[Channel::InApp], &notices)
        })
        .expect("enqueued");
    })
    .await
    .unwrap();
    let _on = s.instance_at("2027-05-01T08:59:58Z").await;
    let got = s.reminders(&bea, 1).await;
    assert_eq!(got.len(), 1, "the reminder arrived");
    // It did not wait for the backlog to drain.
    let owed = s
        .app
        .get(
            &format!(
                "/notification-deliveries?member_id={}&status=pending&limit=100",
                bea.id
            ),
            Some(&s.admin.token),
        )
        .await
        .expect(200);
    assert!(
        !owed["items"].as_array().unwrap().is_empty(),
        "nudges were still owed when the reminder went"
    );
}

#[actix_web::test]
async fn new_yorks_spring_and_londons_autumn_changes_are_reminded_each_once_at_their_instants() {
    // New York springs forward on 14 March 2027: 01:00 EST is 06:00Z, then 03:00 EDT is 07:00Z.
    // London falls back on 31 October 2027: 01:00 BST is 00:00Z, 01:00 GMT is 01:00Z.
    // Both held by a member in Sydney (UTC+11 then, summer time).
    let s = Scene::at("2027-03-13T12:00:00Z").await;
    let ana = s.member_in("Ana", "Australia/Sydney").await;
    let ny = s.hourly_watch("America/New_York", "2027-03-01").await;
    let london = s.hourly_watch("Europe/London", "2027-03-01").await;
    for start in ["2027-03-14T06:00:00Z", "2027-03-14T07:00:00Z"] {
        s.sign_up(&ana, &ny, json!({"slot_start": start})).await;
    }
    let spring = s.instance_at("2027-03-14T04:59:56Z").await;
    let got = s.reminders(&ana, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-03-14T06:00:00Z");
    // 06:00Z is 17:00 in Sydney.
    assert!(got[0]["body"].as_str().unwrap().contains("17:00"));
    spring.stop().await;
    let after_gap = s.instance_at("2027-03-14T05:59:56Z").await;
    let got = s.reminders(&ana, 2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-03-14T07:00:00Z");
    after_gap.stop().await;

    // The autumn signups are made the day before, on an instance at that time.
    let before = s.instance_at("2027-10-30T12:00:00Z").await;
    let token = s.app.sign_in_on(&before.base, "ana@example.org").await;
    for start in ["2027-10-31T00:00:00Z", "2027-10-31T01:00:00Z"] {
        s.app
            .post_on(
                &before.base,
                &format!("/watches/{london}/signups"),
                Some(&token),
                json!({"slot_start": start}),
            )
            .await
            .expect(201);
    }
    before.stop().await;
    let first = s.instance_at("2027-10-30T22:59:56Z").await;
    let got = s.reminders(&ana, 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-10-31T00:00:00Z");
    first.stop().await;
    let second = s.instance_at("2027-10-30T23:59:56Z").await;
    let got = s.reminders(&ana, 4).await;
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(slot_of(&got[0]), "2027-10-31T01:00:00Z");
    second.stop().await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.reminders(&ana, 4).await.len(), 4, "each once");
}
