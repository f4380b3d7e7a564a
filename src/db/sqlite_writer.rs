//! SQLite's one writer: a thread that runs the queued writes, several to a transaction.
//!
//! SQLite lets one connection write at a time. Handlers' writes used to take a process-wide lock
//! and commit one by one; each commit appended every page it changed to the WAL (the prayers
//! table and its indexes, the request's counters) and checksummed them, so a burst of prayers
//! wrote the same few pages over and over. Here every write is a job on a queue; the writer thread
//! takes all the jobs waiting (never waiting for more), runs each in a savepoint of one
//! transaction, and commits once. A job that fails rolls back only its savepoint; the results go
//! back to the handlers only after the commit, so no handler reports a change that could still be
//! lost. Writes stay serialized, so a read-then-write job is as serializable as before.
//!
//! Kept by the 20% rule: POST prayers 11.4k -> 23-28k req/s, p99 26-32 -> 7-9 ms, against the
//! process-wide lock (SQLite, 10k; docs/benchmarks.md).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;
use tokio::sync::oneshot;

use super::{DbConnection, Pool};
use crate::error::AppError;

/// At most this many writes share one transaction: enough to absorb a burst from every
/// connection of a busy server, few enough that one commit stays short.
const MAX_BATCH: usize = 64;

/// What a job hands back once it has run: called after the commit with its error, if any.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// A write: run on the batch's connection, or told why it cannot run (no connection, the
/// write lock not to be had, a panic earlier in its batch).
type Job = Box<dyn FnOnce(Result<&mut DbConnection, Refusal>) -> Finish + Send>;

/// Why a job was not run.
#[derive(Clone, Copy)]
enum Refusal {
    /// No connection, or the write lock held elsewhere (another process) past the busy timeout.
    Unavailable,
    /// A write earlier in the batch panicked; the whole batch is rolled back.
    Aborted,
}

type TxManager = <DbConnection as Connection>::TransactionManager;

/// The handle to the writer thread; the thread stops when every handle is dropped.
#[derive(Clone)]
pub struct SqliteWriter {
    jobs: Sender<Job>,
}

impl SqliteWriter {
    pub fn start(pool: Pool) -> Self {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(pool, queue))
            .expect("spawn the SQLite writer thread");
        SqliteWriter { jobs }
    }

    /// Runs `f` in its own savepoint of the writer's next transaction; its result once that
    /// transaction has committed (or the commit's failure).
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |conn: Result<&mut DbConnection, Refusal>| {
            let outcome = match conn {
                Ok(conn) => conn.transaction(|c| f(c)),
                Err(Refusal::Unavailable) => Err(AppError::Unavailable(
                    "the database could not take a write".into(),
                )),
                Err(Refusal::Aborted) => Err(AppError::bug(
                    "a write in the same batch panicked; the batch was rolled back",
                )),
            };
            Box::new(move |commit_error: Option<&str>| {
                let outcome = match (commit_error, outcome) {
                    (Some(reason), Ok(_)) => Err(AppError::Internal(anyhow::anyhow!(
                        "commit failed: {reason}"
                    ))),
                    (_, outcome) => outcome,
                };
                // The handler may have gone (the client hung up); the write stands regardless.
                let _ = done.send(outcome);
            }) as Finish
        });
        self.jobs
            .send(job)
            .map_err(|_| AppError::bug("the SQLite writer has stopped"))?;
        result
            .await
            .map_err(|_| AppError::bug("a write was abandoned by the SQLite writer"))?
    }
}

fn run(pool: Pool, queue: Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match pool.get() {
            Ok(mut conn) => {
                if run_batch(&mut conn, batch) {
                    conn.succeeded();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the SQLite writer has no connection");
                refuse(batch, Refusal::Unavailable);
            }
        }
    }
}

fn refuse(jobs: impl IntoIterator<Item = Job>, why: Refusal) {
    for job in jobs {
        job(Err(why))(None);
    }
}

/// Runs the batch in one transaction and hands each job its outcome after the commit; true if
/// it committed.
fn run_batch(conn: &mut DbConnection, batch: Vec<Job>) -> bool {
    // IMMEDIATE takes the write lock before any read, waiting out the busy timeout if another
    // process holds it. A deferred transaction would read first and then fail at once (SQLite
    // calls no busy handler for a read transaction that wants to write).
    let begun = match conn {
        DbConnection::Sqlite(lite) => {
            AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgresql(_) => Err(diesel::result::Error::BrokenTransactionManager),
    };
    if let Err(e) = begun {
        tracing::warn!(error = %e, "the SQLite writer could not begin a transaction");
        refuse(batch, Refusal::Unavailable);
        return false;
    }
    let mut finished: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    for job in jobs.by_ref() {
        match catch_unwind(AssertUnwindSafe(|| job(Ok(&mut *conn)))) {
            Ok(finish) => finished.push(finish),
            Err(_) => {
                // The connection is left mid-savepoint and is not committed: the pool discards
                // it (`ConnectionManager::has_broken`) and SQLite rolls back what it held.
                refuse(jobs, Refusal::Aborted);
                for finish in finished {
                    finish(Some(
                        "a write in the same batch panicked; the batch was rolled back",
                    ));
                }
                return false;
            }
        }
    }
    match TxManager::commit_transaction(conn) {
        Ok(()) => {
            for finish in finished {
                finish(None);
            }
            true
        }
        Err(e) => {
            let reason = format!("the commit failed: {e}");
            let _ = TxManager::rollback_transaction(conn);
            for finish in finished {
                finish(Some(&reason));
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    use super::super::Db;
    use crate::error::AppError;

    /// Writes queued together share a transaction, one savepoint each: a write that fails after
    /// changing something leaves nothing behind, and its neighbours in the batch all stand.
    #[actix_web::test]
    async fn a_failed_write_leaves_nothing_and_takes_no_neighbour_with_it() {
        let dir = crate::db::testing::temp_dir("writer");
        let path = dir.join("w.db").to_string_lossy().to_string();
        let db = Db::connect(&format!("sqlite://{path}")).unwrap();
        db.write(|conn| Ok(conn.batch_execute("CREATE TABLE scratch (n INTEGER)")?))
            .await
            .unwrap();
        // Another connection holds the write lock, so the writes below queue up behind the
        // first and run as one batch once it is released.
        let mut holder = SqliteConnection::establish(&path).unwrap();
        holder.batch_execute("BEGIN IMMEDIATE").unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            holder.batch_execute("COMMIT").unwrap();
        });
        let writes = (0..12).map(|i| {
            db.write(move |conn| {
                conn.batch_execute(&format!("INSERT INTO scratch VALUES ({i})"))?;
                if i % 3 == 0 {
                    Err(AppError::invalid("n", "a multiple of three"))
                } else {
                    Ok(i)
                }
            })
        });
        let results = futures_util::future::join_all(writes).await;
        release.join().unwrap();
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result.is_ok(), i % 3 != 0, "write {i}: {result:?}");
        }
        let mut check = SqliteConnection::establish(&path).unwrap();
        let kept: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "(SELECT count(*) FROM scratch WHERE n % 3 != 0)",
        ))
        .get_result(&mut check)
        .unwrap();
        let all: i64 = diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM scratch)"))
            .get_result(&mut check)
            .unwrap();
        assert_eq!((kept, all), (8, 8));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
