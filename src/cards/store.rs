//! Storage of cards (`report_card`) and the content counts of `GET /api/user/current`.
use async_trait::async_trait;

use crate::store::StoreResult;

/// Every stored column of a card. JSON-valued columns hold serialized JSON text.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CardRow {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    #[sqlx(rename = "type")]
    pub card_type: String,
    pub display: String,
    pub dataset_query: String,
    pub query_type: Option<String>,
    pub database_id: Option<i64>,
    pub table_id: Option<i64>,
    pub visualization_settings: String,
    pub parameters: String,
    pub parameter_mappings: String,
    pub result_metadata: Option<String>,
    pub collection_id: Option<i64>,
    pub collection_position: Option<i64>,
    pub collection_preview: bool,
    pub dashboard_id: Option<i64>,
    pub dashboard_tab_id: Option<i64>,
    pub cache_ttl: Option<i64>,
    pub archived: bool,
    pub archived_directly: bool,
    pub creator_id: i64,
    pub last_editor_id: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A collection as far as cards need it: existence and the archived flag.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollectionBrief {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    pub location: String,
    pub personal_owner_id: Option<i64>,
    pub archived: bool,
    #[sqlx(rename = "type")]
    pub coll_type: Option<String>,
    pub created_at: i64,
}

impl CollectionBrief {
    pub fn is_trash(&self) -> bool {
        self.coll_type.as_deref() == Some("trash")
    }
}

#[async_trait]
pub trait CardTx {
    async fn card_get(&mut self, id: i64) -> StoreResult<Option<CardRow>>;
    async fn card_get_by_entity_id(&mut self, entity_id: &str) -> StoreResult<Option<CardRow>>;
    /// Every card (the service filters by permission and sorts).
    async fn card_list(&mut self) -> StoreResult<Vec<CardRow>>;
    /// Inserts `c` (its `id` is ignored) and returns the new id.
    async fn card_insert(&mut self, c: &CardRow) -> StoreResult<i64>;
    /// Writes every column of `c` except `id`, `entity_id`, `creator_id` and `created_at`.
    async fn card_update(&mut self, c: &CardRow) -> StoreResult<()>;
    async fn card_delete(&mut self, id: i64) -> StoreResult<()>;
    /// Shifts the pinned positions ≥ `from` in a collection up by one (cards and dashboards).
    async fn content_shift_positions(
        &mut self,
        collection_id: Option<i64>,
        from: i64,
        except_card: i64,
    ) -> StoreResult<()>;
    async fn content_collection(&mut self, id: i64) -> StoreResult<Option<CollectionBrief>>;
    /// The id of the Trash collection.
    async fn content_trash_id(&mut self) -> StoreResult<Option<i64>>;
    /// (collection_id, archived) of a dashboard.
    async fn content_dashboard(&mut self, id: i64) -> StoreResult<Option<(Option<i64>, bool)>>;
    /// Dashboards with a dashcard or a series entry for the card.
    async fn card_dashboard_count(&mut self, card_id: i64) -> StoreResult<i64>;
}

const CARD_COLUMNS: &str = "id, entity_id, name, description, type, display, dataset_query, \
    query_type, database_id, table_id, visualization_settings, parameters, parameter_mappings, \
    result_metadata, collection_id, collection_position, collection_preview, dashboard_id, \
    dashboard_tab_id, cache_ttl, archived, archived_directly, creator_id, last_editor_id, \
    last_used_at, created_at, updated_at";

pub fn card_select(filter: &str) -> String {
    format!("SELECT {CARD_COLUMNS} FROM report_card {filter}")
}

