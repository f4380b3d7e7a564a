//! Prayer watches through the API: roles, validation, daylight saving, signups and the hard cap
//! under concurrency, coverage, check-ins, my slots, and the calendar feed read by a real
//! iCalendar parser.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{is_postgres, line_up, Session};
use crate::teams::{church, Church};

fn watch_body(fields: Value) -> Value {
    let mut body = json!({
        "name": "24/7 prayer room",
        "timezone": "America/New_York",
        "starts_on": (Utc::now().date_naive() - Duration::days(3)).to_string(),
        "slot_minutes": 60,
        "min_per_slot": 1
    });
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

impl Church {
    async fn watch(&self, by: &Session, fields: Value) -> String {
        self.app
            .post("/watches", Some(&by.token), watch_body(fields))
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn slots(&self, by: &Session, watch: &str, from: &str, to: &str) -> Vec<Value> {
        self.app
            .get(
                &format!("/watches/{watch}/slots?from={from}&to={to}"),
                Some(&by.token),
            )
            .await
            .expect(200)["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn sign_up(&self, by: &Session, watch: &str, body: Value) -> crate::helpers::Resp {
        self.app
            .post(&format!("/watches/{watch}/signups"), Some(&by.token), body)
            .await
    }
}

/// A slot of tomorrow in the watch's zone (hourly watch): its UTC start.
fn tomorrow_at(hour: u32) -> String {
    let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let day = Utc::now().with_timezone(&tz).date_naive() + Duration::days(1);
    use chrono::TimeZone;
    tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[actix_web::test]
async fn leaders_make_church_watches_team_leaders_their_teams_and_members_see_what_is_theirs() {
    let c = church().await;
    let church_watch = c.watch(&c.leader, json!({})).await;
    c.app
        .post("/watches", Some(&c.hana.token), watch_body(json!({})))
        .await
        .expect_problem(403);
    c.app
        .post("/watches", Some(&c.tom.token), watch_body(json!({})))
        .await
        .expect_problem(403);
    let team_watch = c
        .watch(
            &c.tom,
            json!({"team_id": c.healing, "name": "Healing night watch"}),
        )
        .await;
    c.app
        .post(
            "/watches",
            Some(&c.tom.token),
            watch_body(json!({"team_id": c.nations})),
        )
        .await
        .expect_problem(403);
    let names = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(c.app.get("/watches", Some(&c.omar.token)).await.expect(200)),
        vec![church_watch.clone()]
    );
    assert_eq!(
        names(c.app.get("/watches", Some(&c.hana.token)).await.expect(200)).len(),
        2
    );
    assert_eq!(
        names(
            c.app
                .get("/watches", Some(&c.leader.token))
                .await
                .expect(200)
        )
        .len(),
        2
    );
    let p = format!("/watches/{team_watch}");
    c.app.get(&p, Some(&c.omar.token)).await.expect_problem(404);
    for suffix in ["/slots", "/coverage", "/now", "/signups"] {
        c.app
            .get(&format!("{p}{suffix}"), Some(&c.omar.token))
            .await
            .expect_problem(404);
    }
    c.app.get(&p, Some(&c.hana.token)).await.expect(200);
    c.app
        .patch(&p, Some(&c.hana.token), json!({"name": "x"}))
        .await
        .expect_problem(403);
    c.app
        .patch(&p, Some(&c.omar.token), json!({"name": "x"}))
        .await
        .expect_problem(404);
    c.app
        .patch(&p, Some(&c.tia.token), json!({"name": "x"}))
        .await
        .expect_problem(404);
    assert_eq!(
        c.app
            .patch(&p, Some(&c.tom.token), json!({"name": "Healing watch"}))
            .await
            .expect(200)["name"],
        "Healing watch"
    );
    c.app
        .patch(
            &format!("/watches/{church_watch}"),
            Some(&c.tom.token),
            json!({"name": "x"}),
        )
        .await
        .expect_problem(403);
    c.app
        .delete(&p, Some(&c.hana.token))
        .await
        .expect_problem(403);
    c.app.delete(&p, Some(&c.tom.token)).await.expect(204);
    c.app
        .get(&p, Some(&c.leader.token))
        .await
        .expect_problem(404);
}

#[actix_web::test]
async fn invalid_watches_and_ranges_are_422_naming_the_field() {
    let c = church().await;
    for (fields, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"slot_minutes": 7}), "slot_minutes"),
        (json!({"slot_minutes": 3}), "slot_minutes"),
        (
            json!({"slot_minutes": 180, "day_start": "22:00", "day_end": "06:00"}),
            "slot_minutes",
        ),
        (json!({"day_start": "25:00"}), "day_start"),
        (json!({"day_end": "7pm"}), "day_end"),
        (
            json!({"min_per_slot": 3, "max_per_slot": 2}),
            "max_per_slot",
        ),
        (json!({"min_per_slot": 0}), "min_per_slot"),
        (json!({"starts_on": "2027-02-30"}), "starts_on"),
        (
            json!({"starts_on": "2027-03-01", "ends_on": "2027-02-01"}),
            "ends_on",
        ),
        (json!({"team_id": "nope"}), "team_id"),
    ] {
        let fields_seen = c
            .app
            .post(
                "/watches",
                Some(&c.leader.token),
                watch_body(fields.clone()),
            )
            .await
            .expect_invalid();
        assert_eq!(fields_seen, vec![field.to_string()], "{fields}");
    }
    let w = c.watch(&c.leader, json!({})).await;
    for (q, field) in [
        ("from=2027-03-10&to=2027-03-09", "to"),
        ("from=2027-03-10&to=2027-03-10", "to"),
        ("from=2027-03-01&to=2027-04-02", "to"),
        ("from=yesterday", "from"),
    ] {
        let fields = c
            .app
            .get(&format!("/watches/{w}/slots?{q}"), Some(&c.hana.token))
            .await
            .expect_invalid();
        assert_eq!(fields, vec![field.to_string()], "{q}");
    }
    let fields = c
        .app
        .get(
            &format!("/watches/{w}/coverage?from=2027-01-01&to=2028-01-03"),
            Some(&c.hana.token),
        )
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["to"]);
    let fields = c
        .sign_up(&c.hana, &w, json!({"slot_start": "2027-06-01T12:30:00Z"}))
        .await
        .expect_invalid();
    assert_eq!(fields, vec!["slot_start"]);
}

