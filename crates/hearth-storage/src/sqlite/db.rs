//! The SQLite engine: a pool of reader threads and one writer thread with group commit.
//!
//! SQLite allows one writer at a time. Instead of each caller taking the write lock and paying
//! for its own fsync, every write is a job sent to the writer thread. The writer takes all jobs
//! waiting at that moment, runs each inside its own SAVEPOINT (so a failing job rolls back alone)
//! within one transaction, commits once, and only then answers the callers. Under concurrency
//! many writes share one fsync; alone, a write costs what it always did.
//!
//! The writer also hands out stream positions (`WriteCtx::next_pos`). Because one thread
//! allocates them and commits in order, the committed positions always form a prefix: a
//! reader that sees position N has seen every position below N.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    thread,
};

use crossbeam_channel::{Receiver, Sender};
use hearth_core::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

/// Jobs taken into one transaction at most; bounds the latency of the first job in a batch.
const MAX_BATCH: usize = 256;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
/// Runs a job inside its savepoint; returns whether it succeeded and how to answer its caller.
type WriteJob = Box<dyn FnOnce(&mut WriteCtx<'_>) -> (bool, Deliver) + Send>;
/// Answers the caller once the batch's fate is known: `Some(err)` if the commit failed.
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// What a write job sees: the connection, inside an open transaction, and the stream counter.
pub struct WriteCtx<'a> {
    pub conn: &'a Connection,
    pos: &'a mut i64,
}

impl WriteCtx<'_> {
    /// The next position of the server-wide stream that orders everything sync reports.
    pub fn next_pos(&mut self) -> i64 {
        *self.pos += 1;
        *self.pos
    }
}

impl std::ops::Deref for WriteCtx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

pub struct Db {
    readers: Sender<ReadJob>,
    writer: Sender<WriteJob>,
    committed_pos: Arc<AtomicI64>,
}

impl Db {
    /// Open (creating if needed) the database, run `init` on the writer connection (migrations),
    /// then start the writer and `read_connections` readers.
    pub fn open(
        path: &Path,
        read_connections: usize,
        init: impl FnOnce(&mut Connection) -> Result<i64>,
    ) -> Result<Db> {
        let mut conn = open_connection(path, false)?;
        let start_pos = init(&mut conn)?;
        let committed_pos = Arc::new(AtomicI64::new(start_pos));

        let (writer, write_rx) = crossbeam_channel::unbounded::<WriteJob>();
        let committed = committed_pos.clone();
        thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || writer_loop(conn, write_rx, start_pos, committed))
            .map_err(Error::internal)?;

        let (readers, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for i in 0..read_connections {
            let conn = open_connection(path, true)?;
            let rx = read_rx.clone();
            thread::Builder::new()
                .name(format!("db-reader-{i}"))
                .spawn(move || {
                    for job in rx {
                        job(&conn);
                    }
                })
                .map_err(Error::internal)?;
        }
        Ok(Db { readers, writer, committed_pos })
    }

