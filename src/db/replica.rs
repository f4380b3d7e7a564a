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
//!
//! Two round trips per read would be the price as written above; two things bring it down without
//! weakening the promise:
//! - **one question to the primary serves every read that began before it was asked**
//!   ([`Flights`]): reads arriving while a question is in the air wait for the next one, which
//!   all of them share;
//! - **the replica's replay position is remembered** (it only moves forward on one server): a read
//!   whose target it already covers skips the replica's question. It is forgotten when the replica
//!   fails, so `DATABASE_REPLICA_URL` must name one replica server (pgbouncer in front of it is
//!   fine; a balancer over several replicas is not).
//!
//! With reads and no writes (the primary's position still), a read then costs a share of one round
//! trip instead of two (docs/benchmarks.md, #20).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use super::{Pool, PooledConn};
use crate::error::AppError;

/// How long a replica that failed is not tried.
const REST: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Replica {
    pool: Pool,
    /// Questions to the primary for its WAL position, shared between the reads that may share them.
    flights: Arc<Flights>,
    /// The furthest replay position the replica has reported (bytes of WAL); 0 for none yet.
    replayed: Arc<AtomicU64>,
    /// Reads sent to the replica and to the primary since start (`/readyz` shows them).
    on_replica: Arc<AtomicU64>,
    on_primary: Arc<AtomicU64>,
    /// When the replica failed last, in milliseconds since `epoch`; 0 for never.
    failed_at_ms: Arc<AtomicU64>,
    epoch: Instant,
}

#[derive(QueryableByName)]
struct Position {
    /// Bytes of WAL from the start (`pg_lsn - '0/0'`); NULL for a replay position on a server
    /// that is not in recovery.
    #[diesel(sql_type = Nullable<BigInt>)]
    at: Option<i64>,
}

impl Replica {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            flights: Arc::new(Flights::default()),
            replayed: Arc::new(AtomicU64::new(0)),
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

