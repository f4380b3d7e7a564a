//! Migrations, one folder per backend (their SQL differs in types and defaults), embedded in the
//! binary and applied at start-up and by `intercede migrate`.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any number of the service's advisory locks would do; this one is "intercede" in ASCII.
const MIGRATION_LOCK: i64 = 0x696e_7465_7263_6564;

type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns how many ran.
///
/// On PostgreSQL all of them run in one transaction that first takes a transaction-scoped advisory
/// lock: instances started at once on a new database migrate one after the other (the second finds
/// nothing left to do) instead of racing to create the same tables, and the lock ends with the
/// transaction, so it holds even through pgbouncer in transaction mode. On SQLite an immediate
/// transaction takes the writer lock first, to the same end (the others wait in the busy timeout).
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, MigrationError> {
    use diesel::connection::Connection;
    use diesel::RunQueryDsl;
    let applied = match conn {
        DbConnection::Sqlite(c) => {
            c.immediate_transaction(|c| -> Result<usize, MigrationError> {
                Ok(c.run_pending_migrations(SQLITE)?.len())
            })?
        }
        DbConnection::Postgresql(c) => c.transaction(|c| -> Result<usize, MigrationError> {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .execute(c)?;
            Ok(c.run_pending_migrations(POSTGRES)?.len())
        })?,
    };
    Ok(applied)
}
