//! The storage interface. One [`Store`] per application database, chosen by the URL scheme in
//! exactly one place ([`open`]). Services work inside a [`Tx`] (a unit of work that commits or
//! rolls back as a whole); the SQL lives in each feature's `store.rs` as portable statements that
//! a macro implements for both backends, so SQLite and PostgreSQL run the very same queries.
pub mod generation;
pub mod import_lock;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::api_keys::store::{ApiKeyTx, KeyAuthRow};
use crate::audit::store::AuditTx;
use crate::cards::store::CardTx;
use crate::collections::item_store::ItemTx;
use crate::collections::store::CollectionTx;
use crate::dashboards::layout_store::LayoutTx;
use crate::dashboards::store::DashboardTx;
use crate::data_model::store::DataModelTx;
use crate::databases::store::DatabaseTx;
use crate::groups::store::GroupTx;
use crate::permissions::store::PermissionTx;
use crate::serialization::store::SerdesTx;
use crate::sessions::store::{SessionAuthRow, SessionTx};
use crate::settings::store::SettingsTx;
use crate::users::store::UserTx;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database stayed busy (locked, or no pooled connection) for longer than the timeout.
    #[error("database busy")]
    Busy,
    /// A unique or foreign-key constraint refused the write; the text names the kind only.
    #[error("constraint violation: {0}")]
    Conflict(String),
    /// The database cannot be reached: the connection was refused, lost or reset, or the
    /// server is shutting down or starting (SQLSTATE classes 08 and 57P).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut => StoreError::Busy,
            sqlx::Error::Database(db) => {
                use sqlx::error::ErrorKind;
                match db.kind() {
                    ErrorKind::UniqueViolation => StoreError::Conflict("unique".into()),
                    ErrorKind::ForeignKeyViolation => StoreError::Conflict("foreign key".into()),
                    _ => {
                        // SQLITE_BUSY (5) / SQLITE_LOCKED (6) after the busy timeout.
                        let code = db.code();
                        if matches!(code.as_deref(), Some("5") | Some("6") | Some("517")) {
                            StoreError::Busy
                        } else if code
                            .as_deref()
                            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P"))
                        {
                            StoreError::Unavailable(e.to_string())
                        } else {
                            StoreError::Other(e.to_string())
                        }
                    }
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Other(e.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Serialises rule checks that read-then-write across rows (setup, the last-admin rule).
/// SQLite has one writer anyway; PostgreSQL takes a transaction-scoped advisory lock.
#[derive(Debug, Clone, Copy)]
pub enum LockKey {
    Setup = 1,
    Admins = 2,
    CollectionGraph = 3,
    DataGraph = 4,
}

/// A unit of work. Dropping it without [`Tx::commit`] rolls back.
#[async_trait]
pub trait Tx:
    UserTx
    + GroupTx
    + SessionTx
    + ApiKeyTx
    + AuditTx
    + SettingsTx
    + CollectionTx
    + ItemTx
    + CardTx
    + DashboardTx
    + LayoutTx
    + DatabaseTx
    + DataModelTx
    + PermissionTx
    + SerdesTx
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    async fn lock(&mut self, key: LockKey) -> StoreResult<()>;
    /// Tells other instances (at commit) that this key's cached state is stale.
    async fn notify_key_changed(&mut self, key_id: i64) -> StoreResult<()>;
}

/// Cross-instance notification that an API key's cached state is stale.
pub type KeyInvalidation = tokio::sync::broadcast::Sender<KeyEvent>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyEvent {
    /// Evict every cache entry of this key id.
    Evict(i64),
    /// Some key changed, which one is not known (SQLite, written by another process): empty
    /// the cache.
    EvictAll,
    /// The listener connection was lost (`false`) or re-established (`true`).
    Listening(bool),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    /// A read-write unit of work.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// A unit of work that only reads (on SQLite it does not take the write lock).
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;
    /// Is the database answering?
    async fn ping(&self) -> StoreResult<()>;
    /// The write generation ([`generation::WriteGeneration`]): it moves after every committed
    /// transaction, here or (PostgreSQL) on another instance; `None` while that cannot be known.
    fn write_generation(&self) -> Option<u64>;
    /// Session authentication: one indexed lookup by the SHA-256 of the session id.
    async fn session_auth(&self, digest: &[u8]) -> StoreResult<Option<SessionAuthRow>>;
    /// `GET /api/user/current` in one statement (it is the hot path of key-authenticated scripts).
    async fn current_user(
        &self,
        user_id: i64,
    ) -> StoreResult<Option<crate::users::store::CurrentUserRow>>;
    /// API-key authentication on a cache miss: exactly one indexed query.
    async fn api_key_auth(&self, digest: &[u8]) -> StoreResult<Option<KeyAuthRow>>;
    /// Moves `last_used_at` forward only (never touching `updated_at`).
    async fn api_key_touch(&self, uses: &[(i64, i64)]) -> StoreResult<()>;
    /// Starts the cross-instance invalidation listener: `LISTEN` on PostgreSQL, a poll of the
    /// file's change counters on SQLite (no-op in memory).
    async fn listen_key_events(
        &self,
        tx: KeyInvalidation,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> StoreResult<()>;
    /// The one-import-at-a-time lock (serialization.md §5.6), across processes
    /// ([`import_lock`]): `None` while another import holds it.
    async fn try_import_lock(&self) -> StoreResult<Option<import_lock::ImportLock>>;
    /// The lock that keeps one sync of a warehouse database at a time across instances
    /// (data-model.md §2.10), waited for up to `wait`: `None` when another instance kept it.
    async fn sync_lock(
        &self,
        db_id: i64,
        wait: std::time::Duration,
    ) -> StoreResult<Option<import_lock::ImportLock>>;
    async fn close(&self);
}

pub type DynStore = Arc<dyn Store>;

/// A parsed application-database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    SqliteMemory,
    SqliteFile(std::path::PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite://path`, `sqlite:path`, `sqlite::memory:`, `postgres://…`, `postgresql://…`
    /// (a leading `jdbc:` is stripped, as Metabase's connection URIs carry it).
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let s = raw.trim();
        let s = s.strip_prefix("jdbc:").unwrap_or(s);
        if s == "sqlite::memory:" || s == "sqlite://:memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if let Some(rest) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() {
                return Err(format!(
                    "invalid --database URL {raw:?}: no SQLite file path"
                ));
            }
            return Ok(DatabaseUrl::SqliteFile(path.into()));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(s.to_string()));
        }
        Err(format!(
            "unsupported --database URL {:?}: use sqlite://PATH, sqlite::memory: or postgres://…",
            redact_url(raw)
        ))
    }
}

