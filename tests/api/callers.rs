//! The seven-caller authorization matrix: every operation of the published OpenAPI document, called
//! on real resources by each kind of caller, with what each must get.
//!
//! Callers, in the order of each row's letters:
//! 1. no token,
//! 2. a plain member in no team,
//! 3. a member of the team (the assignee, the watch signup's owner, the fast's participant),
//! 4. the leader of another team,
//! 5. the team's leader,
//! 6. a church leader,
//! 7. an admin.
//!
//! `Y`: the caller gets past authorization (any answer but 401, 403 and 404, never a 5xx: a 422
//! for a body deliberately left empty counts, as does a 409 for a state). `N`: refused (401 without
//! a token, else 403, or 404 where the resource is hidden from the caller).
//!
//! Every resource belongs to the team: a request with `team` visibility from another member,
//! assigned to the team and by name to its member; the team's watch, with the member's signup;
//! the team's fast, which the member joined. A call that may change things runs on a scene of its
//! own, so no caller sees what another one did. A new operation without a row fails the build.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::authorization::{send, spec_operations};
use crate::helpers::{spawn_app, Session, TestApp};

/// (method, path, body, who gets through). Placeholders are filled from the scene.
const ROWS: &[(&str, &str, &str, &str)] = &[
    ("GET", "/healthz", "", "YYYYYYY"),
    ("GET", "/readyz", "", "YYYYYYY"),
    ("POST", "/api/v1/auth/register", "{}", "YYYYYYY"),
    ("POST", "/api/v1/auth/login", "{}", "YYYYYYY"),
    ("POST", "/api/v1/auth/refresh", "{}", "YYYYYYY"),
    ("POST", "/api/v1/auth/logout", "{}", "YYYYYYY"),
    ("POST", "/api/v1/public/prayer-requests", "{}", "YYYYYYY"),
    ("GET", "/api/v1/calendar/{calendar}.ics", "", "YYYYYYY"),
    ("POST", "/api/v1/unsubscribe/{unsubscribe}", "", "YYYYYYY"),
    (
        "GET",
        "/api/v1/invitations/{invitation_token}",
        "",
        "YYYYYYY",
    ),
    (
        "POST",
        "/api/v1/invitations/{invitation_token}/accept",
        r#"{"display_name":"Newcomer","password":"a long password"}"#,
        "YYYYYYY",
    ),
    (
        "POST",
        "/api/v1/auth/password-reset",
        r#"{"email":"someone{n}@example.org"}"#,
        "YYYYYYY",
    ),
    (
        "GET",
        "/api/v1/auth/password-reset/{reset_token}",
        "",
        "YYYYYYY",
    ),
    (
        "POST",
        "/api/v1/auth/password-reset/{reset_token}",
        r#"{"new_password":"a long new password"}"#,
        "YYYYYYY",
    ),
    (
        "POST",
        "/api/v1/invitations",
        r#"{"email":"invited{n}@example.org","team_id":"{team}"}"#,
        "NNNNYYY",
    ),
    ("GET", "/api/v1/invitations", "", "NNNNNYY"),
    // The team leader sent the scene's invitation.
    ("DELETE", "/api/v1/invitations/{invitation}", "", "NNNNYYY"),
    ("GET", "/api/v1/me", "", "NYYYYYY"),
    ("PATCH", "/api/v1/me", "{}", "NYYYYYY"),
    // Without the password: refused as invalid, after authorization, erasing nobody.
    ("DELETE", "/api/v1/me", "{}", "NYYYYYY"),
    ("POST", "/api/v1/me/password", "{}", "NYYYYYY"),
    ("GET", "/api/v1/me/export", "", "NYYYYYY"),
    ("GET", "/api/v1/me/assignments", "", "NYYYYYY"),
    ("GET", "/api/v1/me/watch-slots", "", "NYYYYYY"),
    ("POST", "/api/v1/me/calendar-token", "", "NYYYYYY"),
    ("GET", "/api/v1/me/fasts", "", "NYYYYYY"),
    ("GET", "/api/v1/me/notifications", "", "NYYYYYY"),
    (
        "POST",
        "/api/v1/me/blockouts",
        r#"{"starts_at":"2027-02-01T00:00:00Z","ends_at":"2027-02-02T00:00:00Z"}"#,
        "NYYYYYY",
    ),
    ("GET", "/api/v1/me/blockouts", "", "NYYYYYY"),
    // The signup's member only (a second ask for the scene's week is a 409: a state).
    (
        "POST",
        "/api/v1/watches/{watch}/signups/{signup}/replacement",
        r#"{"slot_start":"2027-01-01T05:00:00Z"}"#,
        "NNYNNNN",
    ),
    ("GET", "/api/v1/watches/{watch}/replacements", "", "NNYNYYY"),
    // Whoever may see the watch (its asker, holding the slot, gets a 409: a state).
    (
        "POST",
        "/api/v1/replacements/{replacement}/accept",
        "",
        "NNYNYYY",
    ),
    // Its asker, the team's leader, leaders.
    (
        "DELETE",
        "/api/v1/replacements/{replacement}",
        "",
        "NNYNYYY",
    ),
    // The team member's blockout: theirs alone, hidden from everyone else.
    ("DELETE", "/api/v1/me/blockouts/{blockout}", "", "NNYNNNN"),
    ("POST", "/api/v1/me/notifications/read", "{}", "NYYYYYY"),
    ("GET", "/api/v1/me/notification-preferences", "", "NYYYYYY"),
    (
        "PUT",
        "/api/v1/me/notification-preferences",
        "{}",
        "NYYYYYY",
    ),
    ("GET", "/api/v1/notification-deliveries", "", "NNNNNNY"),
    (
        "POST",
        "/api/v1/webhooks",
        r#"{"url":"https://93.184.216.34/{n}","events":["fast.check_in"]}"#,
        "NNNNNNY",
    ),
    ("GET", "/api/v1/webhooks", "", "NNNNNNY"),
    ("GET", "/api/v1/webhooks/{webhook}", "", "NNNNNNY"),
    ("PATCH", "/api/v1/webhooks/{webhook}", "{}", "NNNNNNY"),
    ("DELETE", "/api/v1/webhooks/{webhook}", "", "NNNNNNY"),
    (
        "POST",
        "/api/v1/webhooks/{webhook}/rotate-secret",
        "",
        "NNNNNNY",
    ),
    ("POST", "/api/v1/webhooks/{webhook}/ping", "", "NNNNNNY"),
    (
        "GET",
        "/api/v1/webhooks/{webhook}/deliveries",
        "",
        "NNNNNNY",
    ),
    (
        "POST",
        "/api/v1/webhooks/{webhook}/deliveries/{delivery}/redeliver",
        "",
        "NNNNNNY",
    ),
    ("GET", "/api/v1/members", "", "NNNNNYY"),
    ("GET", "/api/v1/members/{requester}", "", "NNNNNYY"),
    (
        "PATCH",
        "/api/v1/members/{requester}",
        r#"{"role":"member"}"#,
        "NNNNNNY",
    ),
    ("GET", "/api/v1/audit-events", "", "NNNNNNY"),
    ("GET", "/api/v1/categories", "", "NYYYYYY"),
    (
        "POST",
        "/api/v1/categories",
        r#"{"name":"matrix {n}"}"#,
        "NNNNNYY",
    ),
    (
        "PATCH",
        "/api/v1/categories/{category}",
        r#"{"name":"matrix {n}"}"#,
        "NNNNNYY",
    ),
    ("DELETE", "/api/v1/categories/{category}", "", "NNNNNYY"),
    ("GET", "/api/v1/prayer-requests", "", "NYYYYYY"),
    ("POST", "/api/v1/prayer-requests", "{}", "NYYYYYY"),
    ("GET", "/api/v1/prayer-requests/{request}", "", "NNYNYYY"),
    (
        "PATCH",
        "/api/v1/prayer-requests/{request}",
        "{}",
        "NNNNNYY",
    ),
    ("DELETE", "/api/v1/prayer-requests/{request}", "", "NNNNNNY"),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/approve",
        "",
        "NNNNNYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/reject",
        r#"{"reason":"matrix"}"#,
        "NNNNNYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/flag",
        r#"{"reason":"matrix"}"#,
        "NNYNYYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/answer",
        "{}",
        "NNNNNYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/reopen",
        "",
        "NNNNNYY",
    ),
    (
        "GET",
        "/api/v1/prayer-requests/{request}/prayers",
        "",
        "NNNNNYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/prayers",
        "{}",
        "NNYNYYY",
    ),
    (
        "GET",
        "/api/v1/prayer-requests/{request}/updates",
        "",
        "NNYNYYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/updates",
        r#"{"body":"matrix"}"#,
        "NNNNNYY",
    ),
    (
        "GET",
        "/api/v1/prayer-requests/{request}/comments",
        "",
        "NNYNYYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/comments",
        r#"{"body":"matrix"}"#,
        "NNYNYYY",
    ),
    (
        "GET",
        "/api/v1/prayer-requests/{request}/assignments",
        "",
        "NNYNYYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/assignments",
        r#"{"member_id":"{plain}"}"#,
        "NNNNNYY",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{request}/assignments/auto",
        r#"{"team_id":"{team}","count":1}"#,
        "NNNNYYY",
    ),
    (
        "PATCH",
        "/api/v1/assignments/{assignment}",
        r#"{"status":"released"}"#,
        "NNNNYYY",
    ),
    ("GET", "/api/v1/teams", "", "NYYYYYY"),
    (
        "POST",
        "/api/v1/teams",
        r#"{"name":"Matrix {n}"}"#,
        "NNNNNYY",
    ),
    ("GET", "/api/v1/teams/{team}", "", "NYYYYYY"),
    ("PATCH", "/api/v1/teams/{team}", "{}", "NNNNYYY"),
    ("DELETE", "/api/v1/teams/{team}", "", "NNNNYYY"),
    ("GET", "/api/v1/teams/{team}/members", "", "NNYNYYY"),
    (
        "PUT",
        "/api/v1/teams/{team}/members/{plain}",
        r#"{"team_role":"member"}"#,
        "NNNNYYY",
    ),
    (
        "DELETE",
        "/api/v1/teams/{team}/members/{team_member}",
        "",
        "NNYNYYY",
    ),
    ("GET", "/api/v1/teams/{team}/assignments", "", "NNNNYYY"),
    ("GET", "/api/v1/watches", "", "NYYYYYY"),
    (
        "POST",
        "/api/v1/watches",
        r#"{"name":"W","team_id":"{team}","timezone":"UTC","starts_on":"2027-01-01","slot_minutes":60,"min_per_slot":1}"#,
        "NNNNYYY",
    ),
    ("GET", "/api/v1/watches/{watch}", "", "NNYNYYY"),
    ("PATCH", "/api/v1/watches/{watch}", "{}", "NNNNYYY"),
    ("DELETE", "/api/v1/watches/{watch}", "", "NNNNYYY"),
    ("GET", "/api/v1/watches/{watch}/slots", "", "NNYNYYY"),
    ("GET", "/api/v1/watches/{watch}/coverage", "", "NNYNYYY"),
    ("GET", "/api/v1/watches/{watch}/now", "", "NNYNYYY"),
    (
        "POST",
        "/api/v1/watches/{watch}/signups",
        r#"{"slot_start":"2027-01-01T06:00:00Z"}"#,
        "NNYNYYY",
    ),
    ("GET", "/api/v1/watches/{watch}/signups", "", "NNYNYYY"),
    (
        "DELETE",
        "/api/v1/watches/{watch}/signups/{signup}",
        "",
        "NNYNYYY",
    ),
    // Only the member signed up for the slot checks in.
    (
        "POST",
        "/api/v1/watches/{watch}/check-ins",
        r#"{"slot_start":"2027-01-01T05:00:00Z"}"#,
        "NNYNNNN",
    ),
    ("GET", "/api/v1/fasts", "", "NYYYYYY"),
    (
        "POST",
        "/api/v1/fasts",
        r#"{"name":"F","fast_type":"full","starts_on":"2027-01-01","days":3,"timezone":"UTC","team_id":"{team}"}"#,
        "NNNNYYY",
    ),
    ("GET", "/api/v1/fasts/{fast}", "", "NNYNYYY"),
    ("PATCH", "/api/v1/fasts/{fast}", "{}", "NNNNYYY"),
    ("DELETE", "/api/v1/fasts/{fast}", "", "NNNNYYY"),
    ("GET", "/api/v1/fasts/{fast}/days", "", "NNYNYYY"),
    ("POST", "/api/v1/fasts/{fast}/participants", "{}", "NNYNYYY"),
    // Checking in, leaving and reading one's own check-ins are for the one signed up or taking
    // part: the team member.
    (
        "DELETE",
        "/api/v1/fasts/{fast}/participants/me",
        "",
        "NNYNNNN",
    ),
    (
        "POST",
        "/api/v1/fasts/{fast}/check-ins",
        r#"{"day":1,"kept":"yes"}"#,
        "NNYNNNN",
    ),
    ("GET", "/api/v1/fasts/{fast}/check-ins/me", "", "NNYNNNN"),
];