    /// Run `f` on a reader connection. Each call sees a consistent snapshot if it opens a
    /// transaction itself; single statements always do.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        self.readers.send(job).map_err(|_| Error::internal("database readers stopped"))?;
        rx.await.map_err(|_| Error::internal("database reader dropped a job"))?
    }

    /// Run `f` in the writer's transaction. Returns once the transaction holding it has
    /// committed. If `f` fails, its changes are rolled back and nothing else is affected.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        self.write_queued(f).await
    }

    /// Like [`Db::write`], but the job is queued before this returns, not when the future is
    /// first polled: jobs queued one after the other run in that order.
    pub fn write_queued<T, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = Result<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: WriteJob = Box::new(move |ctx| {
            let result = f(ctx);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_error| {
                let result = match commit_error {
                    Some(e) => Err(Error::internal(format!("commit failed: {e}"))),
                    None => result,
                };
                let _ = tx.send(result);
            });
            (ok, deliver)
        });
        let sent = self.writer.send(job).map_err(|_| Error::internal("database writer stopped"));
        async move {
            sent?;
            rx.await.map_err(|_| Error::internal("database writer dropped a job"))?
        }
    }

    /// The highest stream position whose transaction has committed.
    pub fn committed_pos(&self) -> i64 {
        self.committed_pos.load(Ordering::Acquire)
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::internal(format!("cannot open database {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(256);
    // WAL: readers never block the writer nor each other. synchronous=FULL keeps every
    // acknowledged write across a power cut; group commit pays for it.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16000;",
    )?;
    Ok(conn)
}

fn writer_loop(
    conn: Connection,
    jobs: Receiver<WriteJob>,
    start_pos: i64,
    committed: Arc<AtomicI64>,
) {
    let mut pos = start_pos;
    while let Ok(first) = jobs.recv() {
        let batch: Vec<WriteJob> =
            std::iter::once(first).chain(jobs.try_iter().take(MAX_BATCH - 1)).collect();
        let mut delivers = Vec::with_capacity(batch.len());
        let mut batch_pos = pos;
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Never run a job outside a transaction. Dropping the jobs drops their senders,
            // so every caller gets an error.
            tracing::error!("database: cannot begin transaction: {e}");
            continue;
        }
        for job in batch {
            delivers.push(run_job(&conn, job, &mut batch_pos));
        }
        let saved = batch_pos == pos
            || conn
                .execute("UPDATE stream_position SET pos = ?1", [batch_pos])
                .is_ok_and(|n| n == 1);
        let committed_ok = if saved {
            conn.execute_batch("COMMIT")
        } else {
            Err(rusqlite::Error::QueryReturnedNoRows)
        };
        match committed_ok {
            Ok(()) => {
                pos = batch_pos;
                committed.store(pos, Ordering::Release);
                for deliver in delivers {
                    deliver(None);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::error!("database: commit failed: {msg}");
                let _ = conn.execute_batch("ROLLBACK");
                for deliver in delivers {
                    deliver(Some(&msg));
                }
            }
        }
    }
}

fn run_job(conn: &Connection, job: WriteJob, pos: &mut i64) -> Deliver {
    if let Err(e) = conn.execute_batch("SAVEPOINT job") {
        let msg = e.to_string();
        return Box::new(move |_: Option<&str>| {
            tracing::error!("database: savepoint failed: {msg}")
        });
    }
    let before = *pos;
    let mut ctx = WriteCtx { conn, pos };
    let (ok, deliver) =
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut ctx))) {
            Ok(r) => r,
            Err(_) => {
                // The job's oneshot sender was dropped during unwinding; its caller gets an error.
                (false, Box::new(|_: Option<&str>| ()) as Deliver)
            }
        };
    if ok {
        let _ = conn.execute_batch("RELEASE job");
    } else {
        *pos = before;
        let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
    }
    deliver
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::migrations::{Area, migrate};

    fn open(dir: &Path) -> Db {
        const AREA: Area =
            Area { name: "t", migrations: &["CREATE TABLE t (pos INTEGER PRIMARY KEY, v TEXT)"] };
        Db::open(&dir.join("t.db"), 2, |c| migrate(c, &[AREA])).unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn failed_job_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(open(dir.path()));
        let ok = db.write(|c| {
            let p = c.next_pos();
            c.execute("INSERT INTO t VALUES (?1, 'a')", [p])?;
            Ok(p)
        });
        let bad = db.write(|c| {
            let p = c.next_pos();
            c.execute("INSERT INTO t VALUES (?1, 'b')", [p])?;
            Err::<(), _>(Error::forbidden("no"))
        });
        let (ok, bad) = tokio::join!(ok, bad);
        assert_eq!(ok.unwrap(), 1);
        assert!(bad.is_err());
        let n: i64 = db
            .read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(db.committed_pos(), 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_writes_all_land_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(open(dir.path()));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(move |c| {
                    let p = c.next_pos();
                    c.execute(
                        "INSERT INTO t VALUES (?1, ?2)",
                        rusqlite::params![p, i.to_string()],
                    )?;
                    Ok(p)
                })
                .await
            }));
        }
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap().unwrap());
        }
        seen.sort();
        assert_eq!(seen, (1..=200).collect::<Vec<_>>());
        assert_eq!(db.committed_pos(), 200);
    }
}