#[actix_web::test]
async fn slots_follow_daylight_saving_in_new_york_and_london() {
    let c = church().await;
    let ny = c.watch(&c.leader, json!({"starts_on": "2027-01-01"})).await;
    let autumn = c.slots(&c.hana, &ny, "2027-11-07", "2027-11-08").await;
    assert_eq!(autumn.len(), 25);
    assert_eq!(autumn[1]["local_start"], "2027-11-07T01:00:00-04:00");
    assert_eq!(autumn[2]["local_start"], "2027-11-07T01:00:00-05:00");
    assert_eq!(autumn[1]["start"], "2027-11-07T05:00:00Z");
    assert_eq!(autumn[2]["start"], "2027-11-07T06:00:00Z");
    let spring = c.slots(&c.hana, &ny, "2027-03-14", "2027-03-15").await;
    assert_eq!(spring.len(), 23);
    assert!(spring
        .iter()
        .all(|s| !s["local_start"].as_str().unwrap().contains("T02:")));
    assert_eq!(spring[1]["end"], "2027-03-14T07:00:00Z");
    let london = c
        .watch(
            &c.leader,
            json!({"timezone": "Europe/London", "starts_on": "2027-01-01"}),
        )
        .await;
    assert_eq!(
        c.slots(&c.hana, &london, "2027-03-28", "2027-03-29")
            .await
            .len(),
        23
    );
    assert_eq!(
        c.slots(&c.hana, &london, "2027-10-31", "2027-11-01")
            .await
            .len(),
        25
    );
    let night = c
        .watch(
            &c.leader,
            json!({"timezone": "Asia/Kolkata", "starts_on": "2027-01-01",
                                 "day_start": "22:00", "day_end": "06:00", "slot_minutes": 120}),
        )
        .await;
    let slots = c.slots(&c.hana, &night, "2027-05-01", "2027-05-02").await;
    let locals: Vec<&str> = slots
        .iter()
        .map(|s| s["local_start"].as_str().unwrap())
        .collect();
    assert_eq!(
        locals,
        vec![
            "2027-05-01T22:00:00+05:30",
            "2027-05-02T00:00:00+05:30",
            "2027-05-02T02:00:00+05:30",
            "2027-05-02T04:00:00+05:30"
        ]
    );
    // A fall-back slot is signed up for by its own UTC start: the second 01:00, not the first.
    let second = autumn[2]["start"].as_str().unwrap();
    c.sign_up(&c.hana, &ny, json!({"slot_start": second}))
        .await
        .expect(201);
    let again = c.slots(&c.hana, &ny, "2027-11-07", "2027-11-08").await;
    assert_eq!(again[1]["signed_up"], 0);
    assert_eq!(again[2]["signed_up"], 1);
    assert_eq!(again[2]["mine"], true);
    assert_eq!(again[2]["intercessors"][0]["display_name"], "Hana");
}

