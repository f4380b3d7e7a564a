//! Group fasts through the API: roles, validation, days counted in the fast's own zone,
//! commitments and fasting chains, private check-ins, streaks, leaving, editing, the calendar.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::Session;
use crate::teams::{church, Church};

/// Today's date in a zone.
fn today_in(tz: &str) -> chrono::NaiveDate {
    let tz: chrono_tz::Tz = tz.parse().unwrap();
    Utc::now().with_timezone(&tz).date_naive()
}

fn fast_body(fields: Value) -> Value {
    let mut body = json!({
        "name": "21-day Daniel fast",
        "fast_type": "daniel",
        "starts_on": today_in("UTC").to_string(),
        "days": 21,
        "timezone": "UTC"
    });
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

impl Church {
    async fn fast(&self, by: &Session, fields: Value) -> String {
        self.app
            .post("/fasts", Some(&by.token), fast_body(fields))
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[actix_web::test]
async fn leaders_call_fasts_team_leaders_their_teams_and_members_see_what_is_theirs() {
    let c = church().await;
    let church_fast = c.fast(&c.leader, json!({})).await;
    c.app
        .post("/fasts", Some(&c.hana.token), fast_body(json!({})))
        .await
        .expect_problem(403);
    c.app
        .post("/fasts", Some(&c.tom.token), fast_body(json!({})))
        .await
        .expect_problem(403);
    let team_fast = c.fast(&c.tom, json!({"team_id": c.healing})).await;
    c.app
        .post(
            "/fasts",
            Some(&c.tom.token),
            fast_body(json!({"team_id": c.nations})),
        )
        .await
        .expect_problem(403);
    let ids = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(c.app.get("/fasts", Some(&c.omar.token)).await.expect(200)),
        vec![church_fast.clone()]
    );
    assert_eq!(
        ids(c.app.get("/fasts", Some(&c.hana.token)).await.expect(200)).len(),
        2
    );
    let p = format!("/fasts/{team_fast}");
    for path in [p.clone(), format!("{p}/days"), format!("{p}/check-ins/me")] {
        c.app
            .get(&path, Some(&c.omar.token))
            .await
            .expect_problem(404);
    }
    c.app
        .post(&format!("{p}/participants"), Some(&c.omar.token), json!({}))
        .await
        .expect_problem(404);
    c.app
        .post(&format!("{p}/participants"), Some(&c.hana.token), json!({}))
        .await
        .expect(201);
    c.app
        .patch(&p, Some(&c.hana.token), json!({"name": "x"}))
        .await
        .expect_problem(403);
    c.app
        .patch(&p, Some(&c.tom.token), json!({"name": "Healing fast"}))
        .await
        .expect(200);
    c.app
        .patch(
            &format!("/fasts/{church_fast}"),
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
async fn invalid_fasts_are_422_naming_the_field() {
    let c = church().await;
    for (fields, field) in [
        (json!({"days": 0}), "days"),
        (json!({"days": 101}), "days"),
        (json!({"fast_type": "juice"}), "fast_type"),
        (json!({"timezone": "Middle/Earth"}), "timezone"),
        (json!({"starts_on": "2027-13-01"}), "starts_on"),
        (json!({"min_per_day": 0}), "min_per_day"),
        (
            json!({"daily_focus": [{"day": 22, "title": "Beyond"}]}),
            "daily_focus[0].day",
        ),
        (
            json!({"daily_focus": [{"day": 1, "title": ""}]}),
            "daily_focus[0].title",
        ),
        (json!({"team_id": "nope"}), "team_id"),
    ] {
        let got = c
            .app
            .post("/fasts", Some(&c.leader.token), fast_body(fields.clone()))
            .await
            .expect_invalid();
        assert_eq!(got, vec![field.to_string()], "{fields}");
    }
}

#[actix_web::test]
async fn the_day_is_the_fasts_own_whatever_the_members_zone() {
    let c = church().await;
    c.app
        .patch(
            "/me",
            Some(&c.hana.token),
            json!({"timezone": "America/Los_Angeles"}),
        )
        .await
        .expect(200);
    // Kiritimati (UTC+14) and Pago Pago (UTC-11, no daylight saving) are 25 hours apart: their
    // dates always differ. (UTC-12 has no region's zone, only the fixed offset `Etc/GMT+12`,
    // which is refused.)
    let kiri_today = today_in("Pacific/Kiritimati").to_string();
    let ahead = c
        .fast(
            &c.leader,
            json!({"timezone": "Pacific/Kiritimati", "starts_on": kiri_today}),
        )
        .await;
    let behind = c
        .fast(
            &c.leader,
            json!({"timezone": "Pacific/Pago_Pago", "starts_on": kiri_today}),
        )
        .await;
    assert_eq!(
        c.app
            .get(&format!("/fasts/{ahead}"), Some(&c.hana.token))
            .await
            .expect(200)["current_day"],
        1
    );
    assert_eq!(
        c.app
            .get(&format!("/fasts/{behind}"), Some(&c.hana.token))
            .await
            .expect(200)["current_day"],
        Value::Null
    );
    for f in [&ahead, &behind] {
        c.app
            .post(
                &format!("/fasts/{f}/participants"),
                Some(&c.hana.token),
                json!({}),
            )
            .await
            .expect(201);
    }
    c.app
        .post(
            &format!("/fasts/{ahead}/check-ins"),
            Some(&c.hana.token),
            json!({"day": 1, "kept": "yes"}),
        )
        .await
        .expect(201);
    c.app
        .post(
            &format!("/fasts/{behind}/check-ins"),
            Some(&c.hana.token),
            json!({"day": 1, "kept": "yes"}),
        )
        .await
        .expect_problem(409);
    let days = c
        .app
        .get(&format!("/fasts/{ahead}/days"), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(days["items"][0]["date"], kiri_today.as_str());
    assert_eq!(days["items"].as_array().unwrap().len(), 21);
}

#[actix_web::test]
async fn check_ins_are_for_committed_days_that_have_begun_and_replace_each_other() {
    let c = church().await;
    let started = (today_in("UTC") - Duration::days(2)).to_string();
    let f = c
        .fast(&c.leader, json!({"starts_on": started, "days": 7}))
        .await;
    let path = format!("/fasts/{f}/check-ins");
    c.app
        .post(&path, Some(&c.hana.token), json!({"day": 1, "kept": "yes"}))
        .await
        .expect_problem(403);
    let joined = c
        .app
        .post(
            &format!("/fasts/{f}/participants"),
            Some(&c.hana.token),
            json!({"days": [1, 3, 5], "fast_type": "media"}),
        )
        .await
        .expect(201);
    assert_eq!(joined["days"], json!([1, 3, 5]));
    assert_eq!(joined["fast_type"], "media");
    c.app
        .post(&path, Some(&c.hana.token), json!({"day": 2, "kept": "yes"}))
        .await
        .expect_problem(409);
    c.app
        .post(&path, Some(&c.hana.token), json!({"day": 5, "kept": "yes"}))
        .await
        .expect_problem(409);
    assert_eq!(
        c.app
            .post(&path, Some(&c.hana.token), json!({"day": 8, "kept": "yes"}))
            .await
            .expect_invalid(),
        vec!["day"]
    );
    assert_eq!(
        c.app
            .post(&path, Some(&c.hana.token), json!({"day": 0, "kept": "yes"}))
            .await
            .expect_invalid(),
        vec!["day"]
    );
    assert_eq!(
        c.app
            .post(
                &path,
                Some(&c.hana.token),
                json!({"day": 1, "kept": "mostly"})
            )
            .await
            .expect_invalid(),
        vec!["kept"]
    );
    c.app
        .post(
            &path,
            Some(&c.hana.token),
            json!({"day": 1, "kept": "partial"}),
        )
        .await
        .expect(201);
    let again = c
        .app
        .post(
            &path,
            Some(&c.hana.token),
            json!({"day": 1, "kept": "yes", "note": "Better"}),
        )
        .await
        .expect(200);
    assert_eq!(again["kept"], "yes");
    let mine = c
        .app
        .get(&format!("/fasts/{f}/check-ins/me"), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(mine["check_ins"].as_array().unwrap().len(), 1);
    assert_eq!(mine["check_ins"][0]["note"], "Better");
    // Joining again changes the commitment and keeps past check-ins.
    let rejoined = c
        .app
        .post(
            &format!("/fasts/{f}/participants"),
            Some(&c.hana.token),
            json!({"days": [1, 2]}),
        )
        .await
        .expect(200);
    assert_eq!(rejoined["days"], json!([1, 2]));
    assert_eq!(rejoined["fast_type"], "daniel");
    let mine = c
        .app
        .get(&format!("/fasts/{f}/check-ins/me"), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(mine["check_ins"].as_array().unwrap().len(), 1);
    assert_eq!(
        c.app
            .post(
                &format!("/fasts/{f}/participants"),
                Some(&c.hana.token),
                json!({"days": [9]})
            )
            .await
            .expect_invalid(),
        vec!["days"]
    );
}

#[actix_web::test]
async fn a_check_in_note_is_read_by_its_author_and_nobody_else() {
    let c = church().await;
    let f = c
        .fast(
            &c.leader,
            json!({"starts_on": (today_in("UTC") - Duration::days(1)).to_string()}),
        )
        .await;
    for who in [&c.hana, &c.ivy] {
        c.app
            .post(
                &format!("/fasts/{f}/participants"),
                Some(&who.token),
                json!({}),
            )
            .await
            .expect(201);
    }
    let secret = "Struggled with my medication today, private";
    c.app
        .post(
            &format!("/fasts/{f}/check-ins"),
            Some(&c.hana.token),
            json!({"day": 1, "kept": "partial", "note": secret}),
        )
        .await
        .expect(201);
    let mine = c
        .app
        .get(&format!("/fasts/{f}/check-ins/me"), Some(&c.hana.token))
        .await
        .expect(200);
    assert!(mine.to_string().contains(secret));
    let mut seen = Vec::new();
    for who in [&c.ivy, &c.leader, &c.admin, &c.tom] {
        for path in [
            format!("/fasts/{f}"),
            format!("/fasts/{f}/days"),
            "/fasts".to_string(),
            "/me/fasts".to_string(),
        ] {
            seen.push(c.app.get(&path, Some(&who.token)).await.text());
        }
        seen.push(
            c.app
                .get(&format!("/fasts/{f}/check-ins/me"), Some(&who.token))
                .await
                .text(),
        );
    }
    assert!(seen
        .iter()
        .all(|body| !body.contains(secret) && !body.contains("medication")));
    let days = c
        .app
        .get(&format!("/fasts/{f}/days"), Some(&c.ivy.token))
        .await
        .expect(200);
    assert_eq!(days["items"][0]["checked_in"], 1);
    assert_eq!(days["items"][0]["committed"], 2);
    assert!(
        !days.to_string().contains(&c.hana.id),
        "counts only, never names"
    );
}

#[actix_web::test]
async fn progress_counts_kept_days_and_the_current_streak() {
    let c = church().await;
    let f = c
        .fast(
            &c.leader,
            json!({"starts_on": (today_in("UTC") - Duration::days(4)).to_string(), "days": 7}),
        )
        .await;
    c.app
        .post(
            &format!("/fasts/{f}/participants"),
            Some(&c.hana.token),
            json!({}),
        )
        .await
        .expect(201);
    for (day, kept) in [(1, "yes"), (2, "yes"), (3, "no"), (4, "yes"), (5, "yes")] {
        c.app
            .post(
                &format!("/fasts/{f}/check-ins"),
                Some(&c.hana.token),
                json!({"day": day, "kept": kept}),
            )
            .await
            .expect(201);
    }
    let mine = c
        .app
        .get(&format!("/fasts/{f}/check-ins/me"), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(mine["current_day"], 5);
    assert_eq!(mine["kept_count"], 4);
    assert_eq!(mine["streak"], 2);
    c.app
        .post(
            &format!("/fasts/{f}/check-ins"),
            Some(&c.hana.token),
            json!({"day": 3, "kept": "partial"}),
        )
        .await
        .expect(200);
    let all = c
        .app
        .get("/me/fasts", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(all["items"][0]["streak"], 5);
    assert_eq!(all["items"][0]["kept_count"], 4);
    assert_eq!(all["items"][0]["partial_count"], 1);
}

#[actix_web::test]
async fn a_fasting_chain_shows_the_days_still_short_until_every_day_is_covered() {
    let c = church().await;
    let f = c.fast(&c.leader, json!({"days": 3, "min_per_day": 2, "starts_on": (today_in("UTC") + Duration::days(3)).to_string()})).await;
    let needed = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["needed"].as_i64().unwrap())
            .collect()
    };
    let days = c
        .app
        .get(&format!("/fasts/{f}/days"), Some(&c.omar.token))
        .await
        .expect(200);
    assert_eq!(needed(&days), vec![2, 2, 2]);
    for (who, chosen) in [
        (&c.hana, json!([1, 2])),
        (&c.ivy, json!([2, 3])),
        (&c.omar, json!([1])),
        (&c.nate, json!([3])),
    ] {
        c.app
            .post(
                &format!("/fasts/{f}/participants"),
                Some(&who.token),
                json!({"days": chosen}),
            )
            .await
            .expect(201);
    }
    let days = c
        .app
        .get(&format!("/fasts/{f}/days"), Some(&c.omar.token))
        .await
        .expect(200);
    assert_eq!(needed(&days), vec![0, 0, 0]);
    assert_eq!(
        c.app
            .get(&format!("/fasts/{f}"), Some(&c.omar.token))
            .await
            .expect(200)["participant_count"],
        4
    );
    // Leaving gives the day back to the chain, and leaves nothing of the member behind.
    c.app
        .delete(&format!("/fasts/{f}/participants/me"), Some(&c.nate.token))
        .await
        .expect(204);
    c.app
        .delete(&format!("/fasts/{f}/participants/me"), Some(&c.nate.token))
        .await
        .expect_problem(404);
    c.app
        .get(&format!("/fasts/{f}/check-ins/me"), Some(&c.nate.token))
        .await
        .expect_problem(404);
    let days = c
        .app
        .get(&format!("/fasts/{f}/days"), Some(&c.omar.token))
        .await
        .expect(200);
    assert_eq!(needed(&days), vec![0, 0, 1]);
}

#[actix_web::test]
async fn a_begun_fast_keeps_its_start_and_may_be_extended_but_not_shortened() {
    let c = church().await;
    let f = c.fast(&c.leader, json!({"starts_on": (today_in("UTC") - Duration::days(1)).to_string(), "days": 3,
                                     "daily_focus": [{"day": 1, "title": "Repentance", "scripture": "Joel 2:12", "prayer_points": ["Our hearts"]}]}))
        .await;
    c.app
        .post(
            &format!("/fasts/{f}/participants"),
            Some(&c.hana.token),
            json!({}),
        )
        .await
        .expect(201);
    c.app
        .post(
            &format!("/fasts/{f}/participants"),
            Some(&c.ivy.token),
            json!({"days": [2]}),
        )
        .await
        .expect(201);
    let p = format!("/fasts/{f}");
    c.app
        .patch(
            &p,
            Some(&c.leader.token),
            json!({"starts_on": today_in("UTC").to_string()}),
        )
        .await
        .expect_problem(409);
    c.app
        .patch(&p, Some(&c.leader.token), json!({"days": 2}))
        .await
        .expect_problem(409);
    let extended = c
        .app
        .patch(
            &p,
            Some(&c.leader.token),
            json!({"days": 5, "daily_focus": [{"day": 5, "title": "Thanksgiving"}]}),
        )
        .await
        .expect(200);
    assert_eq!(extended["days"], 5);
    assert_eq!(extended["daily_focus"].as_array().unwrap().len(), 2);
    assert_eq!(extended["daily_focus"][0]["scripture"], "Joel 2:12");
    assert_eq!(
        extended["daily_focus"][0]["prayer_points"],
        json!(["Our hearts"])
    );
    let hana = c
        .app
        .get(&format!("{p}/check-ins/me"), Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(
        hana["commitment"]["days"],
        json!([1, 2, 3, 4, 5]),
        "every-day members follow the extension"
    );
    let ivy = c
        .app
        .get(&format!("{p}/check-ins/me"), Some(&c.ivy.token))
        .await
        .expect(200);
    assert_eq!(ivy["commitment"]["days"], json!([2]));
    // A fast that has not begun may still move.
    let later = c
        .fast(
            &c.leader,
            json!({"starts_on": (today_in("UTC") + Duration::days(10)).to_string()}),
        )
        .await;
    c.app
        .patch(
            &format!("/fasts/{later}"),
            Some(&c.leader.token),
            json!({"starts_on": (today_in("UTC") + Duration::days(20)).to_string(), "days": 10}),
        )
        .await
        .expect(200);
}

#[actix_web::test]
async fn fast_days_appear_in_the_calendar_feed_as_all_day_events() {
    let c = church().await;
    let f = c
        .fast(
            &c.leader,
            json!({"name": "Conference fast", "days": 3, "starts_on": "2027-02-01",
                                 "daily_focus": [{"day": 2, "title": "Speakers"}]}),
        )
        .await;
    c.app
        .post(
            &format!("/fasts/{f}/participants"),
            Some(&c.hana.token),
            json!({"days": [2, 3]}),
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
    let text = c
        .app
        .get(&url[url.find("/api/v1/").unwrap()..], None)
        .await
        .text();
    let calendar = ical::IcalParser::new(text.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(calendar.events.len(), 2);
    let value = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap()
    };
    assert_eq!(value(&calendar.events[0], "DTSTART"), "20270202");
    assert_eq!(value(&calendar.events[0], "DTEND"), "20270203");
    assert_eq!(
        value(&calendar.events[0], "SUMMARY"),
        "Fast: Conference fast (day 2 of 3): Speakers"
    );
    assert_eq!(value(&calendar.events[1], "DTSTART"), "20270203");
}