const CALLERS: [&str; 7] = [
    "no token",
    "member",
    "team member",
    "leader of another team",
    "team leader",
    "leader",
    "admin",
];

/// The people of the church, made once.
struct People {
    requester: Session,
    /// In the order of [`CALLERS`], without the first (no token).
    callers: [Session; 6],
}

impl People {
    fn plain(&self) -> &Session {
        &self.callers[0]
    }
    fn team_member(&self) -> &Session {
        &self.callers[1]
    }
    fn other_team_leader(&self) -> &Session {
        &self.callers[2]
    }
    fn team_leader(&self) -> &Session {
        &self.callers[3]
    }
    fn leader(&self) -> &Session {
        &self.callers[4]
    }
    fn admin(&self) -> &Session {
        &self.callers[5]
    }
}

/// The team's resources, made afresh for every call that may change them.
struct Scene {
    n: usize,
    team: String,
    request: String,
    assignment: String,
    category: String,
    watch: String,
    signup: String,
    /// A blockout of the team member's.
    blockout: String,
    /// The team member's replacement asked for their signup's slot.
    replacement: String,
    fast: String,
    calendar: String,
    /// A one-click unsubscribe token of the team member's, as an email carries.
    unsubscribe: String,
    /// A webhook, and a delivery to it (a ping).
    webhook: String,
    delivery: String,
    /// An invitation the team leader sent into the team, and its link's token.
    invitation: String,
    invitation_token: String,
    /// A live password reset link of the plain member's.
    reset_token: String,
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn scene(app: &TestApp, people: &People, n: usize) -> Scene {
    let leader = Some(people.leader().token.as_str());
    let team_leader = Some(people.team_leader().token.as_str());
    let team_member = Some(people.team_member().token.as_str());
    let team = id(&app
        .post("/teams", leader, json!({"name": format!("Team {n}")}))
        .await
        .expect(201));
    let other = id(&app
        .post("/teams", leader, json!({"name": format!("Other team {n}")}))
        .await
        .expect(201));
    for (team, who, role) in [
        (&team, people.team_leader(), "leader"),
        (&team, people.team_member(), "member"),
        (&other, people.other_team_leader(), "leader"),
    ] {
        app.put(
            &format!("/teams/{team}/members/{}", who.id),
            leader,
            json!({"team_role": role}),
        )
        .await
        .expect(201);
    }
    let request = id(&app
        .create_request(
            &people.requester.token,
            json!({"visibility": "team", "allow_comments": true}),
        )
        .await);
    app.post(
        &format!("/prayer-requests/{request}/assignments"),
        leader,
        json!({"team_id": team}),
    )
    .await
    .expect(201);
    let assignment = id(&app
        .post(
            &format!("/prayer-requests/{request}/assignments"),
            team_leader,
            json!({"member_id": people.team_member().id}),
        )
        .await
        .expect(201));
    let category = id(&app
        .post("/categories", leader, json!({"name": format!("scene {n}")}))
        .await
        .expect(201));
    let watch = id(&app
        .post(
            "/watches",
            team_leader,
            json!({"name": "Night watch", "team_id": team, "timezone": "UTC",
                   "starts_on": "2027-01-01", "slot_minutes": 60, "min_per_slot": 1}),
        )
        .await
        .expect(201));
    let signup = id(&app
        .post(
            &format!("/watches/{watch}/signups"),
            team_member,
            json!({"slot_start": "2027-01-01T05:00:00Z"}),
        )
        .await
        .expect(201));
    let replacement = id(&app
        .post(
            &format!("/watches/{watch}/signups/{signup}/replacement"),
            team_member,
            json!({"slot_start": "2027-01-01T05:00:00Z"}),
        )
        .await
        .expect(201));
    let blockout = id(&app
        .post(
            "/me/blockouts",
            team_member,
            json!({"starts_at": "2027-03-01T00:00:00Z", "ends_at": "2027-03-02T00:00:00Z"}),
        )
        .await
        .expect(201));
    let fast = id(&app
        .post(
            "/fasts",
            team_leader,
            json!({"name": "Daniel fast", "fast_type": "daniel", "starts_on": "2027-01-01",
                   "days": 3, "timezone": "UTC", "team_id": team}),
        )
        .await
        .expect(201));
    app.post(
        &format!("/fasts/{fast}/participants"),
        team_member,
        json!({}),
    )
    .await
    .expect(201);
    let url = app
        .post("/me/calendar-token", team_member, json!({}))
        .await
        .json()["url"]
        .as_str()
        .expect("a calendar url")
        .to_string();
    let calendar = url
        .rsplit('/')
        .next()
        .and_then(|last| last.strip_suffix(".ics"))
        .expect("a token in the url")
        .to_string();
    // Links' tokens reach people by email only; the scene sets known ones in the database.
    let invitation = id(&app
        .post(
            "/invitations",
            team_leader,
            json!({"email": format!("scene{n}@example.org"), "team_id": team}),
        )
        .await
        .expect(201));
    let invitation_token = format!("scene-invitation-{n}");
    app.sql(&format!(
        "UPDATE invitations SET token_hash = '{}' WHERE id = '{invitation}'",
        intercede::auth::links::hash(&invitation_token)
    ))
    .await;
    let reset_token = format!("scene-reset-{n}");
    app.sql(&format!(
        "INSERT INTO password_resets (id, member_id, token_hash, expires_at, created_at) \
         VALUES ('reset-{n}', '{}', '{}', '2099-01-01 00:00:00', '2026-01-01 00:00:00')",
        people.plain().id,
        intercede::auth::links::hash(&reset_token)
    ))
    .await;
    let admin = Some(people.admin().token.as_str());
    let webhook = id(&app
        .post(
            "/webhooks",
            admin,
            json!({"url": format!("https://93.184.216.34/{n}"), "events": ["fast.check_in"]}),
        )
        .await
        .expect(201));
    app.post(&format!("/webhooks/{webhook}/ping"), admin, json!({}))
        .await
        .expect(202);
    let delivery = id(&app
        .get(&format!("/webhooks/{webhook}/deliveries"), admin)
        .await
        .expect(200)["items"][0]);
    let unsubscribe =
        intercede::notify::unsubscribe::Unsubscribes::new(crate::helpers::TEST_SECRET).token(
            &people.team_member().id,
            intercede::outbox::Event::RequestUpdate,
        );
    Scene {
        n,
        team,
        request,
        assignment,
        category,
        watch,
        signup,
        blockout,
        replacement,
        fast,
        calendar,
        unsubscribe,
        webhook,
        delivery,
        invitation,
        invitation_token,
        reset_token,
    }
}

fn fill(template: &str, scene: &Scene, people: &People) -> String {
    template
        .replace("{n}", &scene.n.to_string())
        .replace("{team}", &scene.team)
        .replace("{request}", &scene.request)
        .replace("{assignment}", &scene.assignment)
        .replace("{category}", &scene.category)
        .replace("{watch}", &scene.watch)
        .replace("{signup}", &scene.signup)
        .replace("{blockout}", &scene.blockout)
        .replace("{replacement}", &scene.replacement)
        .replace("{fast}", &scene.fast)
        .replace("{calendar}", &scene.calendar)
        .replace("{unsubscribe}", &scene.unsubscribe)
        .replace("{webhook}", &scene.webhook)
        .replace("{invitation_token}", &scene.invitation_token)
        .replace("{invitation}", &scene.invitation)
        .replace("{reset_token}", &scene.reset_token)
        .replace("{delivery}", &scene.delivery)
        .replace("{plain}", &people.plain().id)
        .replace("{team_member}", &people.team_member().id)
        .replace("{requester}", &people.requester.id)
}

#[actix_web::test]
async fn every_operation_has_a_row_for_every_caller() {
    let app = spawn_app().await;
    let (ops, _) = spec_operations(&app).await;
    let rows: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|(m, p, _, _)| {
            let p = p.replace("{calendar}", "{token}");
            (m.to_string(), p.replace("{unsubscribe}", "{token}"))
        })
        .map(|(m, p)| (m, normalise(&p)))
        .collect();
    let ops: BTreeSet<(String, String)> =
        ops.into_iter().map(|(m, p)| (m, normalise(&p))).collect();
    let missing: Vec<_> = ops.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&ops).collect();
    assert!(missing.is_empty(), "operations without a row: {missing:?}");
    assert!(stale.is_empty(), "rows the spec does not have: {stale:?}");
    for (method, path, _, who) in ROWS {
        assert_eq!(who.len(), CALLERS.len(), "{method} {path}");
        assert!(who.chars().all(|c| c == 'Y' || c == 'N'), "{method} {path}");
    }
}