    /// Rests the replica (a read only asks it when it is not resting, so this warns once a rest)
    /// and forgets its replay position: what answers next may be another server.
    fn failed(&self, why: &dyn std::fmt::Display) {
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.replayed.store(0, Ordering::Relaxed);
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

    /// Where a read that begins now goes: a replica connection when the replica has everything
    /// the primary had (asked of `primary`'s pool), `None` for the primary.
    pub fn route(&self, primary: &Pool) -> Result<Option<PooledConn>, AppError> {
        let route = self.choose(primary);
        let counter = match &route {
            Ok(Some(_)) => &self.on_replica,
            _ => &self.on_primary,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        route
    }

    fn choose(&self, primary: &Pool) -> Result<Option<PooledConn>, AppError> {
        if self.resting() {
            return Ok(None);
        }
        let mut asked = None;
        let target = self.flights.position(|| {
            let result = primary_position(primary);
            let position = result.as_ref().ok().copied();
            asked = Some(result);
            position
        });
        let target = match (target, asked) {
            (Some(target), _) => target,
            // This read asked, and the primary's answer was an error: the read fails with it.
            (None, Some(Err(e))) => return Err(e),
            // Another read asked and failed: this one tries the primary itself.
            (None, _) => return Ok(None),
        };
        let mut conn = match self.pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                self.failed(&e);
                return Ok(None);
            }
        };
        if self.replayed.load(Ordering::Relaxed) >= target {
            return Ok(Some(conn));
        }
        let replayed = diesel::sql_query(
            "SELECT CASE WHEN pg_is_in_recovery() \
             THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END AS at",
        )
        .get_result::<Position>(&mut **conn);
        match replayed {
            Ok(Position { at: Some(at) }) => {
                conn.succeeded();
                let at = u64::try_from(at).unwrap_or(0);
                self.replayed.fetch_max(at, Ordering::Relaxed);
                Ok((at >= target).then_some(conn))
            }
            // NULL on a server that is not in recovery (a promoted replica keeps reporting where its
            // recovery stopped): not a replica, so not to be read from.
            Ok(Position { at: None }) => {
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

/// The primary's WAL position now, in bytes.
fn primary_position(pool: &Pool) -> Result<u64, AppError> {
    let mut conn = pool.get()?;
    let result = diesel::sql_query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS at")
        .get_result::<Position>(&mut **conn)
        .map_err(AppError::from);
    conn.finished(&result);
    Ok(u64::try_from(result?.at.unwrap_or(0)).unwrap_or(0))
}

/// Questions to the primary for its WAL position, each shared by every read that began before it
/// was asked.
///
/// A question already in the air when a read begins may have been answered before that read's
/// caller committed, so it cannot serve the read (a shared-result "single flight", as the
/// singleflight crates do, would break read-your-writes here); the next one to take off can. A
/// read therefore waits for the flight in the air, if any, to land, and then takes the next one or
/// takes off itself. Under load one round trip serves a whole group of reads; alone, a read asks at
/// once.
#[derive(Default)]
pub(crate) struct Flights {
    state: Mutex<FlightState>,
    landed: Condvar,
}

#[derive(Default)]
struct FlightState {
    /// The number of the last flight to take off (0: none yet).
    took_off: u64,
    /// Whether flight `took_off` is still in the air.
    flying: bool,
    /// The number of the last flight to land, and what it brought (`None`: it failed).
    landed: u64,
    position: Option<u64>,
}

impl Flights {
    /// A position asked for after this call began: from a flight that took off after it, shared,
    /// or from `ask`, run by this call (outside the lock) when no such flight is in the air.
    /// `None` when that flight failed.
    pub(crate) fn position(&self, ask: impl FnOnce() -> Option<u64>) -> Option<u64> {
        let mut state = self.lock();
        let wanted = state.took_off + 1;
        loop {
            if state.landed >= wanted {
                return state.position;
            }
            if !state.flying {
                state.took_off += 1;
                state.flying = true;
                let number = state.took_off;
                drop(state);
                // Lands the flight even if `ask` panics, or every read after it would wait forever.
                let mut landing = Landing {
                    flights: self,
                    number,
                    position: None,
                };
                landing.position = ask();
                return landing.position;
            }
            state = self
                .landed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn lock(&self) -> MutexGuard<'_, FlightState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Landing<'a> {
    flights: &'a Flights,
    number: u64,
    position: Option<u64>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut state = self.flights.lock();
        state.flying = false;
        state.landed = self.number;
        state.position = self.position;
        drop(state);
        self.flights.landed.notify_all();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Every read gets a position asked for after it began (at least every commit made before it),
    /// and reads that overlap share questions. Sharing the flight in the air instead fails the
    /// first assertion.
    #[test]
    fn a_read_is_served_only_by_a_question_asked_after_it_began() {
        let flights = Arc::new(Flights::default());
        let commits = Arc::new(AtomicU64::new(0));
        let asked = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (flights, commits, asked) = (flights.clone(), commits.clone(), asked.clone());
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let committed = commits.fetch_add(1, Ordering::SeqCst) + 1;
                        let got = flights.position(|| {
                            asked.fetch_add(1, Ordering::SeqCst);
                            let now = commits.load(Ordering::SeqCst);
                            std::thread::sleep(Duration::from_micros(200));
                            Some(now)
                        });
                        assert!(
                            got.unwrap() >= committed,
                            "a read saw a position from before it"
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let asked = asked.load(Ordering::SeqCst);
        assert!(
            asked < 16 * 200,
            "{asked} questions for 3,200 reads: none shared"
        );
    }

    /// A question that panics still lands: the reads after it are not left waiting.
    #[test]
    fn a_panicking_question_lands_its_flight() {
        let flights = Flights::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            flights.position(|| panic!("the question failed"))
        }));
        assert!(panicked.is_err());
        assert_eq!(flights.position(|| Some(7)), Some(7));
        assert_eq!(flights.position(|| None), None);
    }
}
