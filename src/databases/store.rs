//! Storage of the database registry (`metabase_database`).
use async_trait::async_trait;

use crate::store::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
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

#[async_trait]
pub trait DatabaseTx {
    async fn database_get(&mut self, id: i64) -> StoreResult<Option<DatabaseRow>>;
    /// Every database (the service sorts and filters them).
    async fn database_list(&mut self) -> StoreResult<Vec<DatabaseRow>>;
}

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
        }
    };
}