#[actix_web::test]
async fn signing_up_twice_returns_the_same_signup_and_past_slots_cannot_be_taken() {
    let c = church().await;
    let w = c.watch(&c.leader, json!({})).await;
    let slot = tomorrow_at(3);
    let first = c
        .sign_up(&c.hana, &w, json!({"slot_start": slot}))
        .await
        .expect(201);
    let again = c
        .sign_up(&c.hana, &w, json!({"slot_start": slot}))
        .await
        .expect(200);
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["slots_held"], 1);
    let past = (Utc::now() - Duration::hours(30))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string();
    c.sign_up(&c.hana, &w, json!({"slot_start": past}))
        .await
        .expect_problem(409);
    assert_eq!(
        c.sign_up(
            &c.hana,
            &w,
            json!({"slot_start": slot, "until": "2027-01-01"})
        )
        .await
        .expect_invalid(),
        vec!["until"]
    );
}

#[actix_web::test]
async fn the_cap_holds_when_many_sign_up_at_once() {
    let c = church().await;
    let w = c.watch(&c.leader, json!({"max_per_slot": 3})).await;
    let n = if is_postgres() { 50 } else { 12 };
    let mut people = Vec::new();
    for i in 0..n {
        people.push(c.app.member(&format!("Watcher{i}")).await);
    }
    let slot = tomorrow_at(4);
    let attempts = people
        .iter()
        .map(|p| c.sign_up(p, &w, json!({"slot_start": slot})))
        .collect();
    let lock = c.app.hold_writes("watch_signup_slots").await;
    let results = line_up(lock, attempts).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        n - 3,
        "{statuses:?}"
    );
    let day = chrono::DateTime::parse_from_rfc3339(&slot)
        .unwrap()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    let slots = c
        .slots(
            &c.hana,
            &w,
            &day.to_string(),
            &(day + Duration::days(1)).to_string(),
        )
        .await;
    let held = slots.iter().find(|s| s["start"] == slot.as_str()).unwrap();
    assert_eq!(held["signed_up"], 3);
}

