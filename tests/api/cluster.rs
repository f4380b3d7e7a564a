//! The many-machines rig (scripts/cluster.sh): three instances behind HAProxy, pgbouncer in
//! transaction mode before the primary, a streaming replica for reads. These tests need the rig
//! running, so they are ignored by a plain `cargo test`; `.ci/run` brings the rig up, exports its
//! addresses as `CLUSTER_PROXY`, `CLUSTER_PRIMARY`, `CLUSTER_REPLICA`, `CLUSTER_INSTANCE1..3`,
//! and runs them one at a time (`cargo test -- --ignored --test-threads=1 cluster::`): some stop
//! and start parts of the rig. Run them by hand the same way (docs/deploy.md).

use std::process::Command;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::helpers::PASSWORD;

/// The running rig, as `scripts/cluster.sh up` printed it.
struct Rig {
    proxy: String,
    primary: String,
    replica: String,
    instances: [String; 3],
    client: awc::Client,
}

fn address(name: &str) -> String {
    let var = format!("CLUSTER_{}", name.to_uppercase());
    std::env::var(&var).unwrap_or_else(|_| {
        panic!("{var} is not set: bring the rig up with scripts/cluster.sh up (see .ci/run)")
    })
}

impl Rig {
    fn running() -> Self {
        Rig {
            proxy: address("proxy"),
            primary: address("primary"),
            replica: address("replica"),
            instances: [
                address("instance1"),
                address("instance2"),
                address("instance3"),
            ],
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .disable_redirects()
                .finish(),
        }
    }

    /// Sends a request to `base` (the proxy or one instance); the status and the JSON body (Null
    /// when there is none), or status 0 when the request failed on the way.
    async fn call(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, format!("{base}/api/v1{path}"));
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        let sent = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        let Ok(mut res) = sent else {
            return (0, Value::Null);
        };
        let status = res.status().as_u16();
        let bytes = res.body().limit(4 << 20).await.unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(&self.proxy, Method::POST, path, token, Some(body))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(&self.proxy, Method::GET, path, Some(token), None)
            .await
    }

    /// Signs `email` in through the proxy: the token pair.
    async fn login(&self, email: &str) -> Value {
        let (status, tokens) = self
            .post(
                "/auth/login",
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    /// Registers a new member (a unique address per call) and signs in: (id, access, refresh,
    /// email).
    async fn member(&self, name: &str) -> (String, String, String, String) {
        let email = unique_email(name);
        let (status, member) = self
            .post(
                "/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": name}),
            )
            .await;
        assert_eq!(status, 201, "{member}");
        let tokens = self.login(&email).await;
        (
            member["id"].as_str().unwrap().into(),
            tokens["access_token"].as_str().unwrap().into(),
            tokens["refresh_token"].as_str().unwrap().into(),
            email,
        )
    }

    /// An admin, made on the primary as `intercede create-admin` would: (id, access token).
    async fn admin(&self, name: &str) -> (String, String) {
        let email = unique_email(name);
        crate::helpers::create_admin(&self.primary, &email, name).await;
        let tokens = self.login(&email).await;
        let (_, me) = self
            .get("/me", tokens["access_token"].as_str().unwrap())
            .await;
        (
            me["id"].as_str().unwrap().into(),
            tokens["access_token"].as_str().unwrap().into(),
        )
    }

    /// One number from SQL on the primary or the replica.
    async fn number(url: &str, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let (url, sql) = (url.to_string(), sql.to_string());
        actix_web::web::block(move || {
            let mut conn = PgConnection::establish(&url).expect("connect");
            diesel::sql_query(sql)
                .get_result::<N>(&mut conn)
                .expect("query")
                .n
        })
        .await
        .unwrap()
    }

    async fn sql(url: &str, sql: &str) {
        let (url, sql) = (url.to_string(), sql.to_string());
        actix_web::web::block(move || {
            let mut conn = PgConnection::establish(&url).expect("connect");
            diesel::connection::SimpleConnection::batch_execute(&mut conn, &sql).expect("sql");
        })
        .await
        .unwrap()
    }

    /// The reads the three instances sent to the replica and to the primary, as their `/readyz`
    /// counts them.
    async fn reads(&self) -> (u64, u64) {
        let (mut replica, mut primary) = (0, 0);
        for base in &self.instances {
            let mut res = self
                .client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap();
            replica += body["replica"]["reads_on_replica"].as_u64().unwrap();
            primary += body["replica"]["reads_on_primary"].as_u64().unwrap();
        }
        (replica, primary)
    }

    /// Waits until the replica has replayed all the primary has written.
    async fn replica_caught_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let lag = Self::number(
                &self.primary,
                "SELECT COALESCE(min(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1)::bigint AS n \
                 FROM pg_stat_replication",
            )
            .await;
            if lag == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the replica is {lag} bytes behind"
            );
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until `base` answers `/readyz` (an instance started again, the proxy routing to it).
    async fn ready(&self, base: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(res) = self.client.get(format!("{base}/readyz")).send().await {
                if res.status().is_success() {
                    return;
                }
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{base} is not ready after a minute");
    }
}

