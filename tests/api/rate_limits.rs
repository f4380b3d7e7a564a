//! Rate limits held in the database, and the client address they count against
//! (`TRUSTED_PROXIES`, `X-Forwarded-For`).

use actix_web::http::Method;
use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{spawn_app_with, start_worker_with, TestApp, PASSWORD};

/// Three instances on one database: however a client's attempts are spread over them, exactly the
/// configured number gets through (each instance counting on its own would let three times as many).
#[actix_web::test]
async fn a_client_spread_over_three_instances_gets_exactly_the_limit_through() {
    let app = spawn_app_with(|c| c.login_attempts_per_minute = 6).await;
    let second = start_worker_with(app.config.clone()).await;
    let third = start_worker_with(app.config.clone()).await;
    let bases = [app.base.clone(), second.base.clone(), third.base.clone()];
    let attempts = (0..15).map(|i| {
        let base = bases[i % 3].clone();
        let app = &app;
        async move {
            app.post_on(
                &base,
                "/auth/login",
                None,
                json!({"email": format!("nobody{i}@example.org"), "password": PASSWORD}),
            )
            .await
            .status
        }
    });
    let statuses = join_all(attempts).await;
    let through = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((through, limited), (6, 9), "{statuses:?}");
    second.stop().await;
    third.stop().await;
}

async fn submit(app: &TestApp, forwarded: Option<&str>) -> u16 {
    let body = json!({"title": "Please pray", "body": "For my family", "category": "family"});
    let mut headers = vec![("content-type", "application/json")];
    if let Some(f) = forwarded {
        headers.push(("x-forwarded-for", f));
    }
    app.raw(
        Method::POST,
        "/public/prayer-requests",
        &headers,
        serde_json::to_vec(&body).unwrap(),
    )
    .await
    .status
}

/// Behind a trusted proxy the client is the rightmost address the proxy did not add itself: what a
/// client writes to the left of it changes nothing, and another client behind the same proxy has
/// its own allowance.
#[actix_web::test]
async fn behind_a_trusted_proxy_a_spoofed_leftmost_address_changes_nothing() {
    let app = spawn_app_with(|c| {
        c.public_requests_per_hour = 2;
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    assert_eq!(submit(&app, Some("203.0.113.7")).await, 202);
    assert_eq!(submit(&app, Some("1.1.1.1, 203.0.113.7")).await, 202);
    // Spent: each new spoofed address on the left is still 203.0.113.7.
    for spoof in ["2.2.2.2", "3.3.3.3, 4.4.4.4", "127.0.0.1"] {
        let forwarded = format!("{spoof}, 203.0.113.7");
        assert_eq!(submit(&app, Some(&forwarded)).await, 429, "{forwarded}");
    }
    // A trusted hop to the right is skipped; the client behind it is still the same one.
    assert_eq!(submit(&app, Some("203.0.113.7, 127.0.0.9")).await, 429);
    // Another client behind the proxy is counted on its own.
    assert_eq!(submit(&app, Some("9.9.9.9, 198.51.100.4")).await, 202);
}

/// Without `TRUSTED_PROXIES` the header is not read at all: a client cannot buy a fresh allowance
/// by writing one.
#[actix_web::test]
async fn without_trusted_proxies_forwarded_addresses_are_ignored() {
    let app = spawn_app_with(|c| c.public_requests_per_hour = 2).await;
    assert_eq!(submit(&app, None).await, 202);
    assert_eq!(submit(&app, Some("203.0.113.7")).await, 202);
    assert_eq!(submit(&app, Some("198.51.100.4")).await, 429);
    assert_eq!(submit(&app, Some("198.51.100.5, 198.51.100.6")).await, 429);
}