#[actix_web::test]
async fn a_weekly_signup_holds_its_local_time_and_is_refused_whole_when_a_week_is_full() {
    let c = church().await;
    let w = c
        .watch(
            &c.leader,
            json!({"max_per_slot": 1, "starts_on": "2027-01-01"}),
        )
        .await;
    // Tuesdays 03:00 New York from 2 March 2027, across the 14 March change.
    let weekly = c
        .sign_up(&c.hana, &w, json!({"slot_start": "2027-03-02T08:00:00Z", "repeat_weekly": true, "until": "2027-03-30"}))
        .await
        .expect(201);
    assert_eq!(weekly["slots_held"], 5);
    assert_eq!(weekly["until"], "2027-03-30");
    let after_change = c.slots(&c.ivy, &w, "2027-03-16", "2027-03-17").await;
    let three_am = after_change
        .iter()
        .find(|s| s["local_start"] == "2027-03-16T03:00:00-04:00")
        .unwrap();
    assert_eq!(three_am["signed_up"], 1);
    assert_eq!(three_am["start"], "2027-03-16T07:00:00Z");
    // Ivy holds one Tuesday; Omar's weekly over it is refused whole, naming that slot.
    c.sign_up(&c.ivy, &w, json!({"slot_start": "2027-04-13T07:00:00Z"}))
        .await
        .expect(201);
    let refused = c
        .sign_up(&c.omar, &w, json!({"slot_start": "2027-04-06T07:00:00Z", "repeat_weekly": true, "until": "2027-05-01"}))
        .await
        .expect_problem(409);
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("2027-04-13T03:00:00-04:00"),
        "{refused}"
    );
    let omar = c
        .app
        .get(&format!("/watches/{w}/signups"), Some(&c.omar.token))
        .await
        .expect(200);
    assert!(
        omar["items"].as_array().unwrap().is_empty(),
        "nothing was kept"
    );
    // Giving up a weekly signup from a date keeps the weeks before it.
    let id = weekly["id"].as_str().unwrap();
    c.app
        .delete(
            &format!("/watches/{w}/signups/{id}?from=2027-03-16"),
            Some(&c.ivy.token),
        )
        .await
        .expect_problem(403);
    c.app
        .delete(
            &format!("/watches/{w}/signups/{id}?from=2027-03-16"),
            Some(&c.hana.token),
        )
        .await
        .expect(204);
    let mine = c
        .app
        .get(
            &format!("/watches/{w}/signups?mine=true"),
            Some(&c.hana.token),
        )
        .await
        .expect(200);
    assert_eq!(mine["items"][0]["slots_held"], 2);
    assert_eq!(mine["items"][0]["until"], "2027-03-15");
}

#[actix_web::test]
async fn members_see_their_own_signups_managers_see_all() {
    let c = church().await;
    let w = c.watch(&c.tom, json!({"team_id": c.healing})).await;
    c.sign_up(&c.hana, &w, json!({"slot_start": tomorrow_at(1)}))
        .await
        .expect(201);
    let ivy = c
        .sign_up(&c.ivy, &w, json!({"slot_start": tomorrow_at(2)}))
        .await
        .expect(201);
    let count = |v: Value| v["items"].as_array().unwrap().len();
    assert_eq!(
        count(
            c.app
                .get(&format!("/watches/{w}/signups"), Some(&c.hana.token))
                .await
                .expect(200)
        ),
        1
    );
    assert_eq!(
        count(
            c.app
                .get(&format!("/watches/{w}/signups"), Some(&c.tom.token))
                .await
                .expect(200)
        ),
        2
    );
    assert_eq!(
        count(
            c.app
                .get(
                    &format!("/watches/{w}/signups?mine=true"),
                    Some(&c.tom.token)
                )
                .await
                .expect(200)
        ),
        0
    );
    assert_eq!(
        count(
            c.app
                .get(&format!("/watches/{w}/signups"), Some(&c.leader.token))
                .await
                .expect(200)
        ),
        2
    );
    let path = format!("/watches/{w}/signups/{}", ivy["id"].as_str().unwrap());
    c.app
        .delete(&path, Some(&c.hana.token))
        .await
        .expect_problem(403);
    c.app.delete(&path, Some(&c.tom.token)).await.expect(204);
    c.app
        .delete(&path, Some(&c.tom.token))
        .await
        .expect_problem(404);
}

