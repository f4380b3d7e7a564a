//! Database access: the connection enum, the pool, migrations, and the two ways handlers reach the
//! database, `read` (the blocking pool) and `write` (the blocking pool on PostgreSQL, the writer
//! thread on SQLite); neither runs on an actix worker, because diesel blocks.

mod connection;
mod id_list;
mod migrations;
mod replica;
pub mod schema;
mod sqlite_writer;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use diesel::Connection;

pub use connection::{Backend, ConnectionManager, DatabaseUrl, DbConnection, MultiBackend, Pooled};
pub use id_list::{in_ids, InIds};
pub use migrations::run_migrations;
use replica::Replica;
pub use replica::ReplicaStats;
use sqlite_writer::SqliteWriter;

use crate::error::AppError;

pub type Pool = r2d2::Pool<ConnectionManager>;
pub(crate) type PooledConn = r2d2::PooledConnection<ConnectionManager>;

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("migrations failed on {url}: {reason}")]
    Migrate { url: String, reason: String },
}

/// Where the databases are and how to reach them.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `DATABASE_URL`: every write and, without a replica, every read (pgbouncer's address in a
    /// pooled deployment).
    pub url: String,
    /// `DATABASE_MIGRATION_URL`: where migrations run, when not at `url` (the primary itself,
    /// when `url` is pgbouncer's).
    pub migration_url: Option<String>,
    /// `DATABASE_REPLICA_URL`: a PostgreSQL streaming replica for reads (see [`replica`]).
    pub replica_url: Option<String>,
    /// `DATABASE_PREPARED_STATEMENTS`: `false` behind pgbouncer in transaction mode.
    pub prepared_statements: bool,
    /// `DATABASE_POOL_SIZE`: the pool's connections (and the replica pool's); `None`:
    /// [`postgres_pool_default`] on PostgreSQL, 8 on SQLite.
    pub pool_size: Option<u32>,
    /// `SQLITE_MMAP_MIB`: each SQLite connection maps up to this much of the file (`PRAGMA
    /// mmap_size`) and reads pages in place instead of copying them into its own page cache.
    /// Off by default: on a church's database of tens of thousands of requests it measured within
    /// the noise, while the mapped pages count in the process's RSS (they are the kernel's page
    /// cache, shared and reclaimable, which `read()` fills just the same). On a large file it pays:
    /// docs/benchmarks.md, "#17 at a million requests on SQLite".
    pub sqlite_mmap_mib: u32,
}

impl DbSettings {
    /// One database at `url`, nothing else.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            migration_url: None,
            replica_url: None,
            prepared_statements: true,
            pool_size: None,
            sqlite_mmap_mib: 0,
        }
    }
}

/// Connections to PostgreSQL when `DATABASE_POOL_SIZE` is unset: twice this machine's cores and
/// one, the PostgreSQL wiki's starting point (cores × 2 + effective spindles). More connections
/// than the server has cores to run them only take turns inside it: on a 2-core machine with
/// PostgreSQL on the same cores, 5 connections instead of 16 served 5-14% more of most endpoints
/// and halved their p99 (docs/benchmarks.md, "Pool size"). The default reads this machine's
/// cores because the one-machine deployment is the one that runs without configuration; an
/// instance whose database has cores of its own sizes the pool for those (docs/deploy.md).
pub fn postgres_pool_default() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(2 * cores + 1).unwrap_or(u32::MAX)
}

/// The shared handle to the database: a pool, and for SQLite the in-process writer lock.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Where reads go when they may ([`replica`]); `None` without `DATABASE_REPLICA_URL`.
    replica: Option<Replica>,
    backend: Backend,
    /// SQLite allows one writer at a time: its writes queue for the writer thread, which runs
    /// them in batches (see [`SqliteWriter`]). PostgreSQL uses row locks instead.
    sqlite_writer: Option<SqliteWriter>,
    max_connections: usize,
    /// Set on the handle background work uses ([`Db::lane`]): its calls take turns through these
    /// permits before they reach the pool.
    lane: Option<Arc<tokio::sync::Semaphore>>,
}

impl Db {
    /// Connects, applies pending migrations and builds the pool. Fails fast with the real reason
    /// when the database cannot be reached, instead of letting the pool retry for half a minute.
    pub fn connect(database_url: &str) -> Result<Self, DbSetupError> {
        Self::open(&DbSettings::new(database_url))
    }

