//! One authorization matrix for the whole API. It walks the published OpenAPI document: an
//! operation without a row here fails the build, every non-public operation must answer 401 to a
//! caller without a token, and each operation's church-wide floor (member, leader, admin) is
//! checked as every lower role. Per-resource rules (team member, team leader, another team's
//! leader...) are the seven-caller matrix in `callers.rs`, and in each feature's tests.
//!
//! The same walk throws hostile input at every operation: never a 5xx, always a problem.

use std::collections::BTreeSet;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Resp, TestApp};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Floor {
    /// No token needed.
    Public,
    /// Any signed-in member; the resource decides the rest.
    Member,
    /// Church-wide leaders and admins; a member gets 403.
    Leader,
    /// Admins only; members and leaders get 403.
    Admin,
}
use Floor::*;

/// Every operation of the API, its floor, and a body that passes validation where the floor is
/// checked after the body is read.
const MATRIX: &[(&str, &str, Floor, &str)] = &[
    ("GET", "/healthz", Public, ""),
    ("GET", "/readyz", Public, ""),
    ("POST", "/api/v1/auth/register", Public, ""),
    ("POST", "/api/v1/auth/login", Public, ""),
    ("POST", "/api/v1/auth/refresh", Public, ""),
    ("POST", "/api/v1/auth/logout", Public, ""),
    ("POST", "/api/v1/public/prayer-requests", Public, ""),
    ("GET", "/api/v1/calendar/{token}.ics", Public, ""),
    ("POST", "/api/v1/unsubscribe/{token}", Public, ""),
    ("GET", "/api/v1/invitations/{token}", Public, ""),
    ("POST", "/api/v1/invitations/{token}/accept", Public, ""),
    ("POST", "/api/v1/auth/password-reset", Public, ""),
    ("GET", "/api/v1/auth/password-reset/{token}", Public, ""),
    ("POST", "/api/v1/auth/password-reset/{token}", Public, ""),
    // Team leaders invite into their own team: the church-wide floor is a member.
    ("POST", "/api/v1/invitations", Member, ""),
    ("GET", "/api/v1/invitations", Leader, ""),
    // Its inviter may revoke one.
    ("DELETE", "/api/v1/invitations/{id}", Member, ""),
    ("GET", "/api/v1/me", Member, ""),
    ("PATCH", "/api/v1/me", Member, ""),
    ("DELETE", "/api/v1/me", Member, ""),
    ("POST", "/api/v1/me/password", Member, ""),
    ("GET", "/api/v1/me/export", Member, ""),
    ("GET", "/api/v1/me/assignments", Member, ""),
    ("GET", "/api/v1/me/watch-slots", Member, ""),
    ("POST", "/api/v1/me/calendar-token", Member, ""),
    ("GET", "/api/v1/me/fasts", Member, ""),
    ("GET", "/api/v1/me/notifications", Member, ""),
    ("POST", "/api/v1/me/blockouts", Member, ""),
    (
        "POST",
        "/api/v1/watches/{id}/signups/{signup_id}/replacement",
        Member,
        "",
    ),
    ("GET", "/api/v1/watches/{id}/replacements", Member, ""),
    ("POST", "/api/v1/replacements/{id}/accept", Member, ""),
    ("DELETE", "/api/v1/replacements/{id}", Member, ""),
    ("GET", "/api/v1/me/blockouts", Member, ""),
    // One's own only: another's is 404.
    ("DELETE", "/api/v1/me/blockouts/{id}", Member, ""),
    ("POST", "/api/v1/me/notifications/read", Member, ""),
    ("GET", "/api/v1/me/notification-preferences", Member, ""),
    ("PUT", "/api/v1/me/notification-preferences", Member, ""),
    ("GET", "/api/v1/notification-deliveries", Admin, ""),
    (
        "POST",
        "/api/v1/webhooks",
        Admin,
        r#"{"url":"https://93.184.216.34/hook","events":["fast.check_in"]}"#,
    ),
    ("GET", "/api/v1/webhooks", Admin, ""),
    ("GET", "/api/v1/webhooks/{id}", Admin, ""),
    ("PATCH", "/api/v1/webhooks/{id}", Admin, ""),
    ("DELETE", "/api/v1/webhooks/{id}", Admin, ""),
    ("POST", "/api/v1/webhooks/{id}/rotate-secret", Admin, ""),
    ("POST", "/api/v1/webhooks/{id}/ping", Admin, ""),
    ("GET", "/api/v1/webhooks/{id}/deliveries", Admin, ""),
    (
        "POST",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        Admin,
        "",
    ),
    ("GET", "/api/v1/members", Leader, ""),
    ("GET", "/api/v1/members/{id}", Leader, ""),
    (
        "PATCH",
        "/api/v1/members/{id}",
        Admin,
        r#"{"role":"member"}"#,
    ),
    ("GET", "/api/v1/audit-events", Admin, ""),
    ("GET", "/api/v1/categories", Member, ""),
    ("POST", "/api/v1/categories", Leader, r#"{"name":"matrix"}"#),
    (
        "PATCH",
        "/api/v1/categories/{id}",
        Leader,
        r#"{"name":"matrix"}"#,
    ),
    ("DELETE", "/api/v1/categories/{id}", Leader, ""),
    ("GET", "/api/v1/prayer-requests", Member, ""),
    ("POST", "/api/v1/prayer-requests", Member, ""),
    ("GET", "/api/v1/prayer-requests/{id}", Member, ""),
    ("PATCH", "/api/v1/prayer-requests/{id}", Member, ""),
    ("DELETE", "/api/v1/prayer-requests/{id}", Member, ""),
    ("POST", "/api/v1/prayer-requests/{id}/approve", Leader, ""),
    (
        "POST",
        "/api/v1/prayer-requests/{id}/reject",
        Leader,
        r#"{"reason":"matrix"}"#,
    ),
    ("POST", "/api/v1/prayer-requests/{id}/flag", Member, ""),
    ("POST", "/api/v1/prayer-requests/{id}/answer", Member, ""),
    ("POST", "/api/v1/prayer-requests/{id}/reopen", Member, ""),
    ("GET", "/api/v1/prayer-requests/{id}/prayers", Member, ""),
    ("POST", "/api/v1/prayer-requests/{id}/prayers", Member, ""),
    ("GET", "/api/v1/prayer-requests/{id}/updates", Member, ""),
    ("POST", "/api/v1/prayer-requests/{id}/updates", Member, ""),
    ("GET", "/api/v1/prayer-requests/{id}/comments", Member, ""),
    ("POST", "/api/v1/prayer-requests/{id}/comments", Member, ""),
    (
        "GET",
        "/api/v1/prayer-requests/{id}/assignments",
        Member,
        "",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{id}/assignments",
        Member,
        "",
    ),
    (
        "POST",
        "/api/v1/prayer-requests/{id}/assignments/auto",
        Member,
        "",
    ),
    ("PATCH", "/api/v1/assignments/{id}", Member, ""),
    ("GET", "/api/v1/teams", Member, ""),
    ("POST", "/api/v1/teams", Leader, r#"{"name":"Matrix team"}"#),
    ("GET", "/api/v1/teams/{id}", Member, ""),
    ("PATCH", "/api/v1/teams/{id}", Member, ""),
    ("DELETE", "/api/v1/teams/{id}", Member, ""),
    ("GET", "/api/v1/teams/{id}/members", Member, ""),
    ("PUT", "/api/v1/teams/{id}/members/{member_id}", Member, ""),
    (
        "DELETE",
        "/api/v1/teams/{id}/members/{member_id}",
        Member,
        "",
    ),
    ("GET", "/api/v1/teams/{id}/assignments", Member, ""),
    ("GET", "/api/v1/watches", Member, ""),
    (
        "POST",
        "/api/v1/watches",
        Leader,
        r#"{"name":"W","timezone":"UTC","starts_on":"2027-01-01","slot_minutes":60,"min_per_slot":1}"#,
    ),
    ("GET", "/api/v1/watches/{id}", Member, ""),
    ("PATCH", "/api/v1/watches/{id}", Member, ""),
    ("DELETE", "/api/v1/watches/{id}", Member, ""),
    ("GET", "/api/v1/watches/{id}/slots", Member, ""),
    ("GET", "/api/v1/watches/{id}/coverage", Member, ""),
    ("GET", "/api/v1/watches/{id}/now", Member, ""),
    ("POST", "/api/v1/watches/{id}/signups", Member, ""),
    ("GET", "/api/v1/watches/{id}/signups", Member, ""),
    (
        "DELETE",
        "/api/v1/watches/{id}/signups/{signup_id}",
        Member,
        "",
    ),
    ("POST", "/api/v1/watches/{id}/check-ins", Member, ""),
    ("GET", "/api/v1/fasts", Member, ""),
    (
        "POST",
        "/api/v1/fasts",
        Leader,
        r#"{"name":"F","fast_type":"full","starts_on":"2027-01-01","days":3,"timezone":"UTC"}"#,
    ),
    ("GET", "/api/v1/fasts/{id}", Member, ""),
    ("PATCH", "/api/v1/fasts/{id}", Member, ""),
    ("DELETE", "/api/v1/fasts/{id}", Member, ""),
    ("GET", "/api/v1/fasts/{id}/days", Member, ""),
    ("POST", "/api/v1/fasts/{id}/participants", Member, ""),
    ("DELETE", "/api/v1/fasts/{id}/participants/me", Member, ""),
    ("POST", "/api/v1/fasts/{id}/check-ins", Member, ""),
    ("GET", "/api/v1/fasts/{id}/check-ins/me", Member, ""),
];

const NO_SUCH_ID: &str = "01000000-0000-7000-8000-000000000000";

fn concrete(path: &str) -> String {
    path.replace("{token}", "no-such-token")
        .replace("{id}", NO_SUCH_ID)
        .replace("{member_id}", NO_SUCH_ID)
        .replace("{signup_id}", NO_SUCH_ID)
        .replace("{delivery_id}", NO_SUCH_ID)
}

/// Every (method, path) of the served OpenAPI document, and the document.
pub async fn spec_operations(app: &TestApp) -> (BTreeSet<(String, String)>, Value) {
    let spec = app.get("/api-docs/openapi.json", None).await.expect(200);
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    (ops, spec)
}

/// Sends `body` (`{}` when empty, none for GET) with an optional bearer token.
pub async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    let body = if body.is_empty() && method != "GET" {
        "{}"
    } else {
        body
    };
    if method != "GET" {
        headers.push(("content-type", "application/json"));
    }
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let bytes = if method == Method::GET {
        vec![]
    } else {
        body.as_bytes().to_vec()
    };
    app.raw(method, path, &headers, bytes).await
}

#[actix_web::test]
async fn every_operation_in_the_spec_has_a_row_and_every_row_an_operation() {
    let app = spawn_app().await;
    let (ops, _) = spec_operations(&app).await;
    let rows: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = ops.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&ops).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in MATRIX: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows for operations the spec does not have: {stale:?}"
    );
}

