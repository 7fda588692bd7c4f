//! API-key rows. Only the SHA-256 digest and the 7-character prefix of a key are stored.
use async_trait::async_trait;

use std::sync::Arc;

use crate::auth::restrictions::Restrictions;
use crate::store::StoreResult;

/// One row per membership of the key user (so one query returns the groups too).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyAuthJoinRow {
    pub key_id: i64,
    pub user_id: i64,
    pub key_hash: Vec<u8>,
    pub expires_at: Option<i64>,
    pub previous_key_valid_until: Option<i64>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub group_id: Option<i64>,
    pub restrictions: Option<String>,
}

/// What authentication needs to know about the key a digest belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAuthRow {
    pub key_id: i64,
    pub user_id: i64,
    /// The digest matched the current secret (not the retired one).
    pub matched_current: bool,
    pub expires_at: Option<i64>,
    pub previous_key_valid_until: Option<i64>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub group_ids: Vec<i64>,
    /// Only when they restrict something (key-restrictions.md §1): an unrestricted key's
    /// requests take exactly the paths they took before restrictions existed.
    pub restrictions: Option<Arc<Restrictions>>,
}

impl KeyAuthRow {
    pub fn from_join(digest: &[u8], rows: Vec<KeyAuthJoinRow>) -> Option<KeyAuthRow> {
        let first = rows.first()?;
        let mut group_ids: Vec<i64> = rows.iter().filter_map(|r| r.group_id).collect();
        group_ids.sort_unstable();
        group_ids.dedup();
        Some(KeyAuthRow {
            key_id: first.key_id,
            user_id: first.user_id,
            matched_current: first.key_hash == digest,
            expires_at: first.expires_at,
            previous_key_valid_until: first.previous_key_valid_until,
            is_active: first.is_active,
            is_superuser: first.is_superuser,
            group_ids,
            restrictions: first
                .restrictions
                .as_deref()
                .map(Restrictions::from_db)
                .filter(Restrictions::restricts)
                .map(Arc::new),
        })
    }
}

pub const KEY_AUTH_SQL: &str = "SELECT k.id AS key_id, k.user_id, k.key_hash, k.expires_at,
        k.previous_key_valid_until, u.is_active, u.is_superuser, m.group_id, k.restrictions
     FROM api_key k
     JOIN core_user u ON u.id = k.user_id
     LEFT JOIN permissions_group_membership m ON m.user_id = k.user_id
     WHERE k.key_hash = $1 OR k.previous_key_hash = $1";

/// Forward-only: the newer of the stored and the given value wins; `updated_at` is untouched.
pub const KEY_TOUCH_SQL: &str = "UPDATE api_key SET last_used_at = $1
     WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)";

/// A key as the API shows it, with its reported group and its last editor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub user_id: i64,
    pub key_prefix: String,
    pub previous_key_prefix: Option<String>,
    pub previous_key_valid_until: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by_id: i64,
    pub updated_by_email: String,
    pub updated_by_first_name: Option<String>,
    pub updated_by_last_name: Option<String>,
    pub group_id: i64,
    pub group_name: String,
    /// The stored canonical JSON object, or `None`.
    pub restrictions: Option<String>,
}

/// Joins rather than a correlated subquery: a key user has at most one membership besides All
/// Users (the membership API refuses more), so each key yields exactly one row, and listing
/// 100,000 keys stays a single indexed pass.
pub const API_KEY_SELECT: &str = "SELECT k.id, k.name, k.user_id, k.key_prefix,
        k.previous_key_prefix, k.previous_key_valid_until, k.expires_at, k.last_used_at,
        k.created_at, k.updated_at, k.updated_by_id, ub.email AS updated_by_email,
        ub.first_name AS updated_by_first_name, ub.last_name AS updated_by_last_name,
        g.id AS group_id, g.name AS group_name, k.restrictions
    FROM api_key k
    JOIN core_user ub ON ub.id = k.updated_by_id
    LEFT JOIN permissions_group_membership m ON m.user_id = k.user_id AND m.group_id <> 1
    JOIN permissions_group g ON g.id = coalesce(m.group_id, 1)";

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub user_id: i64,
    pub key_hash: Vec<u8>,
    pub key_prefix: String,
    pub expires_at: Option<i64>,
    /// The canonical JSON object ([`Restrictions::to_db`]), or `None`.
    pub restrictions: Option<String>,
    pub creator_id: i64,
    pub now: i64,
}

/// The editable columns of a key (`PUT /api/api-key/:id`).
#[derive(Debug, Clone)]
pub struct KeyFields<'a> {
    pub name: &'a str,
    pub expires_at: Option<i64>,
    pub restrictions: Option<&'a str>,
    pub updated_by_id: i64,
    pub now: i64,
}

/// A regenerate: the new secret, and what becomes of the old one.
#[derive(Debug, Clone)]
pub struct KeyRotation {
    pub key_hash: Vec<u8>,
    pub key_prefix: String,
    /// `Some(until)` only with a grace period: the current secret (digest and prefix, copied by
    /// the statement itself, so the old digest never leaves the database) becomes the retired
    /// secret until then. `None`: the current secret and any earlier retired one die at once.
    pub previous_valid_until: Option<i64>,
    pub updated_by_id: i64,
    pub now: i64,
}