    /// [`Db::connect`] with everything [`DbSettings`] says: migrations at their own URL, reads on
    /// a replica, prepared statements off.
    pub fn open(settings: &DbSettings) -> Result<Self, DbSetupError> {
        let url = DatabaseUrl::parse(&settings.url).map_err(DbSetupError::Url)?;
        let backend = url.backend();
        let manager =
            ConnectionManager::with_prepared_statements(url.clone(), settings.prepared_statements)
                .with_sqlite_mmap(u64::from(settings.sqlite_mmap_mib) << 20);
        let migration_url = match &settings.migration_url {
            Some(m) => {
                let m = DatabaseUrl::parse(m).map_err(DbSetupError::Url)?;
                if m.backend() != backend {
                    return Err(DbSetupError::Url(
                        "DATABASE_MIGRATION_URL must name the same kind of database as DATABASE_URL"
                            .into(),
                    ));
                }
                m
            }
            None => url.clone(),
        };
        // With the pool's statement setting: when no migration URL is given, this is pgbouncer too.
        let mut first = ConnectionManager::with_prepared_statements(
            migration_url.clone(),
            settings.prepared_statements,
        )
        .establish()
        .map_err(|e| DbSetupError::Connect {
            url: migration_url.redacted(),
            reason: one_line(&e.to_string()),
        })?;
        run_migrations(&mut first).map_err(|e| DbSetupError::Migrate {
            url: migration_url.redacted(),
            reason: one_line(&e.to_string()),
        })?;
        drop(first);
        let replica = match &settings.replica_url {
            None => None,
            Some(r) => {
                let r = DatabaseUrl::parse(r).map_err(DbSetupError::Url)?;
                if r.backend() != Backend::Postgres || backend != Backend::Postgres {
                    return Err(DbSetupError::Url(
                        "DATABASE_REPLICA_URL is a PostgreSQL streaming replica of a PostgreSQL DATABASE_URL"
                            .into(),
                    ));
                }
                // Not tested at start: a replica that is down must not keep the service down.
                let pool = r2d2::Pool::builder()
                    .max_size(settings.pool_size.unwrap_or_else(postgres_pool_default))
                    .test_on_check_out(true)
                    .min_idle(Some(1))
                    // A replica that cannot be reached costs a read this long before it rests.
                    .connection_timeout(Duration::from_secs(2))
                    .build_unchecked(ConnectionManager::new(r));
                Some(Replica::new(pool))
            }
        };

        let max_size = match (&url, backend) {
            // One connection is one in-memory database.
            (DatabaseUrl::Sqlite(path), _) if path == ":memory:" => 1,
            (_, Backend::Sqlite) => settings.pool_size.unwrap_or(8),
            (_, Backend::Postgres) => settings.pool_size.unwrap_or_else(postgres_pool_default),
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            // A SQLite file does not drop connections; testing each one on checkout cost a query
            // per request. A PostgreSQL connection can be cut by a restart, so it is tested.
            .test_on_check_out(backend == Backend::Postgres)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build_unchecked(manager);
        let sqlite_writer = (backend == Backend::Sqlite).then(|| SqliteWriter::start(pool.clone()));
        Ok(Db {
            replica,
            sqlite_writer,
            pool,
            backend,
            max_connections: max_size as usize,
            lane: None,
        })
    }

    /// How reads went between the replica and the primary; `None` without a replica.
    pub fn replica_stats(&self) -> Option<ReplicaStats> {
        self.replica.as_ref().map(Replica::stats)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` on a pooled connection, for reading only (changes go through [`Db::write`], which
    /// queues SQLite's writers): on SQLite `f` runs in one read transaction, where a write could
    /// fail with `SQLITE_BUSY_SNAPSHOT`.
    ///
    /// Always on the blocking pool, never on the actix worker: a slow read (a year's coverage, an
    /// export) would otherwise stall every connection that worker serves. (Running SQLite reads
    /// on the worker was tried and measured: docs/benchmarks.md, #17.)
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = self.turn().await?;
        let pool = self.pool.clone();
        let backend = self.backend;
        let replica = self.replica.clone();
        web::block(move || {
            if let Some(replica) = replica {
                if let Some(conn) = replica.route(&pool)? {
                    return read_on(conn, backend, f);
                }
            }
            let primary = pool.get()?;
            read_on(primary, backend, f)
        })
        .await?
    }

    /// Runs `f` inside a transaction, committed when it returns `Ok`, rolled back otherwise;
    /// the result comes back only once the change is committed. On SQLite `f` runs on the
    /// writer thread, in a savepoint of a transaction it may share with other writes queued at
    /// the same moment (see [`SqliteWriter`]); `f` then sees the changes of the writes before it,
    /// as it would have seen them committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = self.turn().await?;
        if let Some(writer) = &self.sqlite_writer {
            return writer.write(f).await;
        }
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            let result = conn.transaction(|c| f(c));
            conn.finished(&result);
            result
        })
        .await?
    }

    /// How many connections the pool holds: the server gives its workers no more blocking threads
    /// than that in all, so blocking threads do not queue for connections among themselves. On
    /// SQLite the writer thread holds one too, briefly; a blocking read then waits for one (at
    /// most the pool's 10 s timeout, then 503).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The same database for background work (the delivery worker, the periodic tasks): its
    /// calls go `width` at a time at most, queued in order, however many deliveries it has in
    /// flight. The HTTP workers' blocking threads take `width` fewer than the pool's connections
    /// ([`Db::max_connections`]), so background work never waits for a connection a reader
    /// holds, nor holds one a reader waits for.
    pub fn lane(&self, width: usize) -> Db {
        Db {
            lane: Some(Arc::new(tokio::sync::Semaphore::new(width.max(1)))),
            ..self.clone()
        }
    }

    /// This handle's turn, when it is a [`Db::lane`]; held until the call returns.
    async fn turn(&self) -> Result<Option<tokio::sync::SemaphorePermit<'_>>, AppError> {
        match &self.lane {
            None => Ok(None),
            Some(lane) => lane
                .acquire()
                .await
                .map(Some)
                .map_err(|_| AppError::bug("a database lane was closed")),
        }
    }

    /// A connection for command-line tools that run outside the actix runtime.
    pub fn blocking_conn(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, AppError> {
        Ok(self.pool.get()?)
    }
}

/// Runs a read on `conn` (see [`Db::read`]). A panic in `f` becomes a 500 instead of taking the
/// worker down; the connection it left mid-transaction is then discarded by the pool (see
/// `ConnectionManager::has_broken`).
fn read_on<T, F>(mut conn: PooledConn, backend: Backend, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, AppError>,
{
    let run = std::panic::AssertUnwindSafe(|| match backend {
        // One read transaction for all the handler's statements: one snapshot, and SQLite takes
        // and releases its read locks once instead of once per statement.
        Backend::Sqlite => conn.transaction(|c| f(c)),
        // On PostgreSQL, BEGIN and COMMIT would each be a round trip to the server.
        Backend::Postgres => f(&mut conn),
    });
    let result =
        std::panic::catch_unwind(run).map_err(|_| AppError::bug("a database read panicked"))?;
    conn.finished(&result);
    result
}

/// libpq's messages span lines; start-up errors must stay on one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// For unit tests that check a statement's shape: a fresh, migrated in-memory SQLite database.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::{Arc, Mutex};

    use diesel::connection::InstrumentationEvent;
    use diesel::Connection;

    use super::{run_migrations, DbConnection};

    /// A fresh directory for a test's SQLite files (for a pool of several connections, which
    /// `:memory:` cannot be); the test removes it when done.
    pub fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("intercede-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub fn fresh() -> DbConnection {
        let mut conn = DbConnection::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        );
        run_migrations(&mut conn).expect("migrations");
        conn
    }

    /// The SQL text of each statement `f` runs on a fresh database, without the bound values
    /// (diesel prints them after `-- binds:`).
    pub fn statements_of(f: impl FnOnce(&mut DbConnection)) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut conn = fresh();
        let log = seen.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                let text = query.to_string();
                let sql = text.split(" -- binds:").next().unwrap_or_default();
                log.lock().unwrap().push(sql.to_string());
            }
        });
        f(&mut conn);
        let statements = seen.lock().unwrap().clone();
        statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most calls of `db` seen inside the database at once, of `calls` started together.
    async fn most_at_once(db: &Db, calls: usize) -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let reads = (0..calls).map(|_| {
            let (inside, most) = (inside.clone(), most.clone());
            db.read(move |_| {
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(40));
                inside.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
        });
        for result in futures_util::future::join_all(reads).await {
            result.unwrap();
        }
        most.load(Ordering::SeqCst)
    }

    /// `SQLITE_MMAP_MIB` reaches every connection of the pool; unset, none maps the file.
    #[actix_web::test]
    async fn sqlite_connections_map_the_file_as_configured() {
        use diesel::sql_types::BigInt;
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Size {
            #[diesel(sql_type = BigInt)]
            mmap_size: i64,
        }
        let dir = testing::temp_dir("mmap");
        for (mib, expected) in [(0, 0), (16, 16 << 20)] {
            let path = dir
                .join(format!("mmap-{mib}.db"))
                .to_string_lossy()
                .to_string();
            let db = Db::open(&DbSettings {
                sqlite_mmap_mib: mib,
                ..DbSettings::new(format!("sqlite://{path}"))
            })
            .unwrap();
            let sizes = futures_util::future::join_all((0..3).map(|_| {
                db.read(|conn| {
                    let size: Size = diesel::sql_query("PRAGMA mmap_size").get_result(conn)?;
                    std::thread::sleep(Duration::from_millis(20));
                    Ok(size.mmap_size)
                })
            }))
            .await;
            for size in sizes {
                assert_eq!(size.unwrap(), expected, "SQLITE_MMAP_MIB={mib}");
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Background work's lane lets `width` of its calls reach the pool at once, however many it
    /// starts; the handle it was made from is not held back by it.
    #[actix_web::test]
    async fn a_lane_lets_its_width_of_calls_through_at_once() {
        let dir = testing::temp_dir("lane");
        let path = dir.join("lane.db").to_string_lossy().to_string();
        let db = Db::connect(&format!("sqlite://{path}")).unwrap();
        assert!(
            most_at_once(&db, 6).await > 2,
            "the pool itself runs calls side by side"
        );
        assert_eq!(most_at_once(&db.lane(1), 6).await, 1);
        assert_eq!(most_at_once(&db.lane(2), 6).await, 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// vendor/diesel reads SQLite timestamps in diesel's own stored form by hand (vendor/README.md):
    /// every length of fraction must read as chrono reads it, and every other form diesel took
    /// before must still read, through the formats it falls back to.
    #[test]
    fn sqlite_timestamps_read_as_chrono_reads_them() {
        use chrono::NaiveDateTime;
        use diesel::sql_types::{Nullable, Timestamp};
        use diesel::{Connection, RunQueryDsl, SqliteConnection};

        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let mut read = |text: &str| {
            diesel::select(diesel::dsl::sql::<Nullable<Timestamp>>(&format!(
                "'{text}'"
            )))
            .get_result::<Option<NaiveDateTime>>(&mut conn)
        };
        let chrono =
            |text: &str, format: &str| NaiveDateTime::parse_from_str(text, format).unwrap();
        let mut stored = String::from("2026-03-29 01:59:59");
        assert_eq!(read(&stored).unwrap(), Some(chrono(&stored, "%F %T")));
        stored.push('.');
        for digit in "123456789".chars() {
            stored.push(digit);
            assert_eq!(
                read(&stored).unwrap(),
                Some(chrono(&stored, "%F %T%.f")),
                "{stored}"
            );
        }
        for (other, format) in [
            ("2026-12-03T06:15:34", "%FT%T"),
            ("2026-12-03 06:15", "%F %R"),
            ("2026-12-03 06:15:34.0000000001", "%F %T%.f"),
            ("2024-02-29 23:59:60", "%F %T"),
            ("2026-12-03 06:15:34.5Z", "%F %T%.fZ"),
        ] {
            assert_eq!(read(other).unwrap(), Some(chrono(other, format)), "{other}");
        }
        for wrong in [
            "2026-02-30 10:00:00",
            "2026-12-03 24:00:00",
            "2026-12-03 06:15:3x",
            "2026-12-03 06:15:34.",
        ] {
            assert!(read(wrong).is_err(), "{wrong} was read");
        }
    }

    /// A replica, or a migration URL of another kind, is a configuration mistake said at start.
    #[test]
    fn settings_that_cannot_work_stop_start_up_with_the_reason() {
        let mut settings = DbSettings::new("sqlite://:memory:");
        settings.replica_url = Some("postgres://u@127.0.0.1:1/x".into());
        let err = Db::open(&settings).err().expect("refused").to_string();
        assert!(err.contains("DATABASE_REPLICA_URL"), "{err}");
        let mut settings = DbSettings::new("sqlite://:memory:");
        settings.migration_url = Some("postgres://u@127.0.0.1:1/x".into());
        let err = Db::open(&settings).err().expect("refused").to_string();
        assert!(err.contains("DATABASE_MIGRATION_URL"), "{err}");
    }
}