/// Hides a password in a URL before it is printed.
pub fn redact_url(raw: &str) -> String {
    if let Some((scheme, rest)) = raw.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    raw.to_string()
}

/// Opens the store the URL names, applies migrations and seeds a fresh database.
pub async fn open(url: &DatabaseUrl) -> anyhow::Result<DynStore> {
    let store: DynStore = match url {
        DatabaseUrl::SqliteMemory | DatabaseUrl::SqliteFile(_) => {
            Arc::new(sqlite::SqliteStore::connect(url).await?)
        }
        DatabaseUrl::Postgres(u) => Arc::new(postgres::PgStore::connect(u).await?),
    };
    seed(&store).await?;
    Ok(store)
}

/// On an empty database: the two fixed groups (ids 1 and 2) and the setup token.
async fn seed(store: &DynStore) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    tx.lock(LockKey::Setup).await?;
    if tx.group_get(1).await?.is_none() {
        tx.group_insert_fixed(1, "All Users", "all-internal-users")
            .await?;
        tx.group_insert_fixed(2, "Administrators", "admin").await?;
    }
    if tx.setting_get("setup-token").await?.is_none() {
        tx.setting_set("setup-token", Some(&uuid::Uuid::new_v4().to_string()))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The pool-level queries of the authentication hot path, written once for both backends.
#[macro_export]
macro_rules! store_pool_queries {
    ($store:ty) => {
        impl $store {
            async fn session_auth_query(
                &self,
                digest: &[u8],
            ) -> $crate::store::StoreResult<Option<$crate::sessions::store::SessionAuthRow>> {
                let rows: Vec<$crate::sessions::store::SessionAuthJoinRow> =
                    sqlx::query_as($crate::sessions::store::SESSION_AUTH_SQL)
                        .bind(digest)
                        .fetch_all(&self.pool)
                        .await?;
                Ok($crate::sessions::store::SessionAuthRow::from_join(rows))
            }

            async fn current_user_query(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::users::store::CurrentUserRow>> {
                let rows: Vec<$crate::users::store::CurrentUserJoinRow> =
                    sqlx::query_as(&$crate::users::store::current_user_sql())
                        .bind(user_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok($crate::users::store::CurrentUserRow::from_join(rows))
            }

            async fn api_key_auth_query(
                &self,
                digest: &[u8],
            ) -> $crate::store::StoreResult<Option<$crate::api_keys::store::KeyAuthRow>> {
                let rows: Vec<$crate::api_keys::store::KeyAuthJoinRow> =
                    sqlx::query_as($crate::api_keys::store::KEY_AUTH_SQL)
                        .bind(digest)
                        .fetch_all(&self.pool)
                        .await?;
                Ok($crate::api_keys::store::KeyAuthRow::from_join(digest, rows))
            }

            async fn api_key_touch_query(
                &self,
                uses: &[(i64, i64)],
            ) -> $crate::store::StoreResult<()> {
                for (key_id, at) in uses {
                    sqlx::query($crate::api_keys::store::KEY_TOUCH_SQL)
                        .bind(*at)
                        .bind(*key_id)
                        .execute(&self.pool)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

/// A store failure reaching a service: busy stays busy (503), anything else is internal.
impl From<StoreError> for crate::error::ApiError {
    fn from(e: StoreError) -> Self {
        use crate::error::ApiError;
        match e {
            StoreError::Busy => ApiError::Busy,
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "application database unavailable");
                ApiError::Unavailable
            }
            StoreError::Conflict(what) => {
                ApiError::Internal(format!("unexpected conflict: {what}"))
            }
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::SqliteMemory)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/path.db"),
            Ok(DatabaseUrl::SqliteFile("/abs/path.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://rel.db"),
            Ok(DatabaseUrl::SqliteFile("rel.db".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("jdbc:postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }

    #[test]
    fn migration_folders_match() {
        let names = |dir: &str| {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let root = env!("CARGO_MANIFEST_DIR");
        assert_eq!(
            names(&format!("{root}/migrations/sqlite")),
            names(&format!("{root}/migrations/postgres"))
        );
    }
}
