//! The embedded SQLite backend: WAL, foreign keys on, a 5 s busy timeout, and write
//! transactions opened with `BEGIN IMMEDIATE` so concurrent writers queue instead of failing.
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use super::generation::WriteGeneration;
use super::import_lock::{ImportLock, SqliteLock};
use super::{Backend, DatabaseUrl, KeyEvent, KeyInvalidation, LockKey, Store, StoreResult, Tx};
use crate::api_keys::store::KeyAuthRow;
use crate::sessions::store::SessionAuthRow;

/// How often a server looks for writes made by another process on its SQLite file.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

pub struct SqliteStore {
    pool: SqlitePool,
    /// Trusted from the start: the server is the file's main writer, and [`Self::watch`]
    /// notices within [`WATCH_INTERVAL`] what another process (the CLI) commits.
    generation: Arc<WriteGeneration>,
    /// How to open the watcher's own connection (file databases only).
    watch_options: Option<SqliteConnectOptions>,
    /// `<db file>.import.lock` (file databases only) and the in-process import flag.
    import_lock_file: Option<std::path::PathBuf>,
    importing: Arc<std::sync::atomic::AtomicBool>,
}

pub struct SqliteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
    generation: Arc<WriteGeneration>,
}

impl SqliteTx {
    fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }

    /// After a row of `table` was inserted with an explicit id: nothing to do, AUTOINCREMENT
    /// moves past it (PostgreSQL's sequence needs `setval`, see `PgTx::id_inserted`).
    async fn id_inserted(&mut self, _table: &'static str) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl SqliteStore {
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<SqliteStore> {
        let common =
            |o: SqliteConnectOptions| o.foreign_keys(true).busy_timeout(Duration::from_secs(5));
        let (opts, pool_opts) = match url {
            DatabaseUrl::SqliteFile(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        anyhow::anyhow!(
                            "cannot create the directory of the SQLite database {}: {e}",
                            path.display()
                        )
                    })?;
                }
                (
                    common(SqliteConnectOptions::new())
                        .filename(path)
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        // WAL + NORMAL: a commit survives a process crash (SIGKILL); only an OS
                        // crash or power loss can lose the last transactions.
                        .synchronous(SqliteSynchronous::Normal),
                    SqlitePoolOptions::new()
                        .max_connections(4)
                        .acquire_timeout(Duration::from_secs(5)),
                )
            }
            // One connection that never closes: each in-memory connection is its own database.
            _ => (
                common(SqliteConnectOptions::from_str("sqlite::memory:")?),
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .acquire_timeout(Duration::from_secs(5)),
            ),
        };
        let pool = pool_opts.connect_with(opts.clone()).await.map_err(|e| {
            let where_ = match url {
                DatabaseUrl::SqliteFile(p) => p.display().to_string(),
                _ => ":memory:".into(),
            };
            anyhow::anyhow!("cannot open the SQLite database {where_}: {e}")
        })?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        let import_lock_file = match url {
            DatabaseUrl::SqliteFile(p) => {
                let mut s = p.as_os_str().to_owned();
                s.push(".import.lock");
                Some(s.into())
            }
            _ => None,
        };
        let watch_options = match url {
            DatabaseUrl::SqliteFile(_) => Some(opts),
            _ => None,
        };
        Ok(SqliteStore {
            pool,
            generation: Arc::new(WriteGeneration::new(true)),
            watch_options,
            import_lock_file,
            importing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }
}

crate::store_pool_queries!(SqliteStore);

