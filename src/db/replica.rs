//! Reads on a PostgreSQL streaming replica (`DATABASE_REPLICA_URL`), never staler than the primary
//! was when the read began.
//!
//! Before a read, the primary's WAL position is asked for (`pg_current_wal_lsn()`, no table is
//! touched), and the replica serves the read only if it has replayed at least that far. Whatever was
//! committed before the request began (the caller's own writes above all, acknowledged only after
//! their commit) is then on the replica, so read-your-writes holds with no per-caller state to
//! carry between instances: GitLab's WAL-position check, asked of the primary at read time instead
//! of remembered in a session. A replica that lags, or cannot be reached, sends the read to the
//! primary; one that cannot be reached is left alone for [`REST`] before it is tried again, so an
//! outage costs one slow read per instance per rest, not one per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::{DbConnection, Pool, PooledConn};
use crate::error::AppError;

/// How long a replica that failed is not tried.
const REST: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Replica {
    pool: Pool,
    /// Reads sent to the replica and to the primary since start (`/readyz` shows them).
    on_replica: Arc<AtomicU64>,
    on_primary: Arc<AtomicU64>,
    /// When the replica failed last, in milliseconds since `epoch`; 0 for never.
    failed_at_ms: Arc<AtomicU64>,
    epoch: Instant,
}

impl Replica {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            on_replica: Arc::new(AtomicU64::new(0)),
            on_primary: Arc::new(AtomicU64::new(0)),
            failed_at_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    fn resting(&self) -> bool {
        let failed = self.failed_at_ms.load(Ordering::Relaxed);
        failed != 0 && self.epoch.elapsed().as_millis() < u128::from(failed) + REST.as_millis()
    }

    /// Rests the replica (a read only asks it when it is not resting, so this warns once a rest).
    fn failed(&self, why: &dyn std::fmt::Display) {
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.failed_at_ms.store(now, Ordering::Relaxed);
        tracing::warn!(error = %why, "the replica failed; reads go to the primary for {} s", REST.as_secs());
    }

    /// How this instance's reads went: on the replica, on the primary, and whether the replica is
    /// resting after a failure.
    pub fn stats(&self) -> ReplicaStats {
        ReplicaStats {
            reads_on_replica: self.on_replica.load(Ordering::Relaxed),
            reads_on_primary: self.on_primary.load(Ordering::Relaxed),
            resting: self.resting(),
        }
    }

    /// Where a read that begins now goes, asking `primary` for its WAL position: a replica
    /// connection when the replica has everything the primary had, `None` for the primary.
    pub fn route(&self, primary: &mut DbConnection) -> Result<Option<PooledConn>, AppError> {
        let route = self.choose(primary);
        let counter = match &route {
            Ok(Some(_)) => &self.on_replica,
            _ => &self.on_primary,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        route
    }

    fn choose(&self, primary: &mut DbConnection) -> Result<Option<PooledConn>, AppError> {
        if self.resting() {
            return Ok(None);
        }
        #[derive(QueryableByName)]
        struct Lsn {
            #[diesel(sql_type = Text)]
            lsn: String,
        }
        let Lsn { lsn } =
            diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result(primary)?;
        let mut conn = match self.pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                self.failed(&e);
                return Ok(None);
            }
        };
        #[derive(QueryableByName)]
        struct Caught {
            #[diesel(sql_type = Bool)]
            up: bool,
        }
        // NULL on a server that is not in recovery: not a replica, so not to be read from.
        let caught = diesel::sql_query(
            "SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS up",
        )
        .bind::<Text, _>(&lsn)
        .get_result::<Caught>(&mut **conn);
        match caught {
            Ok(Caught { up: true }) => {
                conn.succeeded();
                Ok(Some(conn))
            }
            Ok(Caught { up: false }) => {
                conn.succeeded();
                Ok(None)
            }
            Err(e) => {
                conn.lost();
                self.failed(&e);
                Ok(None)
            }
        }
    }
}

/// See [`Replica::stats`].
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct ReplicaStats {
    /// Reads this instance sent to the replica since it started.
    pub reads_on_replica: u64,
    /// Reads it sent to the primary: the replica had not yet replayed what the primary had when
    /// the read began (a write just before it), or was resting.
    pub reads_on_primary: u64,
    /// The replica failed within the last few seconds; reads go to the primary meanwhile.
    pub resting: bool,
}
