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
        let start = Instant::now();
        loop {
            let items: Vec<Value> = self
                .app
                .get("/me/notifications?limit=100", Some(&who.token))
                .await
                .expect(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["event"] == "watch.reminder")
                .cloned()
                .collect();
            if items.len() >= n || start.elapsed() > Duration::from_secs(20) {
                return items;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
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
    drop(first);

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
    drop(second);

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
    drop(on);
    // Paul's goes at 09:45Z.
    let _later = s.instance_at("2027-05-01T09:44:57Z").await;
    let got = s.reminders(&paul, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(s.settled(&paul, "in_app").await, ["dropped", "sent"]);
    assert!(s.reminders(&quiet, 0).await.is_empty());
}