#[actix_web::test]
async fn the_spec_marks_exactly_the_public_operations_as_needing_no_token() {
    let app = spawn_app().await;
    let (_, spec) = spec_operations(&app).await;
    for (method, path, floor, _) in MATRIX {
        let op = &spec["paths"][path][method.to_lowercase()];
        let security = op["security"].as_array();
        let open = security.is_none_or(|reqs| reqs.iter().any(|r| r == &json!({})));
        assert_eq!(open, *floor == Public, "{method} {path}");
    }
}

#[actix_web::test]
async fn without_a_token_every_non_public_operation_is_401() {
    let app = spawn_app().await;
    for (method, path, floor, body) in MATRIX {
        let res = send(&app, method, &concrete(path), None, body).await;
        if *floor == Public {
            assert_ne!(res.status, 401, "{method} {path} is public");
            assert!(res.status < 500, "{method} {path}: {}", res.text());
        } else {
            res.expect_problem(401);
            assert_eq!(
                res.header("www-authenticate").as_deref(),
                Some("Bearer"),
                "{method} {path}"
            );
        }
    }
}

#[actix_web::test]
async fn each_operation_refuses_callers_below_its_church_wide_floor() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let leader = app.leader(&admin, "Lea").await;
    let member = app.member("Mo").await;
    for (method, path, floor, body) in MATRIX {
        let path = concrete(path);
        let below: Vec<&str> = match floor {
            Public | Member => vec![],
            Leader => vec![&member.token],
            Admin => vec![&member.token, &leader.token],
        };
        for token in below {
            let res = send(&app, method, &path, Some(token), body).await;
            assert_eq!(res.status, 403, "{method} {path}: {}", res.text());
        }
        let allowed = match floor {
            Public => None,
            Member => Some(&member.token),
            Leader => Some(&leader.token),
            Admin => Some(&admin.token),
        };
        if let Some(token) = allowed {
            let res = send(&app, method, &path, Some(token), body).await;
            assert!(
                ![401, 403].contains(&res.status) && res.status < 500,
                "{method} {path} as its floor: {} {}",
                res.status,
                res.text()
            );
        }
    }
}