#[macro_export]
macro_rules! impl_card_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::cards::store::CardTx for $t {
            async fn card_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::cards::store::CardRow>> {
                let sql = $crate::cards::store::card_select("WHERE id = $1");
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
            }

            async fn card_get_by_entity_id(
                &mut self,
                entity_id: &str,
            ) -> $crate::store::StoreResult<Option<$crate::cards::store::CardRow>> {
                let sql = $crate::cards::store::card_select("WHERE entity_id = $1");
                Ok(sqlx::query_as(&sql)
                    .bind(entity_id)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn card_list(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::cards::store::CardRow>> {
                let sql = $crate::cards::store::card_select("");
                Ok(sqlx::query_as(&sql).fetch_all(self.conn()).await?)
            }

            async fn card_insert(
                &mut self,
                c: &$crate::cards::store::CardRow,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO report_card (entity_id, name, description, type, display, \
                     dataset_query, query_type, database_id, table_id, visualization_settings, \
                     parameters, parameter_mappings, result_metadata, collection_id, \
                     collection_position, collection_preview, dashboard_id, dashboard_tab_id, \
                     cache_ttl, archived, archived_directly, creator_id, last_editor_id, \
                     last_used_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                     $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
                     $23, $24, $25, $26) RETURNING id",
                )
                .bind(&c.entity_id)
                .bind(&c.name)
                .bind(&c.description)
                .bind(&c.card_type)
                .bind(&c.display)
                .bind(&c.dataset_query)
                .bind(&c.query_type)
                .bind(c.database_id)
                .bind(c.table_id)
                .bind(&c.visualization_settings)
                .bind(&c.parameters)
                .bind(&c.parameter_mappings)
                .bind(&c.result_metadata)
                .bind(c.collection_id)
                .bind(c.collection_position)
                .bind(c.collection_preview)
                .bind(c.dashboard_id)
                .bind(c.dashboard_tab_id)
                .bind(c.cache_ttl)
                .bind(c.archived)
                .bind(c.archived_directly)
                .bind(c.creator_id)
                .bind(c.last_editor_id)
                .bind(c.last_used_at)
                .bind(c.created_at)
                .bind(c.updated_at)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn card_update(
                &mut self,
                c: &$crate::cards::store::CardRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_card SET name = $2, description = $3, type = $4, \
                     display = $5, dataset_query = $6, query_type = $7, database_id = $8, \
                     table_id = $9, visualization_settings = $10, parameters = $11, \
                     parameter_mappings = $12, result_metadata = $13, collection_id = $14, \
                     collection_position = $15, collection_preview = $16, dashboard_id = $17, \
                     dashboard_tab_id = $18, cache_ttl = $19, archived = $20, \
                     archived_directly = $21, last_editor_id = $22, last_used_at = $23, \
                     updated_at = $24 WHERE id = $1",
                )
                .bind(c.id)
                .bind(&c.name)
                .bind(&c.description)
                .bind(&c.card_type)
                .bind(&c.display)
                .bind(&c.dataset_query)
                .bind(&c.query_type)
                .bind(c.database_id)
                .bind(c.table_id)
                .bind(&c.visualization_settings)
                .bind(&c.parameters)
                .bind(&c.parameter_mappings)
                .bind(&c.result_metadata)
                .bind(c.collection_id)
                .bind(c.collection_position)
                .bind(c.collection_preview)
                .bind(c.dashboard_id)
                .bind(c.dashboard_tab_id)
                .bind(c.cache_ttl)
                .bind(c.archived)
                .bind(c.archived_directly)
                .bind(c.last_editor_id)
                .bind(c.last_used_at)
                .bind(c.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn card_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM report_dashboardcard WHERE card_id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                sqlx::query("DELETE FROM report_card WHERE id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn content_shift_positions(
                &mut self,
                collection_id: Option<i64>,
                from: i64,
                except_card: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_card SET collection_position = collection_position + 1 \
                     WHERE collection_id IS NOT DISTINCT FROM $1 AND collection_position >= $2 \
                     AND id <> $3",
                )
                .bind(collection_id)
                .bind(from)
                .bind(except_card)
                .execute(self.conn())
                .await?;
                sqlx::query(
                    "UPDATE report_dashboard SET collection_position = collection_position + 1 \
                     WHERE collection_id IS NOT DISTINCT FROM $1 AND collection_position >= $2",
                )
                .bind(collection_id)
                .bind(from)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn content_collection(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::cards::store::CollectionBrief>> {
                Ok(sqlx::query_as(
                    "SELECT id, entity_id, name, description, location, personal_owner_id, \
                     archived, type, created_at FROM collection WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn content_trash_id(&mut self) -> $crate::store::StoreResult<Option<i64>> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM collection WHERE type = 'trash'")
                        .fetch_optional(self.conn())
                        .await?;
                Ok(row.map(|r| r.0))
            }

            async fn content_dashboard(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<(Option<i64>, bool)>> {
                Ok(sqlx::query_as(
                    "SELECT collection_id, archived FROM report_dashboard WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn card_dashboard_count(
                &mut self,
                card_id: i64,
            ) -> $crate::store::StoreResult<i64> {
                let [a, b, c, d] = $crate::cards::dashboard_link::series_patterns(card_id);
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(DISTINCT dashboard_id) FROM report_dashboardcard \
                     WHERE card_id = $1 OR series = $2 OR series LIKE $3 OR series LIKE $4 \
                     OR series LIKE $5",
                )
                .bind(card_id)
                .bind(a)
                .bind(b)
                .bind(c)
                .bind(d)
                .fetch_one(self.conn())
                .await?;
                Ok(n)
            }
        }
    };
}