#[actix_web::test]
async fn coverage_counts_filled_slots_and_merges_gaps() {
    let c = church().await;
    let w = c
        .watch(&c.leader, json!({"timezone": "UTC", "starts_on": "2027-06-01", "ends_on": "2027-06-01", "slot_minutes": 360, "min_per_slot": 2}))
        .await;
    // Four six-hour slots: fill the first two (two people each), half-fill the third.
    for slot in ["2027-06-01T00:00:00Z", "2027-06-01T06:00:00Z"] {
        c.sign_up(&c.hana, &w, json!({"slot_start": slot}))
            .await
            .expect(201);
        c.sign_up(&c.ivy, &w, json!({"slot_start": slot}))
            .await
            .expect(201);
    }
    c.sign_up(&c.hana, &w, json!({"slot_start": "2027-06-01T12:00:00Z"}))
        .await
        .expect(201);
    let coverage = c
        .app
        .get(
            &format!("/watches/{w}/coverage?from=2027-05-31&to=2027-06-03"),
            Some(&c.omar.token),
        )
        .await
        .expect(200);
    assert_eq!(coverage["slots_total"], 4);
    assert_eq!(coverage["slots_filled"], 2);
    assert_eq!(coverage["percent_filled"], 50.0);
    assert_eq!(
        coverage["gaps"],
        json!([{"start": "2027-06-01T12:00:00Z", "end": "2027-06-02T00:00:00Z",
                "local_start": "2027-06-01T12:00:00+00:00", "local_end": "2027-06-02T00:00:00+00:00"}])
    );
}

/// Gaps carry the watch's local times as slots do (a leader reads "from midnight to midnight",
/// across the spring-forward day's 23 hours), and without `from` the range starts now: hours
/// already past today are not gaps anyone can fill.
#[actix_web::test]
async fn gaps_carry_local_times_and_the_default_range_starts_now() {
    let c = church().await;
    let ny = c
        .watch(
            &c.leader,
            json!({"timezone": "America/New_York", "starts_on": "2027-03-01"}),
        )
        .await;
    let spring = c
        .app
        .get(
            &format!("/watches/{ny}/coverage?from=2027-03-14&to=2027-03-15"),
            Some(&c.omar.token),
        )
        .await
        .expect(200);
    assert_eq!(spring["slots_total"], 23);
    assert_eq!(
        spring["gaps"],
        json!([{"start": "2027-03-14T05:00:00Z", "end": "2027-03-15T04:00:00Z",
                "local_start": "2027-03-14T00:00:00-05:00", "local_end": "2027-03-15T00:00:00-04:00"}])
    );

    let utc = c.watch(&c.leader, json!({"timezone": "UTC"})).await;
    let hour_before = Utc::now().format("%Y-%m-%dT%H:00:00Z").to_string();
    let coverage = c
        .app
        .get(&format!("/watches/{utc}/coverage"), Some(&c.omar.token))
        .await
        .expect(200);
    let hour_after = Utc::now().format("%Y-%m-%dT%H:00:00Z").to_string();
    // A week of hourly slots from today, less the hours of today that have ended.
    let first_gap = coverage["gaps"][0]["start"].as_str().unwrap().to_string();
    assert!(
        first_gap == hour_before || first_gap == hour_after,
        "the first gap is the slot under way now, not local midnight: {first_gap}"
    );
    let past_today = chrono::DateTime::parse_from_rfc3339(&first_gap)
        .unwrap()
        .format("%H")
        .to_string()
        .parse::<i64>()
        .unwrap();
    assert_eq!(coverage["slots_total"], 7 * 24 - past_today);
    // With `from`, the whole of that day counts, past hours included.
    let today = Utc::now().date_naive();
    let whole = c
        .app
        .get(
            &format!(
                "/watches/{utc}/coverage?from={today}&to={}",
                today + Duration::days(1)
            ),
            Some(&c.omar.token),
        )
        .await
        .expect(200);
    assert_eq!(whole["slots_total"], 24);
}

