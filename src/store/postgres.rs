//! The PostgreSQL backend: a connection pool, transaction-scoped advisory locks for rules that
//! span rows, and `LISTEN`/`NOTIFY` so several instances evict cached API keys (and see each
//! other's writes, [`WriteGeneration`]) within a second.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use tokio_util::sync::CancellationToken;

use super::generation::WriteGeneration;
use super::import_lock::{ImportLock, PgLock};
use super::{Backend, KeyEvent, KeyInvalidation, LockKey, Store, StoreResult, Tx};
use crate::api_keys::store::KeyAuthRow;
use crate::sessions::store::SessionAuthRow;

pub const KEY_CHANNEL: &str = "ferrobase_api_key";
/// Every committed transaction notifies this channel (empty payload, so PostgreSQL sends one
/// notification per transaction); listeners bump their write generation.
pub const WRITE_CHANNEL: &str = "ferrobase_write";

pub struct PgStore {
    pool: PgPool,
    /// Untrusted until the `LISTEN` connection is up, and again whenever it is lost.
    generation: Arc<WriteGeneration>,
}

pub struct PgTx {
    tx: sqlx::Transaction<'static, Postgres>,
    generation: Arc<WriteGeneration>,
}

impl PgTx {
    fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }

    /// After a row of `table` was inserted with an explicit id: moves the id sequence past it,
    /// so later generated ids never collide (SQLite's AUTOINCREMENT does this by itself).
    async fn id_inserted(&mut self, table: &'static str) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT MAX(id) FROM {table}))"
        ))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot connect to PostgreSQL at {}: {e}",
                    super::redact_url(url)
                )
            })?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        Ok(PgStore {
            pool,
            generation: Arc::new(WriteGeneration::new(false)),
        })
    }

    async fn listen_once(
        &self,
        events: &KeyInvalidation,
        shutdown: &CancellationToken,
    ) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen_all([KEY_CHANNEL, WRITE_CHANNEL]).await?;
        self.generation.set_trusted(true);
        let _ = events.send(KeyEvent::Listening(true));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                n = listener.try_recv() => match n? {
                    Some(n) if n.channel() == WRITE_CHANNEL => self.generation.bump(),
                    Some(n) => {
                        if let Ok(id) = n.payload().parse::<i64>() {
                            let _ = events.send(KeyEvent::Evict(id));
                        }
                    }
                    None => return Err(sqlx::Error::PoolClosed),
                }
            }
        }
    }
}

crate::store_pool_queries!(PgStore);

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(PgTx {
            tx,
            generation: self.generation.clone(),
        }))
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(PgTx {
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

    /// Keeps a `LISTEN` connection; on loss reports `Listening(false)` (the cache then stops
    /// trusting itself) and reconnects, reporting `Listening(true)` once listening again.
    async fn listen_key_events(
        &self,
        events: KeyInvalidation,
        shutdown: CancellationToken,
    ) -> StoreResult<()> {
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            if let Err(e) = self.listen_once(&events, &shutdown).await {
                tracing::warn!(error = %e, "lost the API-key invalidation listener; retrying");
                self.generation.set_trusted(false);
                let _ = events.send(KeyEvent::Listening(false));
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            } else {
                return Ok(());
            }
        }
    }

    async fn try_import_lock(&self) -> StoreResult<Option<ImportLock>> {
        let lock = PgLock::try_acquire(&self.pool.connect_options()).await?;
        Ok(lock.map(|l| ImportLock::new(Box::new(l))))
    }

    async fn sync_lock(&self, db_id: i64, wait: Duration) -> StoreResult<Option<ImportLock>> {
        let opts = self.pool.connect_options();
        let lock = super::import_lock::PgSessionLock::acquire_sync(&opts, db_id, wait).await?;
        Ok(lock.map(|l| ImportLock::new(Box::new(l))))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Tx for PgTx {
    /// Notifies [`WRITE_CHANNEL`] (delivered to every listening instance, this one included,
    /// only if the transaction commits), commits, then bumps the local write generation at once
    /// (even a failed commit may have written).
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let PgTx { mut tx, generation } = *self;
        let notified = sqlx::query("SELECT pg_notify($1, '')")
            .bind(WRITE_CHANNEL)
            .execute(&mut *tx)
            .await;
        let result = match notified {
            Ok(_) => tx.commit().await,
            Err(e) => Err(e),
        };
        generation.bump();
        Ok(result?)
    }

    async fn lock(&mut self, key: LockKey) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(0x6665_7272_0000_i64 + key as i64)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Delivered to every listening instance when the transaction commits.
    async fn notify_key_changed(&mut self, key_id: i64) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(KEY_CHANNEL)
            .bind(key_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

crate::impl_user_tx!(PgTx);
crate::impl_group_tx!(PgTx);
crate::impl_session_tx!(PgTx);
crate::impl_api_key_tx!(PgTx);
crate::impl_audit_tx!(PgTx);
crate::impl_settings_tx!(PgTx);
crate::impl_card_tx!(PgTx);
crate::impl_database_tx!(PgTx);
crate::impl_data_model_tx!(PgTx);
crate::impl_permission_tx!(PgTx);
crate::impl_collection_tx!(PgTx);
crate::impl_item_tx!(PgTx);
crate::impl_dashboard_tx!(PgTx);
crate::impl_layout_tx!(PgTx);
crate::impl_serdes_tx!(PgTx);
