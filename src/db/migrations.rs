//! Migrations, one folder per backend (their SQL differs in types and defaults), embedded in the
//! binary and applied at start-up and by `intercede migrate`.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration; returns how many ran.
pub fn run_migrations(
    conn: &mut DbConnection,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?.len(),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES)?.len(),
    };
    Ok(applied)
}