/// Path parameters by position, whatever their names: `/teams/{team}` is `/teams/{}`.
fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[actix_web::test]
async fn each_caller_gets_what_its_row_says() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let people = People {
        requester: app.member("Rita").await,
        callers: [
            app.member("Mo").await,
            app.member("Tess").await,
            app.member("Otto").await,
            app.member("Tom").await,
            leader,
            admin,
        ],
    };
    let mut n = 0;
    let mut failures = Vec::new();
    for (method, path, body, who) in ROWS {
        n += 1;
        let shared = scene(&app, &people, n).await;
        // Refusals first, on a shared scene: a refused call changes nothing.
        let mut order: Vec<usize> = (0..CALLERS.len()).collect();
        order.sort_by_key(|&i| who.as_bytes()[i] == b'Y');
        for i in order {
            let allowed = who.as_bytes()[i] == b'Y';
            let fresh;
            let scene = if allowed && *method != "GET" {
                n += 1;
                fresh = scene(&app, &people, n).await;
                &fresh
            } else {
                &shared
            };
            let token = (i > 0).then(|| people.callers[i - 1].token.as_str());
            let res = send(
                &app,
                method,
                &fill(path, scene, &people),
                token,
                &fill(body, scene, &people),
            )
            .await;
            let got_through = ![401, 403, 404].contains(&res.status);
            let as_expected = if allowed {
                got_through && res.status < 500
            } else if i == 0 {
                res.status == 401
            } else {
                !got_through
            };
            if !as_expected {
                failures.push(format!(
                    "{method} {path} as {}: expected {}, got {} {}",
                    CALLERS[i],
                    if allowed { "through" } else { "refused" },
                    res.status,
                    res.text().chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