impl SqliteStore {
    /// Polls, on a connection of its own, `PRAGMA data_version` (it moves when any *other*
    /// connection commits, this process's pool included) and, when it moved, the key epoch of
    /// migration 0009. A moved data version bumps the write generation; a moved epoch empties
    /// the key cache ([`KeyEvent::EvictAll`]: the counter does not say which key, and key
    /// writes are rare). Returns `Ok` at shutdown and `Err` when the connection fails; until it
    /// works again the caches are bypassed, as on PostgreSQL while its listener is down.
    async fn watch(
        &self,
        options: &SqliteConnectOptions,
        events: &KeyInvalidation,
        shutdown: &tokio_util::sync::CancellationToken,
    ) -> Result<(), sqlx::Error> {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = options.connect().await?;
        let mut data_version = Self::data_version(&mut conn).await?;
        let mut epoch = Self::key_epoch(&mut conn).await?;
        if self.generation.current().is_none() {
            // Writes may have gone unseen while the watcher was down.
            self.generation.set_trusted(true);
            let _ = events.send(KeyEvent::Listening(true));
        }
        let mut tick = tokio::time::interval(WATCH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                _ = tick.tick() => {}
            }
            let now = Self::data_version(&mut conn).await?;
            if now == data_version {
                continue;
            }
            data_version = now;
            self.generation.bump();
            let now = Self::key_epoch(&mut conn).await?;
            if now != epoch {
                epoch = now;
                let _ = events.send(KeyEvent::EvictAll);
            }
        }
    }

    async fn data_version(conn: &mut sqlx::SqliteConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(conn)
            .await
    }

    async fn key_epoch(conn: &mut sqlx::SqliteConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT seq FROM api_key_epoch WHERE id = 1")
            .fetch_one(conn)
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx {
            tx,
            generation: self.generation.clone(),
        }))
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(SqliteTx {
            tx,
            generation: self.generation.clone(),
        }))
    }

    fn write_generation(&self) -> Option<u64> {
        self.generation.current()
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn session_auth(&self, digest: &[u8]) -> StoreResult<Option<SessionAuthRow>> {
        self.session_auth_query(digest).await
    }

    async fn current_user(
        &self,
        user_id: i64,
    ) -> StoreResult<Option<crate::users::store::CurrentUserRow>> {
        self.current_user_query(user_id).await
    }

    async fn api_key_auth(&self, digest: &[u8]) -> StoreResult<Option<KeyAuthRow>> {
        self.api_key_auth_query(digest).await
    }

    async fn api_key_touch(&self, uses: &[(i64, i64)]) -> StoreResult<()> {
        self.api_key_touch_query(uses).await
    }

    /// Writes by other processes on the same file (`ferrobase keys scan --revoke`, an import
    /// from the CLI): see [`Self::watch`]. An in-memory database has no other process.
    async fn listen_key_events(
        &self,
        events: KeyInvalidation,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> StoreResult<()> {
        let Some(options) = &self.watch_options else {
            return Ok(());
        };
        loop {
            if let Err(e) = self.watch(options, &events, &shutdown).await {
                tracing::warn!(error = %e, "lost the SQLite change watcher; retrying");
                self.generation.set_trusted(false);
                let _ = events.send(KeyEvent::Listening(false));
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(WATCH_INTERVAL) => {}
            }
        }
    }

    async fn try_import_lock(&self) -> StoreResult<Option<ImportLock>> {
        let lock = SqliteLock::try_acquire(&self.importing, self.import_lock_file.as_deref())
            .map_err(|e| super::StoreError::Other(format!("cannot take the import lock: {e}")))?;
        Ok(lock.map(|l| ImportLock::new(Box::new(l))))
    }

    async fn sync_lock(
        &self,
        _db_id: i64,
        _wait: std::time::Duration,
    ) -> StoreResult<Option<ImportLock>> {
        Ok(Some(ImportLock::new(Box::new(super::import_lock::NoLock))))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Tx for SqliteTx {
    /// Bumps the write generation once the commit is over (even a failed commit may have
    /// written), so no cache entry filled before it is served afterwards.
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let SqliteTx { tx, generation } = *self;
        let result = tx.commit().await;
        generation.bump();
        Ok(result?)
    }

    async fn lock(&mut self, _key: LockKey) -> StoreResult<()> {
        // `BEGIN IMMEDIATE` already holds the single write lock.
        Ok(())
    }

    /// Moves the key epoch that servers on the same file poll ([`SqliteStore::watch`]); this
    /// process evicts the key itself before it answers.
    async fn notify_key_changed(&mut self, _key_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE api_key_epoch SET seq = seq + 1 WHERE id = 1")
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

crate::impl_user_tx!(SqliteTx);
crate::impl_group_tx!(SqliteTx);
crate::impl_session_tx!(SqliteTx);
crate::impl_api_key_tx!(SqliteTx);
crate::impl_audit_tx!(SqliteTx);
crate::impl_settings_tx!(SqliteTx);
crate::impl_card_tx!(SqliteTx);
crate::impl_database_tx!(SqliteTx);
crate::impl_data_model_tx!(SqliteTx);
crate::impl_permission_tx!(SqliteTx);
crate::impl_collection_tx!(SqliteTx);
crate::impl_item_tx!(SqliteTx);
crate::impl_dashboard_tx!(SqliteTx);
crate::impl_layout_tx!(SqliteTx);
crate::impl_serdes_tx!(SqliteTx);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Two stores on one file stand for the server and a CLI process: a key write by the second
    /// reaches the first's event channel within a second, and any write moves its generation.
    #[tokio::test]
    async fn writes_by_another_process_reach_the_watcher() {
        let dir = tempfile::tempdir().expect("tmp");
        let url = DatabaseUrl::SqliteFile(dir.path().join("app.db"));
        let server = Arc::new(SqliteStore::connect(&url).await.expect("server"));
        let cli = SqliteStore::connect(&url).await.expect("cli");
        let (events, mut rx) = tokio::sync::broadcast::channel(16);
        let shutdown = tokio_util::sync::CancellationToken::new();
        let watcher = {
            let (server, shutdown) = (server.clone(), shutdown.clone());
            tokio::spawn(async move { server.listen_key_events(events, shutdown).await })
        };
        tokio::time::sleep(WATCH_INTERVAL * 2).await;

        // A write that touches no key: the generation moves, no key event.
        let before = server.write_generation().expect("trusted");
        sqlx::query("CREATE TABLE unrelated (x INTEGER)")
            .execute(&cli.pool)
            .await
            .expect("write");
        let start = Instant::now();
        while server.write_generation() == Some(before) {
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "generation did not move"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(rx.try_recv().is_err(), "no key changed");

        // A key write: the whole cache is emptied.
        let mut tx = cli.begin().await.expect("begin");
        tx.notify_key_changed(7).await.expect("notify");
        tx.commit().await.expect("commit");
        let got = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await;
        assert_eq!(
            got.expect("within a second").expect("event"),
            KeyEvent::EvictAll
        );

        shutdown.cancel();
        watcher.await.expect("join").expect("watcher ends cleanly");
    }
}
