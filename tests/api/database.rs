//! The service and its database connections.

use futures_util::future::join_all;

use crate::helpers::{is_postgres, run_sql, spawn_app};

/// PostgreSQL cuts every connection (a restart, a failover; here `pg_terminate_backend`): the
/// pool tests nothing on checkout, so the first statement on a cut connection fails, that request
/// answers 503, and every connection made before it is replaced, so the requests after it are
/// served again without restarting the service. Never a 500, never more than one 503 for the
/// one cut. On SQLite nothing cuts a file's connections; the requests must simply all succeed.
#[actix_web::test]
async fn connections_the_database_cut_are_replaced_without_restarting_the_service() {
    let app = spawn_app().await;
    let member = app.member("Mia").await;
    // Several requests at once, so the pool holds several connections.
    let warm = join_all((0..8).map(|_| app.get("/me", Some(&member.token)))).await;
    assert!(warm.iter().all(|r| r.status == 200));
    if is_postgres() {
        run_sql(
            &app.config.database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
        // The terminated backends are gone once pg_stat_activity no longer lists them.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut unavailable = 0;
    for i in 0..20 {
        let res = app.get("/me", Some(&member.token)).await;
        match res.status {
            200 => assert_eq!(res.json()["display_name"], "Mia"),
            503 => {
                assert_eq!(res.json()["status"], 503);
                unavailable += 1;
                assert!(i == 0, "a 503 after the first request: request {i}");
            }
            other => panic!("request {i} answered {other}: {}", res.text()),
        }
    }
    assert!(unavailable <= 1, "{unavailable} requests failed");
    // Writes too run on fresh connections.
    app.create_request(&member.token, serde_json::json!({}))
        .await;
}

/// Instances started at once on a new database (three behind a load balancer, after a deploy)
/// each apply the migrations: one after the other, the later ones finding nothing left, never two
/// racing to create the same table. On PostgreSQL JIT is then off for the database, so for every
/// new session, rather than set per session (a session `SET` would leak through pgbouncer).
#[actix_web::test]
async fn instances_starting_at_once_on_a_new_database_all_start() {
    let (_db, url) = crate::helpers::TestDb::create();
    let starts = (0..6).map(|_| {
        let url = url.clone();
        actix_web::web::block(move || {
            let mut settings = intercede::db::DbSettings::new(&url);
            settings.prepared_statements = crate::helpers::prepared_statements();
            intercede::db::Db::open(&settings)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    });
    for started in join_all(starts).await {
        started.unwrap().expect("every instance starts");
    }
    if is_postgres() {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            jit: String,
        }
        // The database's own setting, which every new session takes (a session read here could
        // be one pgbouncer opened before the migration ran).
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        let Setting { jit } = diesel::sql_query(
            "SELECT array_to_string(setconfig, ',') AS jit FROM pg_db_role_setting \
             WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(jit, "jit=off");
    }
}