/// An address no other run of the tests on this rig has used.
fn unique_email(name: &str) -> String {
    format!(
        "{}-{}@example.org",
        name.to_lowercase(),
        uuid::Uuid::now_v7().simple()
    )
}

/// `scripts/cluster.sh <args>`, with the rig's own environment (`CLUSTER_DIR`, `CLUSTER_PORT`).
fn cluster(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh");
    let status = Command::new("bash")
        .arg(script)
        .args(args)
        .status()
        .expect("scripts/cluster.sh runs");
    assert!(status.success(), "scripts/cluster.sh {args:?} failed");
}

/// A prayer request's fields, titled `title`.
fn request(title: impl std::fmt::Display) -> Value {
    json!({"title": title.to_string(), "body": "Kept private", "category": "healing",
           "kind": "prayer", "visibility": "congregation"})
}

/// Creates a request and reads it back at once, `n` times, each read checked against the write
/// just made: title, and the prayer count after a prayer.
async fn write_then_read(rig: &Rig, token: &str, n: usize) {
    for i in 0..n {
        let title = format!("Healing for a friend, {i}");
        let (status, created) = rig
            .post("/prayer-requests", Some(token), request(&title))
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap();
        let (status, read) = rig.get(&format!("/prayer-requests/{id}"), token).await;
        assert_eq!(
            (status, read["title"].as_str()),
            (200, Some(title.as_str())),
            "{read}"
        );
        let (status, _) = rig
            .post(
                &format!("/prayer-requests/{id}/prayers"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(status, 201);
        let (_, read) = rig.get(&format!("/prayer-requests/{id}"), token).await;
        assert_eq!(read["prayer_count"], 1, "{read}");
    }
}

/// Each read right after the caller's write sees it (it goes to the primary while the replica
/// has not replayed that far); once the replica has, reads are served there.
#[actix_web::test]
#[ignore = "needs the rig: scripts/cluster.sh up (.ci/run runs these)"]
async fn reads_see_the_callers_own_writes_and_go_to_the_replica_once_it_has_them() {
    let rig = Rig::running();
    let (_, token, _, _) = rig.member("Ruth").await;
    write_then_read(&rig, &token, 20).await;
    rig.replica_caught_up().await;
    let (on_replica, on_primary) = rig.reads().await;
    for _ in 0..30 {
        let (status, page) = rig.get("/prayer-requests?mine=true", &token).await;
        assert_eq!(status, 200, "{page}");
    }
    // The proxy's health checks read too (on the replica): the primary's count must not move.
    let (replica_after, primary_after) = rig.reads().await;
    assert!(
        replica_after - on_replica >= 30,
        "{on_replica} -> {replica_after}"
    );
    assert!(
        primary_after - on_primary < 3,
        "{on_primary} -> {primary_after}"
    );
}

/// Replay paused, the replica falls behind every write: each read after a write must go to the
/// primary (a read on the replica would not find the request just created).
#[actix_web::test]
#[ignore = "needs the rig: scripts/cluster.sh up (.ci/run runs these)"]
async fn with_replication_paused_reads_still_see_the_callers_own_writes() {
    let rig = Rig::running();
    let (_, token, _, _) = rig.member("Naomi").await;
    Rig::sql(&rig.replica, "SELECT pg_wal_replay_pause()").await;
    write_then_read(&rig, &token, 10).await;
    Rig::sql(&rig.replica, "SELECT pg_wal_replay_resume()").await;
    rig.replica_caught_up().await;
}

#[actix_web::test]
#[ignore = "needs the rig: scripts/cluster.sh up (.ci/run runs these)"]
async fn with_the_replica_stopped_the_service_answers_from_the_primary() {
    let rig = Rig::running();
    let (_, token, _, _) = rig.member("Boaz").await;
    cluster(&["stop-replica"]);
    let outcome = async {
        write_then_read(&rig, &token, 10).await;
        for _ in 0..10 {
            let (status, body) = rig.get("/prayer-requests", &token).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    // The replica comes back whatever happened, for the tests after this one.
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    cluster(&["start-replica"]);
    rig.replica_caught_up().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// One instance SIGKILLed during a stream of writes through the proxy: every write that was
/// acknowledged is in the database, and only requests that instance held at that moment failed.
#[actix_web::test]
#[ignore = "needs the rig: scripts/cluster.sh up (.ci/run runs these)"]
async fn an_instance_killed_under_write_load_loses_no_acknowledged_write() {
    let rig = Rig::running();
    let (_, token, _, _) = rig.member("Deborah").await;
    const WRITERS: usize = 8;
    let stop_at = Instant::now() + Duration::from_secs(8);
    let writers = (0..WRITERS).map(|w| {
        let (rig, token) = (&rig, token.clone());
        async move {
            let (mut acknowledged, mut failed) = (Vec::new(), 0usize);
            let mut i = 0;
            while Instant::now() < stop_at {
                i += 1;
                let (status, body) = rig
                    .post(
                        "/prayer-requests",
                        Some(&token),
                        request(format!("Writer {w}, request {i}")),
                    )
                    .await;
                match status {
                    201 => acknowledged.push(body["id"].as_str().unwrap().to_string()),
                    _ => failed += 1,
                }
            }
            (acknowledged, failed)
        }
    });
    let killer = async {
        actix_web::rt::time::sleep(Duration::from_secs(2)).await;
        actix_web::web::block(|| cluster(&["kill", "2"]))
            .await
            .unwrap();
    };
    let (results, ()) = futures_util::future::join(join_all(writers), killer).await;
    let acknowledged: Vec<String> = results.iter().flat_map(|(a, _)| a.clone()).collect();
    let failed: usize = results.iter().map(|(_, f)| f).sum();
    assert!(
        acknowledged.len() > 50,
        "only {} writes",
        acknowledged.len()
    );
    assert!(
        failed <= WRITERS,
        "{failed} writes failed; at most the {WRITERS} in flight at the kill may"
    );
    let ids = acknowledged
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let stored = Rig::number(
        &rig.primary,
        &format!("SELECT count(*) AS n FROM prayer_requests WHERE id IN ({ids})"),
    )
    .await;
    assert_eq!(
        stored,
        acknowledged.len() as i64,
        "acknowledged writes lost"
    );
    actix_web::web::block(|| cluster(&["start", "2"]))
        .await
        .unwrap();
    rig.ready(&rig.instances[1]).await;
}

/// The primary restarted under the instances (pgbouncer's server connections cut): each instance
/// answers again within seconds, without being restarted.
#[actix_web::test]
#[ignore = "needs the rig: scripts/cluster.sh up (.ci/run runs these)"]
async fn after_the_primary_restarts_every_instance_recovers_by_itself() {
    let rig = Rig::running();
    let (_, token, _, _) = rig.member("Hannah").await;
    actix_web::web::block(|| cluster(&["restart-primary"]))
        .await
        .unwrap();
    for base in &rig.instances {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = rig
                .call(
                    base,
                    Method::POST,
                    "/prayer-requests",
                    Some(&token),
                    Some(request("After the restart")),
                )
                .await;
            if status == 201 {
                break;
            }
            assert!(
                status == 503 || status == 0,
                "{base} answered {status} after the restart: {body}"
            );
            assert!(Instant::now() < deadline, "{base} did not recover");
            actix_web::rt::time::sleep(Duration::from_millis(250)).await;
        }
        let (status, _) = rig.call(base, Method::GET, "/me", Some(&token), None).await;
        assert_eq!(status, 200, "{base}");
    }
    rig.replica_caught_up().await;
}

/// The promises that hold on one instance hold across three behind the proxy: a watch slot's cap
/// under 50 simultaneous signups, exact prayer counts, one refresh token used on two instances at
/// once, the last admin.
#[actix_web::test]
#[ignore = "needs the rig: scripts/cluster.sh up (.ci/run runs these)"]
async fn caps_counts_tokens_and_the_last_admin_hold_across_instances() {
    let rig = Rig::running();
    let (admin_id, admin) = rig.admin("Miriam").await;

    // A watch slot with room for 3: 50 members at once, spread over the instances by the proxy.
    let starts_on = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let (status, watch) = rig
        .post(
            "/watches",
            Some(&admin),
            json!({"name": "Night watch", "timezone": "Europe/London", "starts_on": starts_on,
                   "slot_minutes": 60, "min_per_slot": 1, "max_per_slot": 3}),
        )
        .await;
    assert_eq!(status, 201, "{watch}");
    let watch = watch["id"].as_str().unwrap().to_string();
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let slot = format!("{tomorrow}T03:00:00Z");
    let people =
        join_all((0..50).map(|i| rig.member(if i % 2 == 0 { "Eli" } else { "Anna" }))).await;
    let signup_path = format!("/watches/{watch}/signups");
    let signups =
        join_all(people.iter().map(|(_, token, _, _)| {
            rig.post(&signup_path, Some(token), json!({"slot_start": slot}))
        }))
        .await;
    let statuses: Vec<u16> = signups.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        47,
        "{statuses:?}"
    );

    // Every one of 50 members prays once at the same moment: the count is exactly 50.
    let (status, request) = rig
        .post("/prayer-requests", Some(&admin), request("Revival"))
        .await;
    assert_eq!(status, 201, "{request}");
    let id = request["id"].as_str().unwrap();
    let prayer_path = format!("/prayer-requests/{id}/prayers");
    let prayed = join_all(
        people
            .iter()
            .map(|(_, token, _, _)| rig.post(&prayer_path, Some(token), json!({}))),
    )
    .await;
    assert!(prayed.iter().all(|(s, _)| *s == 201));
    let (_, read) = rig.get(&format!("/prayer-requests/{id}"), &admin).await;
    assert_eq!(read["prayer_count"], 50, "{read}");

    // One refresh token presented to two instances at once: at most one new pair, and the
    // family is revoked once the reuse is seen.
    let (_, _, refresh, _) = &people[0];
    let tries = join_all(rig.instances[..2].iter().map(|base| {
        rig.call(
            base,
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
    }))
    .await;
    let winners: Vec<&Value> = tries
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert!(winners.len() <= 1, "{tries:?}");
    assert!(
        tries.iter().all(|(s, _)| *s == 200 || *s == 401),
        "{tries:?}"
    );
    if let Some(pair) = winners.first() {
        let (status, _) = rig
            .post(
                "/auth/refresh",
                None,
                json!({"refresh_token": pair["refresh_token"]}),
            )
            .await;
        assert_eq!(status, 401, "the family survived the reuse");
    }

    // Two admins demote each other at once on two instances: one admin is left.
    let (other_id, _, _, other_email) = &people[1];
    let (status, _) = rig
        .call(
            &rig.proxy,
            Method::PATCH,
            &format!("/members/{other_id}"),
            Some(&admin),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, 200);
    let other = rig.login(other_email).await;
    let other_token = other["access_token"].as_str().unwrap().to_string();
    // Only these two are admins now (the rig may hold others from earlier runs).
    Rig::sql(
        &rig.primary,
        &format!("UPDATE members SET role = 'member' WHERE role = 'admin' AND id NOT IN ('{admin_id}', '{other_id}')"),
    )
    .await;
    let demotions = futures_util::future::join(
        rig.call(
            &rig.instances[0],
            Method::PATCH,
            &format!("/members/{other_id}"),
            Some(&admin),
            Some(json!({"role": "member"})),
        ),
        rig.call(
            &rig.instances[2],
            Method::PATCH,
            &format!("/members/{admin_id}"),
            Some(&other_token),
            Some(json!({"role": "member"})),
        ),
    )
    .await;
    let admins = Rig::number(
        &rig.primary,
        "SELECT count(*) AS n FROM members WHERE role = 'admin' AND active",
    )
    .await;
    assert_eq!(admins, 1, "{demotions:?}");
    let refused = [&demotions.0, &demotions.1]
        .iter()
        .filter(|(s, _)| *s != 200)
        .count();
    assert_eq!(refused, 1, "{demotions:?}");
}
