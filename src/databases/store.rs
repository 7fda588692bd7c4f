//! Storage of the database registry (`metabase_database`).
use async_trait::async_trait;

use crate::store::StoreResult;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DatabaseRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub engine: String,
    pub details: String,
    pub is_sample: bool,
    pub auto_run_queries: bool,
    pub cache_ttl: Option<i64>,
    pub creator_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A database's sync progress (§2.10), as stored.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct SyncStatusRow {
    pub initial_sync_status: String,
    pub sync_state: String,
    pub sync_last_started_at: Option<i64>,
    pub sync_last_finished_at: Option<i64>,
    pub sync_last_succeeded_at: Option<i64>,
    pub sync_last_error: Option<String>,
}

#[async_trait]
pub trait DatabaseTx {
    async fn database_get(&mut self, id: i64) -> StoreResult<Option<DatabaseRow>>;
    /// Every database (the service sorts and filters them).
    async fn database_list(&mut self) -> StoreResult<Vec<DatabaseRow>>;
    async fn database_get_by_name(&mut self, name: &str) -> StoreResult<Option<DatabaseRow>>;
    /// Inserts `d` (with its `id` when `Some`, as for the Sample Database) and returns the id.
    async fn database_insert(&mut self, d: &DatabaseRow, id: Option<i64>) -> StoreResult<i64>;
    /// Writes every column of `d` except `id`, `creator_id` and `created_at`.
    async fn database_update(&mut self, d: &DatabaseRow) -> StoreResult<()>;
    async fn database_delete(&mut self, id: i64) -> StoreResult<()>;
    /// The ids of the cards whose `database_id` is `id`.
    async fn database_card_ids(&mut self, id: i64) -> StoreResult<Vec<i64>>;
    /// Sets a card's `last_used_at` without touching `updated_at` (queries.md §5).
    async fn card_touch_last_used(&mut self, card_id: i64, at: i64) -> StoreResult<()>;
    /// A database's sync progress (data-model.md §2.10).
    async fn database_sync_status(&mut self, id: i64) -> StoreResult<Option<SyncStatusRow>>;
    /// Every database's sync progress, by id.
    async fn database_sync_statuses(&mut self) -> StoreResult<Vec<(i64, SyncStatusRow)>>;
    async fn database_sync_status_put(&mut self, id: i64, s: &SyncStatusRow) -> StoreResult<()>;
}

pub const DATABASE_COLUMNS: &str = "id, name, description, engine, details, is_sample, \
    auto_run_queries, cache_ttl, creator_id, created_at, updated_at";

