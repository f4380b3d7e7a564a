//! The published OpenAPI document: served, committed, and the same.

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_served_spec_matches_the_committed_one() {
    let app = spawn_app().await;
    let served = app.get("/api-docs/openapi.json", None).await.expect(200);
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed"),
    )
    .expect("openapi/openapi.json is JSON");
    assert!(
        served == committed,
        "openapi/openapi.json is out of date: regenerate it with \
         `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[actix_web::test]
async fn the_spec_is_openapi_3_1_with_full_paths_bearer_auth_and_problem_errors() {
    let app = spawn_app().await;
    let spec = app.get("/api-docs/openapi.json", None).await.expect(200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/members/{id}",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(paths
        .keys()
        .all(|p| p.starts_with("/api/v1/") || p == "/healthz" || p == "/readyz"));
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let me = &spec["paths"]["/api/v1/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
    assert!(me["responses"]["401"]["content"]["application/problem+json"].is_object());
    let login = &spec["paths"]["/api/v1/auth/login"]["post"];
    assert!(login["security"].is_null(), "login needs no token");
    for status in ["400", "413", "422", "429"] {
        assert!(
            login["responses"][status]["content"]["application/problem+json"].is_object(),
            "login lacks {status}"
        );
    }
    // Every operation has a description for app developers.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{method} {path} has no description"
            );
        }
    }
}

fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap_or_default().to_string());
                } else {
                    refs(v, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn every_reference_resolves_and_enums_are_spelled_as_sent() {
    let app = spawn_app().await;
    let spec = app.get("/api-docs/openapi.json", None).await.expect(200);
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
    let schemas = &spec["components"]["schemas"];
    assert_eq!(
        schemas["Role"]["enum"],
        serde_json::json!(["admin", "leader", "member"])
    );
    assert_eq!(
        schemas["Sort"]["enum"],
        serde_json::json!(["newest", "needs_prayer"])
    );
    assert_eq!(schemas["AuditKind"]["enum"][0], "request.read");
}

#[actix_web::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let redirect = app.get("/docs", None).await;
    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.text().to_lowercase().contains("swagger"));
    let script = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(script.status, 200);
    assert!(
        script.body.len() > 100_000,
        "the bundle is vendored, not fetched from a CDN"
    );
    let init = app.get("/docs/swagger-initializer.js", None).await;
    assert!(init.text().contains("/api-docs/openapi.json"));
}

/// An app branches on a problem's `type`: every type the code can answer with is in the OpenAPI
/// document (generated from the code's one list, `ProblemType`) and in docs/errors.md's table,
/// with its status, and neither lists a type the code does not have.
#[actix_web::test]
async fn every_problem_type_is_in_the_spec_and_in_the_errors_doc() {
    use intercede::error::ProblemType;
    use std::collections::BTreeSet;
    let app = spawn_app().await;
    let spec = app.get("/api-docs/openapi.json", None).await.expect(200);
    let in_spec: BTreeSet<String> = spec["components"]["schemas"]["ProblemType"]["enum"]
        .as_array()
        .expect("a ProblemType enum in the spec")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let in_code: BTreeSet<String> = ProblemType::ALL
        .iter()
        .map(|t| format!("/problems/{}", t.slug()))
        .collect();
    assert_eq!(in_spec, in_code, "ProblemType::ALL and the enum differ");
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md")).unwrap();
    let in_doc: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `/problems/"))
        .map(|rest| format!("/problems/{}", rest.split('`').next().unwrap()))
        .collect();
    assert_eq!(
        in_doc, in_code,
        "docs/errors.md's table and the code differ"
    );
    for t in ProblemType::ALL {
        let row = format!("| `/problems/{}` | {} |", t.slug(), t.status());
        assert!(doc.contains(&row), "docs/errors.md lacks {row}");
    }
}
