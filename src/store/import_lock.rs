//! The one-import-at-a-time lock of serialization.md §5.6, held across processes: two server
//! instances on one PostgreSQL database, or `ferrobase import` and a server, never import at once.
//!
//! - PostgreSQL: a session-level `pg_try_advisory_lock` taken on a connection of its own (not a
//!   pooled one, which would go back to the pool still holding the lock). The lock lives exactly
//!   as long as that connection, so a crashed importer releases it too.
//! - SQLite file: an exclusive `flock` on `<db file>.import.lock` beside the database. The kernel
//!   drops it when the holder exits, however it exits. The file itself stays (removing a lock file
//!   races with a process that has just opened it).
//! - Both SQLite forms also keep an in-process flag, the only guard an in-memory database needs.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

/// Key of the PostgreSQL advisory lock ("ferrobimp"), apart from the transaction-scoped keys of
/// [`super::LockKey`].
pub const PG_IMPORT_LOCK_KEY: i64 = 0x6665_7272_6f62_696d;

/// A held lock; [`ImportLock::release`] gives it back, dropping it does so too (synchronously
/// for SQLite, by closing the connection for PostgreSQL).
pub struct ImportLock(Option<Box<dyn HeldLock>>);

#[async_trait]
pub trait HeldLock: Send + Sync {
    async fn release(self: Box<Self>);
}

impl ImportLock {
    pub fn new(inner: Box<dyn HeldLock>) -> ImportLock {
        ImportLock(Some(inner))
    }

    /// Releases the lock and waits until others can take it.
    pub async fn release(mut self) {
        if let Some(inner) = self.0.take() {
            inner.release().await;
        }
    }
}

/// The SQLite lock: the in-process flag and, for a file database, the locked file.
pub struct SqliteLock {
    flag: Arc<AtomicBool>,
    _file: Option<std::fs::File>,
}

impl SqliteLock {
    /// `None` when this process or (file databases) another one holds the lock.
    pub fn try_acquire(
        flag: &Arc<AtomicBool>,
        lock_file: Option<&std::path::Path>,
    ) -> std::io::Result<Option<SqliteLock>> {
        if flag
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(None);
        }
        // From here on the flag is ours; `SqliteLock`'s drop clears it on every path.
        let mut lock = SqliteLock {
            flag: flag.clone(),
            _file: None,
        };
        if let Some(path) = lock_file {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)?;
            use rustix::fs::{flock, FlockOperation};
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => lock._file = Some(file),
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(lock))
    }
}

impl Drop for SqliteLock {
    fn drop(&mut self) {
        // The file (and its flock) closes with the struct.
        self.flag.store(false, Ordering::SeqCst);
    }
}

#[async_trait]
impl HeldLock for SqliteLock {
    async fn release(self: Box<Self>) {}
}

/// The PostgreSQL lock: the connection that holds the advisory lock.
pub struct PgLock(Option<sqlx::PgConnection>);

impl PgLock {
    pub async fn try_acquire(
        opts: &sqlx::postgres::PgConnectOptions,
    ) -> Result<Option<PgLock>, sqlx::Error> {
        use sqlx::ConnectOptions;
        let mut conn = opts.connect().await?;
        let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(PG_IMPORT_LOCK_KEY)
            .fetch_one(&mut conn)
            .await?;
        if !got {
            let _ = sqlx::Connection::close(conn).await;
            return Ok(None);
        }
        Ok(Some(PgLock(Some(conn))))
    }
}

#[async_trait]
impl HeldLock for PgLock {
    async fn release(mut self: Box<Self>) {
        if let Some(mut conn) = self.0.take() {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PG_IMPORT_LOCK_KEY)
                .execute(&mut conn)
                .await;
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// Class of the PostgreSQL advisory locks that keep one sync per warehouse database across
/// instances (`pg_advisory_lock(class, database id)`; data-model.md §2.10).
pub const PG_SYNC_LOCK_CLASS: i32 = 0x7379_6e63;

/// A session-level advisory lock on a connection of its own; closing the connection releases it,
/// so a crashed holder releases it too.
pub struct PgSessionLock(Option<sqlx::PgConnection>);

impl PgSessionLock {
    /// Waits up to `wait` for the sync lock of `db_id`; `None` when another instance kept it.
    pub async fn acquire_sync(
        opts: &sqlx::postgres::PgConnectOptions,
        db_id: i64,
        wait: std::time::Duration,
    ) -> Result<Option<PgSessionLock>, sqlx::Error> {
        use sqlx::ConnectOptions;
        let mut conn = opts.connect().await?;
        let object = i32::try_from(db_id).unwrap_or(i32::MAX);
        let locked = tokio::time::timeout(
            wait,
            sqlx::query("SELECT pg_advisory_lock($1, $2)")
                .bind(PG_SYNC_LOCK_CLASS)
                .bind(object)
                .execute(&mut conn),
        )
        .await;
        match locked {
            Ok(Ok(_)) => Ok(Some(PgSessionLock(Some(conn)))),
            Ok(Err(e)) => Err(e),
            // Dropping the connection abandons the wait.
            Err(_) => Ok(None),
        }
    }
}

#[async_trait]
impl HeldLock for PgSessionLock {
    async fn release(mut self: Box<Self>) {
        if let Some(conn) = self.0.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// No lock: one server per SQLite file, and syncs in one process are already serialised.
pub struct NoLock;

#[async_trait]
impl HeldLock for NoLock {
    async fn release(self: Box<Self>) {}
}