#[actix_web::test]
async fn hostile_input_anywhere_is_a_4xx_problem_never_a_5xx() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let bodies: Vec<String> = vec![
        r#"{"name":"#.into(),
        deep_array,
        deep_object,
        r#""just a string""#.into(),
        r#"{"title":"a\u0000b","name":"\u0000","body":"\u0000","reason":"\u0000","email":"\u0000@x.org"}"#.into(),
        r#"{"days":1e309,"count":99999999999999999999,"slot_minutes":-1,"limit":0}"#.into(),
        r#"{"starts_on":"0000-01-01","expires_on":"99999-12-31","slot_start":"9999-12-31T23:59:59Z","from":"-1"}"#.into(),
        r#"{"timezone":"Not/AZone","team_id":"' OR 1=1 --","member_id":"\"; DROP TABLE members; --"}"#.into(),
    ];
    for (method, path, _, _) in MATRIX {
        let path = concrete(path);
        if *method == "GET" {
            for query in [
                "?limit=-1",
                "?limit=0",
                "?limit=1e99",
                "?cursor=%00%FF",
                "?from=9999-99-99&to=0000-00-00",
                "?from=1900-01-01&to=2900-01-01",
                "?q=%27%3B%20DROP%20TABLE%20members%3B--",
                "?status=%00",
            ] {
                let res = send(
                    &app,
                    method,
                    &format!("{path}{query}"),
                    Some(&admin.token),
                    "",
                )
                .await;
                assert!(
                    res.status < 500,
                    "{method} {path}{query}: {} {}",
                    res.status,
                    res.text()
                );
                if res.status >= 400 {
                    res.expect_problem(res.status);
                }
            }
            continue;
        }
        for body in &bodies {
            let res = send(&app, method, &path, Some(&admin.token), body).await;
            assert!(
                res.status >= 400 && res.status < 500 || res.status < 300,
                "{method} {path} with {}...: {} {}",
                &body[..body.len().min(40)],
                res.status,
                res.text()
            );
            if res.status >= 400 {
                res.expect_problem(res.status);
            }
        }
        // Invalid UTF-8 in a JSON body.
        let res = app
            .raw(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &path,
                &[
                    ("authorization", &format!("Bearer {}", admin.token)),
                    ("content-type", "application/json"),
                ],
                b"{\"name\": \"\xff\xfe\"}".to_vec(),
            )
            .await;
        // Operations that read no body may ignore it; the others refuse it.
        assert!(
            res.status < 300 || (400..500).contains(&res.status),
            "{method} {path}: {}",
            res.status
        );
    }
    // The service is still up and the admin still works.
    app.get("/me", Some(&admin.token)).await.expect(200);
}

