//! The OpenAPI document, assembled from each feature's handlers, plus the conventions every
//! operation shares (bearer auth, problem+json errors) added in one place rather than on each.

use std::collections::BTreeSet;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem, ProblemType, PROBLEM_JSON};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "intercede",
        description = "REST API of a church's intercession ministry: prayer requests, intercession \
teams and assignments, prayer watches and group fasts.\n\nConventions: JSON in and out; instants \
in RFC 3339 UTC; lists are keyset-paginated with `limit` and `cursor`; every error is an RFC 9457 \
problem (`application/problem+json`).",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(crate::health::healthz, crate::health::readyz),
    components(schemas(Problem, ProblemType, FieldError, crate::prayer_requests::model::Sort)),
    tags(
        (name = "Accounts", description = "Registration, sign-in sessions and one's own profile"),
        (name = "Members", description = "The members directory and roles"),
        (name = "Prayer requests", description = "Asking for prayer, and the life of a request"),
        (name = "Moderation", description = "Leaders approve, reject, and review flagged requests"),
        (name = "Prayers", description = "\"I prayed for this\", counted"),
        (name = "Updates and comments", description = "News from the requester, and encouragement"),
        (name = "Categories", description = "Categories of prayer requests"),
        (name = "Teams", description = "Intercession teams and their members"),
        (name = "Assignments", description = "Requests in teams' and intercessors' hands"),
        (name = "Prayer watches", description = "Slots of prayer around the clock, signups, coverage and check-ins"),
        (name = "Group fasts", description = "Fasts a congregation or team keeps together"),
        (name = "Calendar", description = "A member's secret calendar feed"),
        (name = "Watch changes", description = "Blockouts of time one cannot keep one's slots, and replacements"),
        (name = "Notifications", description = "What the service tells a member: the in-app inbox, email, preferences"),
        (name = "Invitations", description = "Bringing a new member in by an emailed link"),
        (name = "Webhooks", description = "Signed deliveries of events to the church's other systems (Standard Webhooks)"),
        (name = "Privacy", description = "Audit log, export of one's data, erasure"),
        (name = "Operations", description = "Health probes"),
    )
)]
pub struct ApiDoc;

/// The document as served and committed: the root, every feature's operations under `/api/v1`
/// (merged path by path, so two features may share a path with different methods), then the
/// conventions every operation shares.
pub fn document() -> OpenApiDoc {
    use crate::{
        accounts, assignments, categories, fasts, notify, prayer_requests, privacy, teams, watches,
    };
    let mut doc = ApiDoc::openapi();
    for api in [
        accounts::routes::AccountsApi::openapi(),
        prayer_requests::routes::RequestsApi::openapi(),
        prayer_requests::activity::ActivityApi::openapi(),
        categories::routes::CategoriesApi::openapi(),
        teams::routes::TeamsApi::openapi(),
        assignments::routes::AssignmentsApi::openapi(),
        watches::routes::WatchesApi::openapi(),
        watches::signups::SignupsApi::openapi(),
        watches::calendar::CalendarApi::openapi(),
        watches::blockouts::BlockoutsApi::openapi(),
        watches::replacements::ReplacementsApi::openapi(),
        fasts::routes::FastsApi::openapi(),
        fasts::participation::ParticipationApi::openapi(),
        privacy::routes::PrivacyApi::openapi(),
        notify::inbox::InboxApi::openapi(),
        notify::deliveries::DeliveriesApi::openapi(),
        notify::preferences::PreferencesApi::openapi(),
        notify::unsubscribe::UnsubscribeApi::openapi(),
        crate::webhooks::routes::WebhooksApi::openapi(),
        crate::invitations::routes::InvitationsApi::openapi(),
        crate::accounts::password_reset::PasswordResetApi::openapi(),
    ] {
        doc.merge(under_api_prefix(api));
    }
    Conventions.modify(&mut doc);
    doc
}

fn under_api_prefix(mut api: OpenApiDoc) -> OpenApiDoc {
    let paths = std::mem::take(&mut api.paths.paths);
    api.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (format!("/api/v1{path}"), item))
        .collect();
    api
}

/// The document as pretty JSON with a trailing newline, as `intercede openapi` prints it.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the document serializes");
    json.push('\n');
    json
}

struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/login`."))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_params = path.contains('{');
            for op in operations_mut(item) {
                add_standard_errors(op, has_path_params);
            }
        }
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Adds the errors any operation of its kind can answer, and gives every error response the
/// problem+json body, so handlers document only the errors particular to them.
fn add_standard_errors(op: &mut Operation, has_path_params: bool) {
    let requires_token = op.security.as_ref().is_some_and(|reqs| {
        !reqs.is_empty()
            && reqs
                .iter()
                .all(|r| serde_json::to_value(r).is_ok_and(|v| v != serde_json::json!({})))
    });
    let has_body = op.request_body.is_some();
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter().any(|p| {
            serde_json::to_value(p).is_ok_and(|v| v.get("in") == Some(&serde_json::json!("query")))
        })
    });
    let mut standard: Vec<(&str, &str)> = vec![("500", "Internal error; the body has no details")];
    if requires_token {
        standard.push((
            "401",
            "Missing, malformed, expired or forged access token, or a deactivated account",
        ));
    }
    if has_body {
        standard.push((
            "400",
            "The body is not JSON, or not sent as `application/json`",
        ));
        standard.push(("413", "The body is over 64 KiB"));
        standard.push(("422", "Invalid fields; `errors` lists each one"));
    }
    if has_query {
        standard.push(("422", "Invalid query parameters; `errors` lists each one"));
    }
    if has_path_params {
        standard.push(("404", "Not found, or not visible to the caller"));
    }
    let responses = &mut op.responses.responses;
    for (status, description) in standard {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let RefOr::T(response) = response {
            if is_error && response.content.is_empty() {
                *response = problem_response(&response.description);
            }
        }
    }
}

/// Which methods each documented path answers, to tell 405 from 404 for requests no route takes.
pub struct RouteTable {
    routes: Vec<(ResourceDef, BTreeSet<String>)>,
}

impl RouteTable {
    pub fn from_document(doc: &OpenApiDoc) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter(|(_, present)| *present)
                .map(|(m, _)| m.to_string())
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed on `path` when it is a known path and `method` is not among them.
    pub fn allowed_other_methods(&self, method: &Method, path: &str) -> Option<Vec<String>> {
        let mut allowed = BTreeSet::new();
        for (def, methods) in &self.routes {
            if def.is_match(path) {
                allowed.extend(methods.iter().cloned());
            }
        }
        (!allowed.is_empty() && !allowed.contains(method.as_str()))
            .then(|| allowed.into_iter().collect())
    }
}
