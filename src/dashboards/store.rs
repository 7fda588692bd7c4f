//! Storage of dashboards (`report_dashboard`) and of what follows a dashboard: its questions'
//! flags and collection. Tabs and dashcards: [`super::layout_store`].
use async_trait::async_trait;

use crate::store::StoreResult;

/// Every stored column of a dashboard.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DashboardRow {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    pub collection_id: Option<i64>,
    pub collection_position: Option<i64>,
    pub parameters: String,
    pub width: String,
    pub auto_apply_filters: bool,
    pub cache_ttl: Option<i64>,
    pub position: Option<i64>,
    pub caveats: Option<String>,
    pub points_of_interest: Option<String>,
    pub archived: bool,
    pub archived_directly: bool,
    pub creator_id: i64,
    pub last_editor_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait DashboardTx {
    async fn dashboard_get(&mut self, id: i64) -> StoreResult<Option<DashboardRow>>;
    async fn dashboard_get_by_entity_id(&mut self, eid: &str) -> StoreResult<Option<DashboardRow>>;
    /// Every dashboard (the service filters by permission and sorts).
    async fn dashboard_list(&mut self) -> StoreResult<Vec<DashboardRow>>;
    /// Inserts `d` (its `id` is ignored) and returns the new id.
    async fn dashboard_insert(&mut self, d: &DashboardRow) -> StoreResult<i64>;
    /// Writes every column of `d` except `id`, `entity_id`, `creator_id` and `created_at`.
    async fn dashboard_update(&mut self, d: &DashboardRow) -> StoreResult<()>;
    /// Deletes the dashboard with its dashcards and tabs; its dashboard questions go with it
    /// (`report_card.dashboard_id` cascades).
    async fn dashboard_delete(&mut self, id: i64) -> StoreResult<()>;
    /// Shifts pinned positions ≥ `from` in a collection up by one, for cards and for
    /// dashboards other than `except_dashboard`.
    async fn dashboard_shift_positions(
        &mut self,
        collection_id: Option<i64>,
        from: i64,
        except_dashboard: i64,
    ) -> StoreResult<()>;
    /// Ids of the dashboard questions (cards whose `dashboard_id` is the dashboard).
    async fn dashboard_question_ids(&mut self, dashboard_id: i64) -> StoreResult<Vec<i64>>;
    /// Archives (`true`) the live dashboard questions with their dashboard, or restores
    /// (`false`) those archived with it (content.md §4.2).
    async fn dashboard_questions_archive(
        &mut self,
        dashboard_id: i64,
        archived: bool,
        now: i64,
    ) -> StoreResult<()>;
    /// Moves the dashboard questions into the dashboard's collection.
    async fn dashboard_questions_move(
        &mut self,
        dashboard_id: i64,
        collection_id: Option<i64>,
        now: i64,
    ) -> StoreResult<()>;
}

const DASHBOARD_COLUMNS: &str = "id, entity_id, name, description, collection_id, \
    collection_position, parameters, width, auto_apply_filters, cache_ttl, position, caveats, \
    points_of_interest, archived, archived_directly, creator_id, last_editor_id, created_at, \
    updated_at";

pub fn dashboard_select(filter: &str) -> String {
    format!("SELECT {DASHBOARD_COLUMNS} FROM report_dashboard {filter}")
}