#[actix_web::test]
async fn a_member_checks_in_during_their_own_slot_only() {
    let c = church().await;
    let w = c.watch(&c.leader, json!({"timezone": "UTC"})).await;
    let now_slot = Utc::now().format("%Y-%m-%dT%H:00:00Z").to_string();
    c.sign_up(&c.hana, &w, json!({"slot_start": now_slot}))
        .await
        .expect(201);
    let path = format!("/watches/{w}/check-ins");
    let first = c
        .app
        .post(
            &path,
            Some(&c.hana.token),
            json!({"slot_start": now_slot, "note": "Here"}),
        )
        .await
        .expect(201);
    assert_eq!(first["note"], "Here");
    let again = c
        .app
        .post(
            &path,
            Some(&c.hana.token),
            json!({"slot_start": now_slot, "note": "Still here"}),
        )
        .await
        .expect(200);
    assert_eq!(again["note"], "Still here");
    c.app
        .post(&path, Some(&c.ivy.token), json!({"slot_start": now_slot}))
        .await
        .expect_problem(403);
    let later = (Utc::now() + Duration::hours(3))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string();
    c.sign_up(&c.hana, &w, json!({"slot_start": later}))
        .await
        .expect(201);
    c.app
        .post(&path, Some(&c.hana.token), json!({"slot_start": later}))
        .await
        .expect_problem(409);
    let now = c
        .app
        .get(&format!("/watches/{w}/now"), Some(&c.omar.token))
        .await
        .expect(200);
    assert_eq!(now["slot"]["start"], now_slot.as_str());
    assert_eq!(now["slot"]["intercessors"][0]["display_name"], "Hana");
    assert_eq!(now["checked_in"][0]["display_name"], "Hana");
    assert!(now["next"]["start"].is_string());
}

#[actix_web::test]
async fn my_slots_span_every_watch_in_my_own_time_zone() {
    let c = church().await;
    c.app
        .patch(
            "/me",
            Some(&c.hana.token),
            json!({"timezone": "Asia/Tokyo"}),
        )
        .await
        .expect(200);
    let a = c.watch(&c.leader, json!({"starts_on": "2027-01-01"})).await;
    let b = c
        .watch(
            &c.tom,
            json!({"team_id": c.healing, "timezone": "Europe/London", "starts_on": "2027-01-01"}),
        )
        .await;
    c.sign_up(&c.hana, &a, json!({"slot_start": "2027-07-01T12:00:00Z"}))
        .await
        .expect(201);
    c.sign_up(&c.hana, &b, json!({"slot_start": "2027-07-01T18:00:00Z"}))
        .await
        .expect(201);
    let mine = c
        .app
        .get(
            "/me/watch-slots?from=2027-07-01&to=2027-07-03",
            Some(&c.hana.token),
        )
        .await
        .expect(200);
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["local_start"], "2027-07-01T08:00:00-04:00");
    assert_eq!(items[0]["my_local_start"], "2027-07-01T21:00:00+09:00");
    assert_eq!(items[1]["local_start"], "2027-07-01T19:00:00+01:00");
    assert_eq!(items[1]["my_local_start"], "2027-07-02T03:00:00+09:00");
    assert_eq!(items[1]["watch_id"], b.as_str());
}

