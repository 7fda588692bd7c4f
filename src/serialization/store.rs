//! Storage for import (serialization.md §5.2): whole-row writes of databases, collections, cards
//! and dashboards, including the columns the API never lets a client set (`created_at`,
//! `creator_id`, `entity_id`).
use async_trait::async_trait;

use crate::collections::store::CollectionRow;
use crate::databases::store::DatabaseRow;
use crate::store::StoreResult;

#[async_trait]
pub trait SerdesTx {
    /// The oldest active superuser (a person), the creator of CLI-imported objects.
    async fn serdes_oldest_admin(&mut self) -> StoreResult<Option<i64>>;
    /// Writes every column of `d` except `id`, `name`, `is_sample` and `creator_id` (a local
    /// database keeps its identity, sample flag and creator whatever the archive says).
    async fn serdes_database_update(&mut self, d: &DatabaseRow) -> StoreResult<()>;
    /// Inserts `c` (its `id` is ignored) and returns the new id.
    async fn serdes_collection_insert(&mut self, c: &CollectionRow) -> StoreResult<i64>;
    /// Writes every column of `c` except `id`.
    async fn serdes_collection_update(&mut self, c: &CollectionRow) -> StoreResult<()>;
    /// Writes `created_at` and `creator_id` of a card (the rest goes through `card_update`).
    async fn serdes_card_origin(
        &mut self,
        id: i64,
        created_at: i64,
        creator: i64,
    ) -> StoreResult<()>;
    /// Places dashboard question `id` on tab `tab` of its dashboard.
    async fn serdes_card_tab(&mut self, id: i64, tab: i64) -> StoreResult<()>;
    /// Writes `created_at` and `creator_id` of a dashboard.
    async fn serdes_dashboard_origin(
        &mut self,
        id: i64,
        created_at: i64,
        creator: i64,
    ) -> StoreResult<()>;
}

#[macro_export]
macro_rules! impl_serdes_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::serialization::store::SerdesTx for $t {
            async fn serdes_oldest_admin(&mut self) -> $crate::store::StoreResult<Option<i64>> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM core_user WHERE is_superuser AND is_active \
                     AND type = 'personal' ORDER BY date_joined, id LIMIT 1",
                )
                .fetch_optional(self.conn())
                .await?;
                Ok(row.map(|r| r.0))
            }

            async fn serdes_database_update(
                &mut self,
                d: &$crate::databases::store::DatabaseRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE metabase_database SET description = $2, engine = $3, details = $4, \
                     auto_run_queries = $5, cache_ttl = $6, created_at = $7, updated_at = $8 \
                     WHERE id = $1",
                )
                .bind(d.id)
                .bind(&d.description)
                .bind(&d.engine)
                .bind(&d.details)
                .bind(d.auto_run_queries)
                .bind(d.cache_ttl)
                .bind(d.created_at)
                .bind(d.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn serdes_collection_insert(
                &mut self,
                c: &$crate::collections::store::CollectionRow,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO collection (entity_id, name, description, location, \
                     personal_owner_id, namespace, type, authority_level, archived, \
                     archived_directly, archive_operation_id, is_sample, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     RETURNING id",
                )
                .bind(&c.entity_id)
                .bind(&c.name)
                .bind(&c.description)
                .bind(&c.location)
                .bind(c.personal_owner_id)
                .bind(&c.namespace)
                .bind(&c.kind)
                .bind(&c.authority_level)
                .bind(c.archived)
                .bind(c.archived_directly)
                .bind(&c.archive_operation_id)
                .bind(c.is_sample)
                .bind(c.created_at)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn serdes_collection_update(
                &mut self,
                c: &$crate::collections::store::CollectionRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE collection SET entity_id = $2, name = $3, description = $4, \
                     location = $5, personal_owner_id = $6, namespace = $7, type = $8, \
                     authority_level = $9, archived = $10, archived_directly = $11, \
                     archive_operation_id = $12, is_sample = $13, created_at = $14 WHERE id = $1",
                )
                .bind(c.id)
                .bind(&c.entity_id)
                .bind(&c.name)
                .bind(&c.description)
                .bind(&c.location)
                .bind(c.personal_owner_id)
                .bind(&c.namespace)
                .bind(&c.kind)
                .bind(&c.authority_level)
                .bind(c.archived)
                .bind(c.archived_directly)
                .bind(&c.archive_operation_id)
                .bind(c.is_sample)
                .bind(c.created_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn serdes_card_origin(
                &mut self,
                id: i64,
                created_at: i64,
                creator: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE report_card SET created_at = $2, creator_id = $3 WHERE id = $1")
                    .bind(id)
                    .bind(created_at)
                    .bind(creator)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn serdes_card_tab(
                &mut self,
                id: i64,
                tab: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE report_card SET dashboard_tab_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(tab)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn serdes_dashboard_origin(
                &mut self,
                id: i64,
                created_at: i64,
                creator: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_dashboard SET created_at = $2, creator_id = $3 WHERE id = $1",
                )
                .bind(id)
                .bind(created_at)
                .bind(creator)
                .execute(self.conn())
                .await?;
                Ok(())
            }
        }
    };
}
