//! The connection enum that gives SQLite and PostgreSQL one diesel code path, and the r2d2
//! manager that picks the backend from the URL scheme.
//!
//! The derive's own `establish` tries each backend in turn and reports only the last failure, which
//! hides the real reason a PostgreSQL URL did not connect; choosing by scheme keeps the error exact.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{Error as PoolError, ManageConnection};
use diesel::{PgConnection, SqliteConnection};

use crate::error::AppError;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path, or `:memory:`.
    Sqlite(String),
    /// A full `postgres://` URL, passed to libpq as it is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("DATABASE_URL names no SQLite file".into());
        }
        if let Some((scheme, _)) = url.split_once("://") {
            if scheme != "sqlite" {
                return Err(format!(
                    "DATABASE_URL scheme `{scheme}` is not supported (use sqlite:// or postgres://)"
                ));
            }
        }
        Ok(DatabaseUrl::Sqlite(path.to_string()))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password replaced, for log lines and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Pragmas every SQLite connection needs: WAL lets readers run beside the writer, foreign keys
/// are off by default in SQLite, and the busy timeout turns lock contention into a short wait.
/// The timeout comes first: setting the journal mode reads the database header, and a connection
/// opened while another writes (the pool filling up during `intercede seed`) failed there at once
/// with "database is locked", which the pool logged as an error before trying again.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;";

