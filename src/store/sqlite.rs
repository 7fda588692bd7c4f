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
use super::{Backend, DatabaseUrl, KeyInvalidation, LockKey, Store, StoreResult, Tx};
use crate::api_keys::store::KeyAuthRow;
use crate::sessions::store::SessionAuthRow;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Trusted from the start: one instance per SQLite file, so every write happens here.
    generation: Arc<WriteGeneration>,
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
        let pool = pool_opts.connect_with(opts).await.map_err(|e| {
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
        Ok(SqliteStore {
            pool,
            generation: Arc::new(WriteGeneration::new(true)),
            import_lock_file,
            importing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }
}

crate::store_pool_queries!(SqliteStore);

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

    async fn listen_key_events(
        &self,
        _tx: KeyInvalidation,
        _shutdown: tokio_util::sync::CancellationToken,
    ) -> StoreResult<()> {
        // One instance per SQLite file: every write happens here and evicts locally.
        Ok(())
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

    async fn notify_key_changed(&mut self, _key_id: i64) -> StoreResult<()> {
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