#[actix_web::test]
async fn the_calendar_feed_parses_as_icalendar_and_dies_when_rotated() {
    let c = church().await;
    let w = c
        .watch(
            &c.leader,
            json!({"name": "Night, watch; \"24/7\"", "starts_on": "2027-01-01"}),
        )
        .await;
    c.sign_up(&c.hana, &w, json!({"slot_start": "2027-07-01T12:00:00Z"}))
        .await
        .expect(201);
    c.sign_up(
        &c.hana,
        &w,
        json!({"slot_start": "2027-03-02T08:00:00Z", "repeat_weekly": true, "until": "2027-03-30"}),
    )
    .await
    .expect(201);
    let url = c
        .app
        .post("/me/calendar-token", Some(&c.hana.token), json!({}))
        .await
        .expect(200)["url"]
        .as_str()
        .unwrap()
        .to_string();
    // Built from PUBLIC_BASE_URL (its default in tests), whatever Host the request named.
    assert!(
        url.starts_with("http://127.0.0.1:8080/api/v1/calendar/"),
        "{url}"
    );
    let path = &url[url.find("/api/v1/").unwrap()..];
    let feed = c.app.get(path, None).await;
    assert_eq!(feed.status, 200);
    assert!(feed
        .header("content-type")
        .unwrap()
        .starts_with("text/calendar"));
    let text = feed.text();
    assert!(text.contains("\r\n"), "CRLF line endings");
    let mut parser = ical::IcalParser::new(text.as_bytes());
    let calendar = parser.next().expect("one calendar").expect("it parses");
    assert_eq!(calendar.events.len(), 2);
    assert_eq!(calendar.timezones.len(), 1);
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.value.clone().unwrap_or_default(), p.params.clone()))
    };
    let single = calendar
        .events
        .iter()
        .find(|e| prop(e, "RRULE").is_none())
        .unwrap();
    assert_eq!(prop(single, "DTSTART").unwrap().0, "20270701T120000Z");
    assert_eq!(prop(single, "DTEND").unwrap().0, "20270701T130000Z");
    assert_eq!(
        prop(single, "SUMMARY").unwrap().0,
        "Prayer watch: Night\\, watch\\; \"24/7\""
    );
    let weekly = calendar
        .events
        .iter()
        .find(|e| prop(e, "RRULE").is_some())
        .unwrap();
    let (start, params) = prop(weekly, "DTSTART").unwrap();
    assert_eq!(start, "20270302T030000");
    assert_eq!(
        params.unwrap().iter().find(|(k, _)| k == "TZID").unwrap().1,
        vec!["America/New_York".to_string()]
    );
    assert!(prop(weekly, "RRULE")
        .unwrap()
        .0
        .starts_with("FREQ=WEEKLY;UNTIL=20270331T"));
    assert_eq!(prop(weekly, "DURATION").unwrap().0, "PT60M");
    for event in &calendar.events {
        assert_eq!(
            event.properties.iter().filter(|p| p.name == "UID").count(),
            1
        );
        assert_eq!(
            event
                .properties
                .iter()
                .filter(|p| p.name == "DTSTAMP")
                .count(),
            1
        );
    }
    // A new secret kills the old URL.
    c.app
        .post("/me/calendar-token", Some(&c.hana.token), json!({}))
        .await
        .expect(200);
    c.app.get(path, None).await.expect_problem(404);
    c.app
        .get("/api/v1/calendar/made-up.ics", None)
        .await
        .expect_problem(404);
    c.app
        .post("/me/calendar-token", None, json!({}))
        .await
        .expect_problem(401);
}

#[actix_web::test]
async fn a_watchs_slots_cannot_move_under_its_signups() {
    let c = church().await;
    let w = c.watch(&c.leader, json!({"starts_on": "2027-01-01"})).await;
    c.app
        .patch(
            &format!("/watches/{w}"),
            Some(&c.leader.token),
            json!({"slot_minutes": 30}),
        )
        .await
        .expect(200);
    c.sign_up(&c.hana, &w, json!({"slot_start": "2027-07-01T12:00:00Z"}))
        .await
        .expect(201);
    c.app
        .patch(
            &format!("/watches/{w}"),
            Some(&c.leader.token),
            json!({"timezone": "Europe/Paris"}),
        )
        .await
        .expect_problem(409);
    let ok = c
        .app
        .patch(
            &format!("/watches/{w}"),
            Some(&c.leader.token),
            json!({"max_per_slot": 5, "description": "All welcome"}),
        )
        .await
        .expect(200);
    assert_eq!(ok["max_per_slot"], 5);
    assert_eq!(ok["slot_minutes"], 30);
}

/// The feed's URL starts with `PUBLIC_BASE_URL`: a request naming another `Host` or forwarded
/// host (anyone can write them) cannot turn the secret link into one on a stranger's server.
#[actix_web::test]
async fn the_calendar_url_is_built_from_the_public_base_url_never_from_request_headers() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.public_base_url = "https://prayer.example.org/church".into();
    })
    .await;
    let member = app.member("Mia").await;
    let res = app
        .raw(
            actix_web::http::Method::POST,
            "/api/v1/me/calendar-token",
            &[
                ("authorization", &format!("Bearer {}", member.token)),
                ("content-type", "application/json"),
                ("host", "prayer.evil.example"),
                ("x-forwarded-host", "prayer.evil.example"),
                ("x-forwarded-proto", "http"),
                ("forwarded", "host=prayer.evil.example;proto=http"),
            ],
            b"{}".to_vec(),
        )
        .await;
    let url = res.expect(200)["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("https://prayer.example.org/church/api/v1/calendar/")
            && url.ends_with(".ics"),
        "{url}"
    );
}