#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// Whether PostgreSQL connections keep named prepared statements (diesel's statement cache).
    /// Off behind pgbouncer in transaction mode before 1.21: a statement prepared on one server
    /// connection is not on the next, so each query then goes as one `PQsendQueryParams`.
    prepared_statements: bool,
    /// Connections born before this generation are suspect (see [`Pooled::lost`]).
    generation: Arc<AtomicU64>,
    /// SQLite: `PRAGMA mmap_size` of every connection, 0 for none (`SQLITE_MMAP_MIB`).
    sqlite_mmap_bytes: u64,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self::with_prepared_statements(url, true)
    }

    pub fn with_prepared_statements(url: DatabaseUrl, prepared_statements: bool) -> Self {
        Self {
            url,
            prepared_statements,
            generation: Arc::new(AtomicU64::new(0)),
            sqlite_mmap_bytes: 0,
        }
    }

    /// SQLite connections that read up to `bytes` of the file through a memory map.
    pub fn with_sqlite_mmap(self, bytes: u64) -> Self {
        Self {
            sqlite_mmap_bytes: bytes,
            ..self
        }
    }

    pub fn establish(&self) -> Result<DbConnection, PoolError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                // No session settings here: behind pgbouncer they would outlive this client on a
                // shared server connection. JIT is turned off for the database by a migration.
                let mut conn = PgConnection::establish(url).map_err(PoolError::ConnectionError)?;
                if !self.prepared_statements {
                    conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
                }
                Ok(DbConnection::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(PoolError::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(PoolError::QueryError)?;
                if self.sqlite_mmap_bytes > 0 {
                    conn.batch_execute(&format!("PRAGMA mmap_size = {};", self.sqlite_mmap_bytes))
                        .map_err(PoolError::QueryError)?;
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// A pooled connection: when work on it last succeeded, and the generation it belongs to.
///
/// A connection the server dropped (a restart, a failover, an idle timeout) must not fail a
/// request, and testing each one before handing it out would be a round trip per request. So:
/// - a connection whose last work succeeded within [`RECENTLY`] is handed out untested (under
///   load, every checkout: a list page is three statements, no probe);
/// - one idle for longer is tested with `SELECT 1` first, and replaced if that fails (after a
///   quiet spell, a restart costs no request);
/// - a statement that finds its connection cut answers 503, the connection is dropped instead of
///   going back to the pool, and every connection made before it is replaced at its next
///   checkout, untested (a restart cut them all): a restart under load costs each instance the
///   requests using its connections at that moment, not one request per pooled connection.
pub struct Pooled {
    conn: DbConnection,
    last_ok: Instant,
    born: u64,
    generation: Arc<AtomicU64>,
    lost: bool,
}

/// How long a success vouches for a connection.
const RECENTLY: Duration = Duration::from_secs(1);

impl Pooled {
    /// Records how work on this connection ended: a success vouches for it for [`RECENTLY`]; a
    /// lost connection is dropped and retires every connection made before it.
    pub fn finished<T>(&mut self, result: &Result<T, AppError>) {
        match result {
            Ok(_) => self.succeeded(),
            Err(AppError::ConnectionLost) => self.lost(),
            Err(_) => {}
        }
    }

    /// Records that work on this connection just succeeded.
    pub fn succeeded(&mut self) {
        self.last_ok = Instant::now();
    }

    /// Marks this connection as cut by the server (see [`Pooled`]).
    pub fn lost(&mut self) {
        self.lost = true;
        self.generation.fetch_max(self.born + 1, Ordering::Relaxed);
    }

    fn retired(&self) -> bool {
        self.lost || self.born < self.generation.load(Ordering::Relaxed)
    }
}

impl Deref for Pooled {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = PoolError;

    fn connect(&self) -> Result<Pooled, PoolError> {
        let born = self.generation.load(Ordering::Relaxed);
        Ok(Pooled {
            conn: self.establish()?,
            last_ok: Instant::now(),
            born,
            generation: self.generation.clone(),
            lost: false,
        })
    }

    /// Retired connections are replaced; recently good ones pass untested; others are probed.
    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), PoolError> {
        if pooled.retired() {
            return Err(PoolError::QueryError(
                diesel::result::Error::BrokenTransactionManager,
            ));
        }
        if pooled.last_ok.elapsed() < RECENTLY {
            return Ok(());
        }
        pooled
            .conn
            .batch_execute("SELECT 1")
            .map_err(PoolError::QueryError)?;
        pooled.succeeded();
        Ok(())
    }

    /// A connection the server cut, or one left inside a transaction (its work panicked half-way,
    /// and it would hand its open transaction to the next request), is dropped.
    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        type Manager = <DbConnection as Connection>::TransactionManager;
        pooled.lost
            || <Manager as TransactionManager<DbConnection>>::is_broken_transaction_manager(
                &mut pooled.conn,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_their_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://intercede.db").unwrap(),
            DatabaseUrl::Sqlite("intercede.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    /// A connection handed back mid-transaction (its work panicked) must not serve the next
    /// request with that transaction still open.
    #[test]
    fn a_connection_left_in_a_transaction_is_broken() {
        type Manager = <DbConnection as Connection>::TransactionManager;
        let manager = ConnectionManager::new(DatabaseUrl::Sqlite(":memory:".into()));
        let mut pooled = manager.connect().unwrap();
        assert!(!manager.has_broken(&mut pooled));
        Manager::begin_transaction(&mut pooled.conn).unwrap();
        assert!(manager.has_broken(&mut pooled));
        Manager::commit_transaction(&mut pooled.conn).unwrap();
        assert!(!manager.has_broken(&mut pooled));
    }

    /// One connection found cut condemns those made before it (a restart cut them all), not
    /// those made after.
    #[test]
    fn a_lost_connection_retires_its_elders() {
        let manager = ConnectionManager::new(DatabaseUrl::Sqlite(":memory:".into()));
        let mut old = manager.connect().unwrap();
        let mut cut = manager.connect().unwrap();
        assert!(manager.is_valid(&mut old).is_ok());
        cut.lost();
        assert!(manager.has_broken(&mut cut));
        assert!(manager.is_valid(&mut old).is_err());
        let mut fresh = manager.connect().unwrap();
        assert!(manager.is_valid(&mut fresh).is_ok());
        assert!(!manager.has_broken(&mut fresh));
        // A second elder found cut later does not condemn the fresh one.
        old.lost();
        assert!(manager.is_valid(&mut fresh).is_ok());
    }

    #[test]
    fn passwords_never_reach_messages() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db:5432/x").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/x");
    }
}
