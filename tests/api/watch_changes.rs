//! Watch changes: blockouts (and, below, replacements). A blocked-out occurrence counts as not
//! held in the slots, coverage, now and the calendar feed, without touching the signup.

use chrono::{Duration, DurationRound, Utc};
use serde_json::{json, Value};

use crate::teams::church;

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

#[actix_web::test]
async fn a_blockout_lists_what_it_hits_and_those_slots_show_as_gaps_until_it_is_lifted() {
    let c = church().await;
    let watch = c
        .app
        .post(
            "/watches",
            Some(&c.leader.token),
            json!({"name": "Night watch", "timezone": "America/New_York", "starts_on": "2027-01-01",
                   "slot_minutes": 60, "min_per_slot": 1}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Tuesdays at 03:00 in New York (08:00Z in winter), four weeks.
    let signup = c
        .app
        .post(
            &format!("/watches/{watch}/signups"),
            Some(&c.hana.token),
            json!({"slot_start": "2027-03-02T08:00:00Z", "repeat_weekly": true, "until": "2027-03-23"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Away for the second week.
    let blockout = c
        .app
        .post(
            "/me/blockouts",
            Some(&c.hana.token),
            json!({"starts_at": "2027-03-08T00:00:00Z", "ends_at": "2027-03-12T00:00:00Z",
                   "reason": "Conference in Lisbon"}),
        )
        .await;
    let made = blockout.expect(201);
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(
        blockout.header("location").unwrap(),
        format!("/api/v1/me/blockouts/{id}")
    );
    assert_eq!(made["starts_at"], "2027-03-08T00:00:00Z");
    assert_eq!(made["reason"], "Conference in Lisbon");
    assert_eq!(
        made["affected"],
        json!([{"watch_id": watch, "signup_id": signup, "slot_start": "2027-03-09T08:00:00Z"}])
    );

    let slot_of = |day: &'static str| {
        let c = &c;
        let watch = watch.clone();
        async move {
            let page = c
                .app
                .get(
                    &format!("/watches/{watch}/slots?from={day}&to=2027-03-31"),
                    Some(&c.hana.token),
                )
                .await
                .expect(200);
            items(&page)
                .iter()
                .find(|s| s["local_start"].as_str().unwrap().contains("T03:00"))
                .cloned()
                .unwrap()
        }
    };
    let blocked = slot_of("2027-03-09").await;
    assert_eq!(blocked["signed_up"], 0, "{blocked}");
    assert_eq!(blocked["mine"], false);
    assert_eq!(slot_of("2027-03-16").await["signed_up"], 1);
    let coverage = c
        .app
        .get(
            &format!("/watches/{watch}/coverage?from=2027-03-02&to=2027-03-24"),
            Some(&c.leader.token),
        )
        .await
        .expect(200);
    // Three of the four Tuesdays at 03:00 are held: 3 filled slots of the whole span.
    assert_eq!(coverage["slots_filled"], 3, "{coverage}");
    assert!(items(&json!({"items": coverage["gaps"]}))
        .iter()
        .any(|g| g["start"].as_str().unwrap() <= "2027-03-09T08:00:00Z"
            && g["end"].as_str().unwrap() >= "2027-03-09T09:00:00Z"));
    // The feed keeps the rule and leaves the blocked week out.
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
    let mut parser = ical::IcalParser::new(text.as_bytes());
    let calendar = parser.next().expect("one calendar").expect("it parses");
    let weekly = &calendar.events[0];
    let exdates: Vec<String> = weekly
        .properties
        .iter()
        .filter(|p| p.name == "EXDATE")
        .filter_map(|p| p.value.clone())
        .collect();
    assert!(
        exdates.iter().any(|v| v.contains("20270309T030000")),
        "{exdates:?}\n{text}"
    );
    // The signup itself is untouched.
    let signups = c
        .app
        .get(
            &format!("/watches/{watch}/signups?mine=true"),
            Some(&c.hana.token),
        )
        .await
        .expect(200);
    assert_eq!(items(&signups).len(), 1);

    // Only its member sees or lifts it.
    let mine = c
        .app
        .get("/me/blockouts", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(items(&mine).len(), 1);
    assert_eq!(items(&mine)[0]["affected"].as_array().unwrap().len(), 1);
    let theirs = c
        .app
        .get("/me/blockouts", Some(&c.leader.token))
        .await
        .expect(200);
    assert!(items(&theirs).is_empty());
    c.app
        .delete(&format!("/me/blockouts/{id}"), Some(&c.leader.token))
        .await
        .expect_problem(404);
    c.app
        .delete(&format!("/me/blockouts/{id}"), Some(&c.hana.token))
        .await
        .expect(204);
    c.app
        .delete(&format!("/me/blockouts/{id}"), Some(&c.hana.token))
        .await
        .expect_problem(404);
    assert_eq!(slot_of("2027-03-09").await["signed_up"], 1, "held again");
}

#[actix_web::test]
async fn whoever_blocks_out_the_slot_under_way_is_not_shown_holding_it_now() {
    let c = church().await;
    let watch = c
        .app
        .post(
            "/watches",
            Some(&c.leader.token),
            json!({"name": "Prayer room", "timezone": "UTC",
                   "starts_on": (Utc::now().date_naive() - Duration::days(1)).to_string(),
                   "slot_minutes": 60, "min_per_slot": 1}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hour = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    c.app
        .post(
            &format!("/watches/{watch}/signups"),
            Some(&c.ivy.token),
            json!({"slot_start": hour.to_rfc3339()}),
        )
        .await
        .expect(201);
    let holders = |now: &Value| now["slot"]["intercessors"].as_array().map_or(0, Vec::len);
    let before = c
        .app
        .get(&format!("/watches/{watch}/now"), Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(holders(&before), 1, "{before}");
    c.app
        .post(
            "/me/blockouts",
            Some(&c.ivy.token),
            json!({"starts_at": (hour - Duration::minutes(30)).to_rfc3339(),
                   "ends_at": (hour + Duration::minutes(10)).to_rfc3339()}),
        )
        .await
        .expect(201);
    let after = c
        .app
        .get(&format!("/watches/{watch}/now"), Some(&c.leader.token))
        .await
        .expect(200);
    assert_eq!(holders(&after), 0, "{after}");
}

#[actix_web::test]
async fn impossible_blockouts_are_422_naming_the_field_and_nothing_is_kept() {
    let c = church().await;
    for (body, field) in [
        (
            json!({"starts_at": "2027-03-08T00:00:00Z", "ends_at": "2027-03-08T00:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2027-03-08T00:00:00Z", "ends_at": "2027-03-01T00:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2028-01-03T00:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2027-01-02T00:00:00Z",
                   "reason": "x".repeat(501)}),
            "reason",
        ),
        (
            json!({"starts_at": "next tuesday", "ends_at": "2027-01-02T00:00:00Z"}),
            "starts_at",
        ),
        (json!({"ends_at": "2027-01-02T00:00:00Z"}), "starts_at"),
    ] {
        let fields = c
            .app
            .post("/me/blockouts", Some(&c.hana.token), body.clone())
            .await
            .expect_invalid();
        assert!(fields.contains(&field.to_string()), "{body}: {fields:?}");
    }
    // 366 days exactly is allowed.
    c.app
        .post(
            "/me/blockouts",
            Some(&c.hana.token),
            json!({"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2028-01-02T00:00:00Z"}),
        )
        .await
        .expect(201);
    let mine = c
        .app
        .get("/me/blockouts", Some(&c.hana.token))
        .await
        .expect(200);
    assert_eq!(items(&mine).len(), 1);
    c.app
        .post("/me/blockouts", None, json!({}))
        .await
        .expect_problem(401);
}

mod replacements {
    use std::time::{Duration as StdDuration, Instant};

    use serde_json::{json, Value};

    use crate::helpers::{spawn_app_with, start_worker_with, Session, TestApp};
    use crate::reminders::events_of;
    use crate::teams::{church_in, Church};

    /// A church on a clock started at 2027-04-05T00:00:00Z (workers off), with a team watch of
    /// Healing in UTC, hourly, needing one a slot and holding at most two.
    async fn scene() -> (Church, String) {
        let start = "2027-04-05T00:00:00Z".parse().unwrap();
        let app = spawn_app_with(|c| {
            c.workers_enabled = false;
            c.clock_start = Some(start);
            c.slot_offer_wave = 2;
        })
        .await;
        let c = church_in(app).await;
        let watch = c
            .app
            .post(
                "/watches",
                Some(&c.tom.token),
                json!({"name": "Healing room", "team_id": c.healing, "timezone": "UTC",
                       "starts_on": "2027-04-01", "slot_minutes": 60, "min_per_slot": 1,
                       "max_per_slot": 2}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        (c, watch)
    }

    async fn sign_up(app: &TestApp, who: &Session, watch: &str, body: Value) -> String {
        app.post(&format!("/watches/{watch}/signups"), Some(&who.token), body)
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn holders(slots: &Value, start: &str) -> Vec<String> {
        slots["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["start"] == start)
            .map(|s| {
                s["intercessors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["display_name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap()
    }

    #[actix_web::test]
    async fn a_replacement_is_offered_in_waves_and_the_first_to_accept_takes_that_one_week() {
        let (c, watch) = scene().await;
        // Hana holds Tuesdays 09:00 for three weeks; she cannot keep the 13 April one.
        let signup = sign_up(
            &c.app,
            &c.hana,
            &watch,
            json!({"slot_start": "2027-04-06T09:00:00Z", "repeat_weekly": true, "until": "2027-04-20"}),
        )
        .await;
        // Ivy, of the team, holds two other slots: fewer-held members are offered first.
        for start in ["2027-04-06T10:00:00Z", "2027-04-06T11:00:00Z"] {
            sign_up(&c.app, &c.ivy, &watch, json!({"slot_start": start})).await;
        }
        let asked = c
            .app
            .post(
                &format!("/watches/{watch}/signups/{signup}/replacement"),
                Some(&c.hana.token),
                json!({"slot_start": "2027-04-13T09:00:00Z", "note": "Travelling that week"}),
            )
            .await
            .expect(201);
        let id = asked["id"].as_str().unwrap().to_string();
        assert_eq!(asked["status"], "open");
        assert_eq!(asked["asked_by"], c.hana.id.as_str());
        assert_eq!(asked["signup_id"], signup.as_str());
        // Until it is taken the slot is still hers.
        let week = format!("/watches/{watch}/slots?from=2027-04-13&to=2027-04-14");
        let slots = c.app.get(&week, Some(&c.tom.token)).await.expect(200);
        assert_eq!(holders(&slots, "2027-04-13T09:00:00Z"), ["Hana"]);
        // Again for the same week: 409.
        c.app
            .post(
                &format!("/watches/{watch}/signups/{signup}/replacement"),
                Some(&c.hana.token),
                json!({"slot_start": "2027-04-13T09:00:00Z"}),
            )
            .await
            .expect_problem(409);
        // Only her signup's own weeks, only by her.
        c.app
            .post(
                &format!("/watches/{watch}/signups/{signup}/replacement"),
                Some(&c.hana.token),
                json!({"slot_start": "2027-04-13T10:00:00Z"}),
            )
            .await
            .expect_invalid();
        c.app
            .post(
                &format!("/watches/{watch}/signups/{signup}/replacement"),
                Some(&c.tom.token),
                json!({"slot_start": "2027-04-20T09:00:00Z"}),
            )
            .await
            .expect_problem(403);
        // Listed for whoever can see the watch; hidden from another team's member.
        let open = c
            .app
            .get(
                &format!("/watches/{watch}/replacements?status=open"),
                Some(&c.ivy.token),
            )
            .await
            .expect(200);
        assert_eq!(open["items"].as_array().unwrap().len(), 1);
        c.app
            .get(
                &format!("/watches/{watch}/replacements"),
                Some(&c.nate.token),
            )
            .await
            .expect_problem(404);

        // The first wave (of two) went in its own transaction: Tom and the leaders hold
        // nothing, Ivy holds two: she is not in it.
        let on = start_worker_with({
            let mut config = c.app.config.clone();
            config.clock_start = Some("2027-04-05T00:00:05Z".parse().unwrap());
            config
        })
        .await;
        let first: Vec<&Session> = [&c.tom, &c.leader, &c.admin, &c.ivy].into_iter().collect();
        let mut offered = Vec::new();
        for who in &first {
            if !events_of(&c.app, who, "watch.slot_open", 0)
                .await
                .is_empty()
            {
                offered.push(who.id.clone());
            }
        }
        let start = Instant::now();
        while offered.len() < 2 && start.elapsed() < StdDuration::from_secs(20) {
            actix_web::rt::time::sleep(StdDuration::from_millis(200)).await;
            offered.clear();
            for who in &first {
                if !events_of(&c.app, who, "watch.slot_open", 0)
                    .await
                    .is_empty()
                {
                    offered.push(who.id.clone());
                }
            }
        }
        assert_eq!(offered.len(), 2, "a wave of two");
        assert!(!offered.contains(&c.ivy.id), "fewest slots first");
        assert!(events_of(&c.app, &c.hana, "watch.slot_open", 0)
            .await
            .is_empty());
        assert!(events_of(&c.app, &c.nate, "watch.slot_open", 0)
            .await
            .is_empty());
        let offer = &events_of(&c.app, &c.tom, "watch.slot_open", 1).await;
        if let Some(offer) = offer.first() {
            let body = offer["body"].as_str().unwrap();
            assert!(
                body.contains("Healing room") && body.contains("09:00"),
                "{body}"
            );
            assert!(!body.contains("Travelling"), "never the note: {body}");
        }
        on.stop().await;

        // Many accept at once: one wins, the rest get 409, and the slot holds exactly one.
        let takers: Vec<&Session> = vec![&c.tom, &c.ivy, &c.leader, &c.admin];
        let path = format!("/replacements/{id}/accept");
        let results = futures_util::future::join_all(
            takers
                .iter()
                .map(|who| c.app.post(&path, Some(&who.token), json!({}))),
        )
        .await;
        let won: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == 200)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            won.len(),
            1,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for r in &results {
            assert!(
                r.status == 200 || r.status == 409,
                "{} {}",
                r.status,
                r.text()
            );
        }
        let winner = takers[won[0]];
        let filled = results[won[0]].json();
        assert_eq!(filled["status"], "filled");
        assert_eq!(filled["filled_by"], winner.id.as_str());
        let slots = c.app.get(&week, Some(&c.tom.token)).await.expect(200);
        let now_held = holders(&slots, "2027-04-13T09:00:00Z");
        assert_eq!(now_held.len(), 1, "{now_held:?}");
        assert_ne!(now_held[0], "Hana");
        // Hana keeps her other weeks.
        let other = c
            .app
            .get(
                &format!("/watches/{watch}/slots?from=2027-04-20&to=2027-04-21"),
                Some(&c.tom.token),
            )
            .await
            .expect(200);
        assert_eq!(holders(&other, "2027-04-20T09:00:00Z"), ["Hana"]);
        // The asker and the team's leaders are told (on the next instance).
        let _told = start_worker_with({
            let mut config = c.app.config.clone();
            config.clock_start = Some("2027-04-05T00:01:00Z".parse().unwrap());
            config
        })
        .await;
        let told = events_of(&c.app, &c.hana, "replacement.filled", 1).await;
        assert_eq!(told.len(), 1, "{told:?}");
        if winner.id != c.tom.id {
            assert_eq!(
                events_of(&c.app, &c.tom, "replacement.filled", 1)
                    .await
                    .len(),
                1
            );
        }
        // Withdrawn after it was taken: 409. The list shows it filled.
        c.app
            .delete(&format!("/replacements/{id}"), Some(&c.hana.token))
            .await
            .expect_problem(409);
        let filled = c
            .app
            .get(
                &format!("/watches/{watch}/replacements?status=filled"),
                Some(&c.tom.token),
            )
            .await
            .expect(200);
        assert_eq!(filled["items"].as_array().unwrap().len(), 1);
    }

    #[actix_web::test]
    async fn fifty_simultaneous_accepts_leave_one_winner_and_the_cap_holds() {
        let (c, watch) = scene().await;
        let signup = sign_up(
            &c.app,
            &c.hana,
            &watch,
            json!({"slot_start": "2027-04-06T09:00:00Z"}),
        )
        .await;
        // The slot's other place is taken: after the swap it must still hold two.
        sign_up(
            &c.app,
            &c.ivy,
            &watch,
            json!({"slot_start": "2027-04-06T09:00:00Z"}),
        )
        .await;
        let id = c
            .app
            .post(
                &format!("/watches/{watch}/signups/{signup}/replacement"),
                Some(&c.hana.token),
                json!({"slot_start": "2027-04-06T09:00:00Z"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut takers = Vec::new();
        for n in 0..50 {
            let who = c.app.member(&format!("Taker{n}")).await;
            c.app
                .put(
                    &format!("/teams/{}/members/{}", c.healing, who.id),
                    Some(&c.leader.token),
                    json!({"team_role": "member"}),
                )
                .await
                .expect(201);
            takers.push(who);
        }
        let path = format!("/replacements/{id}/accept");
        let lock = c.app.hold_writes("replacements").await;
        let results = crate::helpers::line_up(
            lock,
            takers
                .iter()
                .map(|who| c.app.post(&path, Some(&who.token), json!({})))
                .collect(),
        )
        .await;
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 409),
            "{statuses:?}"
        );
        let slots = c
            .app
            .get(
                &format!("/watches/{watch}/slots?from=2027-04-06&to=2027-04-07"),
                Some(&c.tom.token),
            )
            .await
            .expect(200);
        let held = holders(&slots, "2027-04-06T09:00:00Z");
        assert_eq!(held.len(), 2, "{held:?}");
        assert!(held.contains(&"Ivy".to_string()) && !held.contains(&"Hana".to_string()));
    }

    #[actix_web::test]
    async fn a_late_cancellation_that_leaves_a_slot_short_offers_it_and_an_unfilled_one_escalates()
    {
        let (c, watch) = scene().await;
        // Tomorrow 09:00 (within 48 hours): Ivy gives it up and nobody else holds it.
        let signup = sign_up(
            &c.app,
            &c.ivy,
            &watch,
            json!({"slot_start": "2027-04-06T09:00:00Z"}),
        )
        .await;
        c.app
            .delete(
                &format!("/watches/{watch}/signups/{signup}"),
                Some(&c.ivy.token),
            )
            .await
            .expect(204);
        let open = c
            .app
            .get(
                &format!("/watches/{watch}/replacements?status=open"),
                Some(&c.tom.token),
            )
            .await
            .expect(200);
        let items = open["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{open}");
        assert_eq!(items[0]["signup_id"], Value::Null);
        assert_eq!(items[0]["slot_start"], "2027-04-06T09:00:00Z");
        // A week away: no offers.
        let later = sign_up(
            &c.app,
            &c.ivy,
            &watch,
            json!({"slot_start": "2027-04-12T09:00:00Z"}),
        )
        .await;
        c.app
            .delete(
                &format!("/watches/{watch}/signups/{later}"),
                Some(&c.ivy.token),
            )
            .await
            .expect(204);
        let all = c
            .app
            .get(
                &format!("/watches/{watch}/replacements"),
                Some(&c.tom.token),
            )
            .await
            .expect(200);
        assert_eq!(all["items"].as_array().unwrap().len(), 1);

        // Still open at 21:00 the day before (12 hours to go): the team's leaders are told,
        // once, and new waves keep going out.
        let _on = start_worker_with({
            let mut config = c.app.config.clone();
            config.clock_start = Some("2027-04-05T21:00:05Z".parse().unwrap());
            config
        })
        .await;
        let told = events_of(&c.app, &c.tom, "replacement.unfilled", 1).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0]["body"].as_str().unwrap().contains("Healing room"));
        // Once the slot has begun it is expired.
        _on.stop().await;
        let _after = start_worker_with({
            let mut config = c.app.config.clone();
            config.clock_start = Some("2027-04-06T09:30:00Z".parse().unwrap());
            config
        })
        .await;
        let start = Instant::now();
        loop {
            let expired = c
                .app
                .get(
                    &format!("/watches/{watch}/replacements?status=expired"),
                    Some(&c.tom.token),
                )
                .await
                .expect(200);
            if expired["items"].as_array().unwrap().len() == 1
                || start.elapsed() > StdDuration::from_secs(20)
            {
                assert_eq!(expired["items"].as_array().unwrap().len(), 1, "{expired}");
                break;
            }
            actix_web::rt::time::sleep(StdDuration::from_millis(200)).await;
        }
        assert_eq!(
            events_of(&c.app, &c.tom, "replacement.unfilled", 1)
                .await
                .len(),
            1
        );
    }
}