#[macro_export]
macro_rules! impl_dashboard_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::dashboards::store::DashboardTx for $t {
            async fn dashboard_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::dashboards::store::DashboardRow>> {
                let sql = $crate::dashboards::store::dashboard_select("WHERE id = $1");
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
            }

            async fn dashboard_get_by_entity_id(
                &mut self,
                eid: &str,
            ) -> $crate::store::StoreResult<Option<$crate::dashboards::store::DashboardRow>> {
                let sql = $crate::dashboards::store::dashboard_select("WHERE entity_id = $1");
                Ok(sqlx::query_as(&sql).bind(eid).fetch_optional(self.conn()).await?)
            }

            async fn dashboard_list(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::dashboards::store::DashboardRow>> {
                let sql = $crate::dashboards::store::dashboard_select("");
                Ok(sqlx::query_as(&sql).fetch_all(self.conn()).await?)
            }

            async fn dashboard_insert(
                &mut self,
                d: &$crate::dashboards::store::DashboardRow,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO report_dashboard (entity_id, name, description, collection_id, \
                     collection_position, parameters, width, auto_apply_filters, cache_ttl, \
                     position, caveats, points_of_interest, archived, archived_directly, \
                     creator_id, last_editor_id, created_at, updated_at) VALUES ($1, $2, $3, \
                     $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
                     RETURNING id",
                )
                .bind(&d.entity_id)
                .bind(&d.name)
                .bind(&d.description)
                .bind(d.collection_id)
                .bind(d.collection_position)
                .bind(&d.parameters)
                .bind(&d.width)
                .bind(d.auto_apply_filters)
                .bind(d.cache_ttl)
                .bind(d.position)
                .bind(&d.caveats)
                .bind(&d.points_of_interest)
                .bind(d.archived)
                .bind(d.archived_directly)
                .bind(d.creator_id)
                .bind(d.last_editor_id)
                .bind(d.created_at)
                .bind(d.updated_at)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn dashboard_update(
                &mut self,
                d: &$crate::dashboards::store::DashboardRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_dashboard SET name = $2, description = $3, \
                     collection_id = $4, collection_position = $5, parameters = $6, \
                     width = $7, auto_apply_filters = $8, cache_ttl = $9, position = $10, \
                     caveats = $11, points_of_interest = $12, archived = $13, \
                     archived_directly = $14, last_editor_id = $15, updated_at = $16 \
                     WHERE id = $1",
                )
                .bind(d.id)
                .bind(&d.name)
                .bind(&d.description)
                .bind(d.collection_id)
                .bind(d.collection_position)
                .bind(&d.parameters)
                .bind(&d.width)
                .bind(d.auto_apply_filters)
                .bind(d.cache_ttl)
                .bind(d.position)
                .bind(&d.caveats)
                .bind(&d.points_of_interest)
                .bind(d.archived)
                .bind(d.archived_directly)
                .bind(d.last_editor_id)
                .bind(d.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn dashboard_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                for sql in [
                    "DELETE FROM report_dashboardcard WHERE dashboard_id = $1",
                    "UPDATE report_card SET dashboard_tab_id = NULL WHERE dashboard_tab_id IN \
                     (SELECT id FROM dashboard_tab WHERE dashboard_id = $1)",
                    "DELETE FROM dashboard_tab WHERE dashboard_id = $1",
                    "DELETE FROM report_dashboard WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(id).execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn dashboard_shift_positions(
                &mut self,
                collection_id: Option<i64>,
                from: i64,
                except_dashboard: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_card SET collection_position = collection_position + 1 \
                     WHERE collection_id IS NOT DISTINCT FROM $1 AND collection_position >= $2",
                )
                .bind(collection_id)
                .bind(from)
                .execute(self.conn())
                .await?;
                sqlx::query(
                    "UPDATE report_dashboard SET collection_position = collection_position + 1 \
                     WHERE collection_id IS NOT DISTINCT FROM $1 AND collection_position >= $2 \
                     AND id <> $3",
                )
                .bind(collection_id)
                .bind(from)
                .bind(except_dashboard)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn dashboard_question_ids(
                &mut self,
                dashboard_id: i64,
            ) -> $crate::store::StoreResult<Vec<i64>> {
                let rows: Vec<(i64,)> =
                    sqlx::query_as("SELECT id FROM report_card WHERE dashboard_id = $1")
                        .bind(dashboard_id)
                        .fetch_all(self.conn())
                        .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn dashboard_questions_archive(
                &mut self,
                dashboard_id: i64,
                archived: bool,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_card SET archived = $1, archived_directly = FALSE, \
                     updated_at = $2 WHERE dashboard_id = $3 AND archived <> $1 \
                     AND archived_directly = FALSE",
                )
                .bind(archived)
                .bind(now)
                .bind(dashboard_id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn dashboard_questions_move(
                &mut self,
                dashboard_id: i64,
                collection_id: Option<i64>,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_card SET collection_id = $1, updated_at = $2 \
                     WHERE dashboard_id = $3 AND collection_id IS DISTINCT FROM $1",
                )
                .bind(collection_id)
                .bind(now)
                .bind(dashboard_id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

        }
    };
}