/// The string properties of a request body's schema, `$ref`s resolved, one level of nesting
/// (`daily_focus[0].title`) included: each is a text input a client can fill.
fn string_inputs(spec: &Value, schema: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let resolve = |s: &Value| -> Value {
        match s["$ref"].as_str() {
            Some(r) => spec["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => s.clone(),
        }
    };
    let schema = resolve(schema);
    let variants: Vec<Value> = ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| schema[*k].as_array().cloned())
        .flatten()
        .chain(std::iter::once(schema.clone()))
        .map(|s| resolve(&s))
        .collect();
    for variant in variants {
        let Some(props) = variant["properties"].as_object() else {
            continue;
        };
        for (name, prop) in props {
            let prop = resolve(prop);
            let types: Vec<&str> = match &prop["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            let is_text = types.contains(&"string")
                || ["oneOf", "anyOf"].iter().any(|k| {
                    prop[*k]
                        .as_array()
                        .is_some_and(|vs| vs.iter().any(|v| resolve(v)["type"] == "string"))
                });
            if is_text && !out.iter().any(|(p, _)| *p == path) {
                let body = if at.is_empty() {
                    json!({ name.clone(): "a\u{0}b" })
                } else {
                    json!({ at.trim_end_matches("[0]"): [{ name.clone(): "a\u{0}b" }] })
                };
                out.push((path.clone(), body));
            } else if types.contains(&"array") && at.is_empty() {
                string_inputs(spec, &prop["items"], &format!("{name}[0]"), out);
            }
        }
    }
}

/// U+0000 cannot be stored in PostgreSQL's text; on both databases, every text input of the spec
/// (each path parameter, each string query parameter, each string property of a JSON body)
/// carrying it is a 422 naming that input, never a 500.
#[actix_web::test]
async fn a_nul_character_in_any_text_input_is_a_422_naming_it() {
    let app = spawn_app().await;
    let admin = app.admin("Ada").await;
    let (_, spec) = spec_operations(&app).await;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                let with_nul = path
                    .split('/')
                    .map(|seg| {
                        if seg.starts_with('{') {
                            seg.replacen(&seg[..seg.find('}').unwrap() + 1], "a%00b", 1)
                        } else {
                            seg.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let res = send(&app, &method, &with_nul, Some(&admin.token), "").await;
                let problem = res.expect_problem(422);
                assert_eq!(problem["errors"][0]["field"], "path", "{method} {path}");
                checked += 1;
            }
            for param in params.iter().filter(|p| p["in"] == "query") {
                let name = param["name"].as_str().unwrap();
                let res = send(
                    &app,
                    &method,
                    &format!("{}?{name}=a%00b", concrete(path)),
                    Some(&admin.token),
                    "",
                )
                .await;
                let problem = res.expect_problem(422);
                assert_eq!(problem["errors"][0]["field"], name, "{method} {path}");
                checked += 1;
            }
            let Some(schema) =
                op["requestBody"]["content"]["application/json"]["schema"].as_object()
            else {
                continue;
            };
            let mut inputs = vec![];
            string_inputs(&spec, &Value::Object(schema.clone()), "", &mut inputs);
            for (field, body) in inputs {
                let res = send(
                    &app,
                    &method,
                    &concrete(path),
                    Some(&admin.token),
                    &body.to_string(),
                )
                .await;
                let problem = res.expect_problem(422);
                assert_eq!(
                    problem["errors"][0]["field"],
                    field.as_str(),
                    "{method} {path} {body}"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked > 150,
        "only {checked} inputs were found in the spec"
    );
    // Nothing was stored with a NUL, and the service still answers.
    app.get("/me", Some(&admin.token)).await.expect(200);
}