#[async_trait]
pub trait ApiKeyTx {
    async fn api_key_insert(&mut self, k: &NewApiKey) -> StoreResult<i64>;
    async fn api_key_get(&mut self, id: i64) -> StoreResult<Option<ApiKeyRow>>;
    /// Every key for `GET /api/api-key`, ordered by id.
    async fn api_key_list(&mut self) -> StoreResult<super::list_store::KeyList>;
    async fn api_key_count(&mut self) -> StoreResult<i64>;
    async fn api_key_id_by_name(&mut self, name: &str) -> StoreResult<Option<i64>>;
    async fn api_key_id_by_user(&mut self, user_id: i64) -> StoreResult<Option<i64>>;
    /// Is the prefix used by a current secret, or by a retired one still in its grace period?
    async fn api_key_prefix_taken(&mut self, prefix: &str, now: i64) -> StoreResult<bool>;
    async fn api_key_set_fields(&mut self, id: i64, f: &KeyFields<'_>) -> StoreResult<()>;
    async fn api_key_rotate(&mut self, id: i64, r: &KeyRotation) -> StoreResult<()>;
    async fn api_key_delete(&mut self, id: i64) -> StoreResult<()>;
}

#[macro_export]
macro_rules! impl_api_key_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::api_keys::store::ApiKeyTx for $t {
            async fn api_key_insert(
                &mut self,
                k: &$crate::api_keys::store::NewApiKey,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO api_key (name, user_id, key_hash, key_prefix, expires_at,
                        creator_id, updated_by_id, created_at, updated_at, restrictions)
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7, $8) RETURNING id",
                )
                .bind(&k.name)
                .bind(k.user_id)
                .bind(&k.key_hash)
                .bind(&k.key_prefix)
                .bind(k.expires_at)
                .bind(k.creator_id)
                .bind(k.now)
                .bind(&k.restrictions)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn api_key_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::api_keys::store::ApiKeyRow>> {
                use $crate::api_keys::store::API_KEY_SELECT;
                Ok(sqlx::query_as(&format!("{API_KEY_SELECT} WHERE k.id = $1"))
                    .bind(id)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn api_key_list(
                &mut self,
            ) -> $crate::store::StoreResult<$crate::api_keys::list_store::KeyList> {
                use $crate::api_keys::list_store::{
                    unpack, KeyList, KEY_LIST_GROUPS_SQL, KEY_LIST_RESTRICTIONS_SQL, KEY_LIST_SQL,
                    KEY_LIST_UPDATERS_SQL,
                };
                let (packed,): (Option<String>,) = sqlx::query_as(KEY_LIST_SQL)
                    .fetch_one(self.conn())
                    .await?;
                let rows = unpack(packed.as_deref().unwrap_or("")).ok_or_else(|| {
                    $crate::store::StoreError::Other("unreadable API key list".into())
                })?;
                let groups = sqlx::query_as(KEY_LIST_GROUPS_SQL)
                    .fetch_all(self.conn())
                    .await?;
                let updaters = sqlx::query_as(KEY_LIST_UPDATERS_SQL)
                    .fetch_all(self.conn())
                    .await?;
                let restrictions = sqlx::query_as(KEY_LIST_RESTRICTIONS_SQL)
                    .fetch_all(self.conn())
                    .await?;
                Ok(KeyList {
                    rows,
                    groups,
                    updaters,
                    restrictions,
                })
            }

            async fn api_key_count(&mut self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM api_key")
                    .fetch_one(self.conn())
                    .await?;
                Ok(n)
            }

            async fn api_key_id_by_name(
                &mut self,
                name: &str,
            ) -> $crate::store::StoreResult<Option<i64>> {
                let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM api_key WHERE name = $1")
                    .bind(name)
                    .fetch_optional(self.conn())
                    .await?;
                Ok(row.map(|r| r.0))
            }

            async fn api_key_id_by_user(
                &mut self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Option<i64>> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM api_key WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(self.conn())
                        .await?;
                Ok(row.map(|r| r.0))
            }

            async fn api_key_prefix_taken(
                &mut self,
                prefix: &str,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM api_key WHERE key_prefix = $1
                        OR (previous_key_prefix = $1 AND previous_key_valid_until > $2)",
                )
                .bind(prefix)
                .bind(now)
                .fetch_one(self.conn())
                .await?;
                Ok(n > 0)
            }

            async fn api_key_set_fields(
                &mut self,
                id: i64,
                f: &$crate::api_keys::store::KeyFields<'_>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE api_key SET name = $1, expires_at = $2, updated_by_id = $3,
                        updated_at = $4, restrictions = $5 WHERE id = $6",
                )
                .bind(f.name)
                .bind(f.expires_at)
                .bind(f.updated_by_id)
                .bind(f.now)
                .bind(f.restrictions)
                .bind(id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn api_key_rotate(
                &mut self,
                id: i64,
                r: &$crate::api_keys::store::KeyRotation,
            ) -> $crate::store::StoreResult<()> {
                // Every right-hand side sees the row as it was before the UPDATE (SQL semantics
                // on both backends), so `key_hash` here is the secret being retired.
                sqlx::query(
                    "UPDATE api_key SET
                        previous_key_hash = CASE WHEN $3 IS NULL THEN NULL ELSE key_hash END,
                        previous_key_prefix = CASE WHEN $3 IS NULL THEN NULL ELSE key_prefix END,
                        previous_key_valid_until = $3,
                        key_hash = $1, key_prefix = $2, updated_by_id = $4, updated_at = $5
                     WHERE id = $6",
                )
                .bind(&r.key_hash)
                .bind(&r.key_prefix)
                .bind(r.previous_valid_until)
                .bind(r.updated_by_id)
                .bind(r.now)
                .bind(id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn api_key_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM api_key WHERE id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }
        }
    };
}
