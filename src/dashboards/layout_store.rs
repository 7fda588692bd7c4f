//! Storage of dashboard tabs (`dashboard_tab`) and dashcards (`report_dashboardcard`).
//! JSON-valued columns hold serialized JSON text; a dashcard's `series` is always the compact
//! text of an array of card ids (`[3,5]`), which lets a card be found in it with `LIKE`.
use async_trait::async_trait;

use crate::cards::dashboard_link::series_ids;
pub use crate::cards::dashboard_link::{series_patterns, series_text};
use crate::store::StoreResult;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TabRow {
    pub id: i64,
    pub entity_id: String,
    pub dashboard_id: i64,
    pub name: String,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DashcardRow {
    pub id: i64,
    pub entity_id: String,
    pub dashboard_id: i64,
    pub dashboard_tab_id: Option<i64>,
    pub card_id: Option<i64>,
    pub row: i64,
    pub col: i64,
    pub size_x: i64,
    pub size_y: i64,
    pub parameter_mappings: String,
    pub visualization_settings: String,
    pub inline_parameters: String,
    pub series: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DashcardRow {
    /// The card ids of `series` (unparseable text reads as empty).
    pub fn series_ids(&self) -> Vec<i64> {
        series_ids(&self.series)
    }
}

#[async_trait]
pub trait LayoutTx {
    async fn tab_list(&mut self, dashboard_id: i64) -> StoreResult<Vec<TabRow>>;
    async fn tab_get(&mut self, id: i64) -> StoreResult<Option<TabRow>>;
    async fn tab_entity_id_used(&mut self, eid: &str) -> StoreResult<bool>;
    async fn tab_insert(&mut self, t: &TabRow) -> StoreResult<i64>;
    /// Writes `name`, `position` and `updated_at`.
    async fn tab_update(&mut self, t: &TabRow) -> StoreResult<()>;
    /// Deletes a tab and its dashcards.
    async fn tab_delete(&mut self, id: i64) -> StoreResult<()>;

    /// Every dashcard of a dashboard, ordered by id.
    async fn dashcard_list(&mut self, dashboard_id: i64) -> StoreResult<Vec<DashcardRow>>;
    async fn dashcard_entity_id_used(&mut self, eid: &str) -> StoreResult<bool>;
    async fn dashcard_insert(&mut self, d: &DashcardRow) -> StoreResult<i64>;
    /// Writes every column except `id`, `entity_id`, `dashboard_id` and `created_at`.
    async fn dashcard_update(&mut self, d: &DashcardRow) -> StoreResult<()>;
    async fn dashcard_delete(&mut self, id: i64) -> StoreResult<()>;
    /// Dashcards (of any dashboard) whose series contains the card.
    async fn dashcards_with_series_card(&mut self, card_id: i64) -> StoreResult<Vec<DashcardRow>>;
}

const TAB_COLUMNS: &str = "id, entity_id, dashboard_id, name, position, created_at, updated_at";

const DASHCARD_COLUMNS: &str = "id, entity_id, dashboard_id, dashboard_tab_id, card_id, \
    \"row\", col, size_x, size_y, parameter_mappings, visualization_settings, inline_parameters, \
    series, created_at, updated_at";

pub fn tab_select(filter: &str) -> String {
    format!("SELECT {TAB_COLUMNS} FROM dashboard_tab {filter}")
}

pub fn dashcard_select(filter: &str) -> String {
    format!("SELECT {DASHCARD_COLUMNS} FROM report_dashboardcard {filter}")
}

#[macro_export]
macro_rules! impl_layout_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::dashboards::layout_store::LayoutTx for $t {
            async fn tab_list(
                &mut self,
                dashboard_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::dashboards::layout_store::TabRow>> {
                let sql = $crate::dashboards::layout_store::tab_select(
                    "WHERE dashboard_id = $1 ORDER BY position, id",
                );
                Ok(sqlx::query_as(&sql)
                    .bind(dashboard_id)
                    .fetch_all(self.conn())
                    .await?)
            }

            async fn tab_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::dashboards::layout_store::TabRow>> {
                let sql = $crate::dashboards::layout_store::tab_select("WHERE id = $1");
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
            }

            async fn tab_entity_id_used(&mut self, eid: &str) -> $crate::store::StoreResult<bool> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM dashboard_tab WHERE entity_id = $1")
                        .bind(eid)
                        .fetch_optional(self.conn())
                        .await?;
                Ok(row.is_some())
            }

            async fn tab_insert(
                &mut self,
                t: &$crate::dashboards::layout_store::TabRow,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO dashboard_tab (entity_id, dashboard_id, name, position, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&t.entity_id)
                .bind(t.dashboard_id)
                .bind(&t.name)
                .bind(t.position)
                .bind(t.created_at)
                .bind(t.updated_at)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn tab_update(
                &mut self,
                t: &$crate::dashboards::layout_store::TabRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE dashboard_tab SET name = $2, position = $3, updated_at = $4 \
                     WHERE id = $1",
                )
                .bind(t.id)
                .bind(&t.name)
                .bind(t.position)
                .bind(t.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn tab_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                for sql in [
                    "DELETE FROM report_dashboardcard WHERE dashboard_tab_id = $1",
                    "UPDATE report_card SET dashboard_tab_id = NULL WHERE dashboard_tab_id = $1",
                    "DELETE FROM dashboard_tab WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(id).execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn dashcard_list(
                &mut self,
                dashboard_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::dashboards::layout_store::DashcardRow>> {
                let sql = $crate::dashboards::layout_store::dashcard_select(
                    "WHERE dashboard_id = $1 ORDER BY id",
                );
                Ok(sqlx::query_as(&sql)
                    .bind(dashboard_id)
                    .fetch_all(self.conn())
                    .await?)
            }

            async fn dashcard_entity_id_used(
                &mut self,
                eid: &str,
            ) -> $crate::store::StoreResult<bool> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM report_dashboardcard WHERE entity_id = $1")
                        .bind(eid)
                        .fetch_optional(self.conn())
                        .await?;
                Ok(row.is_some())
            }

            async fn dashcard_insert(
                &mut self,
                d: &$crate::dashboards::layout_store::DashcardRow,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO report_dashboardcard (entity_id, dashboard_id, \
                     dashboard_tab_id, card_id, \"row\", col, size_x, size_y, \
                     parameter_mappings, visualization_settings, inline_parameters, series, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                     $11, $12, $13, $14) RETURNING id",
                )
                .bind(&d.entity_id)
                .bind(d.dashboard_id)
                .bind(d.dashboard_tab_id)
                .bind(d.card_id)
                .bind(d.row)
                .bind(d.col)
                .bind(d.size_x)
                .bind(d.size_y)
                .bind(&d.parameter_mappings)
                .bind(&d.visualization_settings)
                .bind(&d.inline_parameters)
                .bind(&d.series)
                .bind(d.created_at)
                .bind(d.updated_at)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn dashcard_update(
                &mut self,
                d: &$crate::dashboards::layout_store::DashcardRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE report_dashboardcard SET dashboard_tab_id = $2, card_id = $3, \
                     \"row\" = $4, col = $5, size_x = $6, size_y = $7, parameter_mappings = $8, \
                     visualization_settings = $9, inline_parameters = $10, series = $11, \
                     updated_at = $12 WHERE id = $1",
                )
                .bind(d.id)
                .bind(d.dashboard_tab_id)
                .bind(d.card_id)
                .bind(d.row)
                .bind(d.col)
                .bind(d.size_x)
                .bind(d.size_y)
                .bind(&d.parameter_mappings)
                .bind(&d.visualization_settings)
                .bind(&d.inline_parameters)
                .bind(&d.series)
                .bind(d.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn dashcard_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM report_dashboardcard WHERE id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn dashcards_with_series_card(
                &mut self,
                card_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::dashboards::layout_store::DashcardRow>> {
                let sql = $crate::dashboards::layout_store::dashcard_select(
                    "WHERE series = $1 OR series LIKE $2 OR series LIKE $3 OR series LIKE $4 \
                     ORDER BY id",
                );
                let [a, b, c, d] = $crate::cards::dashboard_link::series_patterns(card_id);
                Ok(sqlx::query_as(&sql)
                    .bind(a)
                    .bind(b)
                    .bind(c)
                    .bind(d)
                    .fetch_all(self.conn())
                    .await?)
            }
        }
    };
}