#[macro_export]
macro_rules! impl_database_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::databases::store::DatabaseTx for $t {
            async fn database_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::databases::store::DatabaseRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, name, description, engine, details, is_sample, auto_run_queries, \
                     cache_ttl, creator_id, created_at, updated_at \
                     FROM metabase_database WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn database_list(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::databases::store::DatabaseRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, name, description, engine, details, is_sample, auto_run_queries, \
                     cache_ttl, creator_id, created_at, updated_at FROM metabase_database",
                )
                .fetch_all(self.conn())
                .await?)
            }

            async fn database_get_by_name(
                &mut self,
                name: &str,
            ) -> $crate::store::StoreResult<Option<$crate::databases::store::DatabaseRow>> {
                let sql = format!(
                    "SELECT {} FROM metabase_database WHERE name = $1",
                    $crate::databases::store::DATABASE_COLUMNS
                );
                Ok(sqlx::query_as(&sql)
                    .bind(name)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn database_insert(
                &mut self,
                d: &$crate::databases::store::DatabaseRow,
                id: Option<i64>,
            ) -> $crate::store::StoreResult<i64> {
                let cols = "name, description, engine, details, is_sample, auto_run_queries, \
                     cache_ttl, creator_id, created_at, updated_at";
                let q = match id {
                    Some(_) => format!(
                        "INSERT INTO metabase_database (id, {cols}) VALUES ($11, $1, $2, $3, $4, \
                         $5, $6, $7, $8, $9, $10) RETURNING id"
                    ),
                    None => format!(
                        "INSERT INTO metabase_database ({cols}) VALUES ($1, $2, $3, $4, $5, $6, \
                         $7, $8, $9, $10) RETURNING id"
                    ),
                };
                let mut query = sqlx::query_scalar(&q)
                    .bind(&d.name)
                    .bind(&d.description)
                    .bind(&d.engine)
                    .bind(&d.details)
                    .bind(d.is_sample)
                    .bind(d.auto_run_queries)
                    .bind(d.cache_ttl)
                    .bind(d.creator_id)
                    .bind(d.created_at)
                    .bind(d.updated_at);
                if let Some(id) = id {
                    query = query.bind(id);
                }
                let new_id = query.fetch_one(self.conn()).await?;
                if id.is_some() {
                    self.id_inserted("metabase_database").await?;
                }
                Ok(new_id)
            }

            async fn database_update(
                &mut self,
                d: &$crate::databases::store::DatabaseRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE metabase_database SET name = $2, description = $3, engine = $4, \
                     details = $5, is_sample = $6, auto_run_queries = $7, cache_ttl = $8, \
                     updated_at = $9 WHERE id = $1",
                )
                .bind(d.id)
                .bind(&d.name)
                .bind(&d.description)
                .bind(&d.engine)
                .bind(&d.details)
                .bind(d.is_sample)
                .bind(d.auto_run_queries)
                .bind(d.cache_ttl)
                .bind(d.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn database_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM metabase_database WHERE id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn database_card_ids(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar("SELECT id FROM report_card WHERE database_id = $1")
                    .bind(id)
                    .fetch_all(self.conn())
                    .await?)
            }

            async fn card_touch_last_used(
                &mut self,
                card_id: i64,
                at: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE report_card SET last_used_at = $2 WHERE id = $1")
                    .bind(card_id)
                    .bind(at)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }
            async fn database_sync_status(
                &mut self,
                db_id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::databases::store::SyncStatusRow>>
            {
                Ok(sqlx::query_as(
                    "SELECT initial_sync_status, sync_state, sync_last_started_at, \
                     sync_last_finished_at, sync_last_succeeded_at, sync_last_error \
                     FROM metabase_database WHERE id = $1",
                )
                .bind(db_id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn database_sync_status_put(
                &mut self,
                db_id: i64,
                s: &$crate::databases::store::SyncStatusRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE metabase_database SET initial_sync_status = $2, sync_state = $3, \
                     sync_last_started_at = $4, sync_last_finished_at = $5, \
                     sync_last_succeeded_at = $6, sync_last_error = $7 WHERE id = $1",
                )
                .bind(db_id)
                .bind(&s.initial_sync_status)
                .bind(&s.sync_state)
                .bind(s.sync_last_started_at)
                .bind(s.sync_last_finished_at)
                .bind(s.sync_last_succeeded_at)
                .bind(&s.sync_last_error)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn database_sync_statuses(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<(i64, $crate::databases::store::SyncStatusRow)>>
            {
                let rows: Vec<(i64, String, String, Option<i64>, Option<i64>, Option<i64>, Option<String>)> =
                    sqlx::query_as(
                        "SELECT id, initial_sync_status, sync_state, sync_last_started_at, \
                         sync_last_finished_at, sync_last_succeeded_at, sync_last_error \
                         FROM metabase_database",
                    )
                    .fetch_all(self.conn())
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, initial, state, started, finished, succeeded, error)| {
                        (
                            id,
                            $crate::databases::store::SyncStatusRow {
                                initial_sync_status: initial,
                                sync_state: state,
                                sync_last_started_at: started,
                                sync_last_finished_at: finished,
                                sync_last_succeeded_at: succeeded,
                                sync_last_error: error,
                            },
                        )
                    })
                    .collect())
            }
        }
    };
}
