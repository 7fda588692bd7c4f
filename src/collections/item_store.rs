//! Storage of the card and dashboard rows that collection items (content.md §1.6), the Trash and
//! search (§6.1) list: one `UNION ALL` statement over `report_card` and `report_dashboard` with
//! the last editor joined, so a listing is one round trip whatever it holds.
use async_trait::async_trait;

use crate::store::StoreResult;

/// Which items to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemScope {
    /// Items stored in this collection (`None` = the root).
    In(Option<i64>),
    /// Items trashed by themselves (`archived_directly`), from every collection.
    Trashed,
    /// Every card and dashboard (search).
    All,
}

/// A card or dashboard as listed. Card-only columns are `None` for dashboards.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ItemRow {
    /// `card` or `dashboard`.
    pub kind: String,
    /// The card's `type` (`question`, `model`, `metric`); `None` for dashboards.
    pub card_type: Option<String>,
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    pub collection_id: Option<i64>,
    pub collection_position: Option<i64>,
    pub archived: bool,
    pub archived_directly: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub display: Option<String>,
    pub database_id: Option<i64>,
    pub dashboard_id: Option<i64>,
    pub collection_preview: Option<bool>,
    pub last_used_at: Option<i64>,
    pub dataset_query: Option<String>,
    pub editor_id: i64,
    pub editor_email: String,
    pub editor_first_name: Option<String>,
    pub editor_last_name: Option<String>,
}

impl ItemRow {
    /// The item's model as clients see it: `card`, `dataset`, `metric` or `dashboard`.
    pub fn model(&self) -> &'static str {
        match (self.kind.as_str(), self.card_type.as_deref()) {
            ("dashboard", _) => "dashboard",
            (_, Some("model")) => "dataset",
            (_, Some("metric")) => "metric",
            _ => "card",
        }
    }
}

/// The `WHERE` clause of both halves for a scope (`$1` is the collection id of `In(Some)`).
pub fn scope_filter(scope: ItemScope) -> &'static str {
    match scope {
        ItemScope::In(Some(_)) => "x.collection_id = $1",
        ItemScope::In(None) => "x.collection_id IS NULL",
        ItemScope::Trashed => "x.archived_directly = TRUE",
        ItemScope::All => "TRUE",
    }
}

/// The statement for a scope.
pub fn items_sql(scope: ItemScope) -> String {
    let w = scope_filter(scope);
    format!(
        "SELECT 'card' AS kind, x.type AS card_type, x.id, x.entity_id, x.name, x.description, \
                x.collection_id, x.collection_position, x.archived, x.archived_directly, \
                x.created_at, x.updated_at, x.display, x.database_id, x.dashboard_id, \
                x.collection_preview, x.last_used_at, x.dataset_query, \
                u.id AS editor_id, u.email AS editor_email, \
                u.first_name AS editor_first_name, u.last_name AS editor_last_name \
         FROM report_card x JOIN core_user u ON u.id = x.last_editor_id WHERE {w} \
         UNION ALL \
         SELECT 'dashboard', NULL, x.id, x.entity_id, x.name, x.description, \
                x.collection_id, x.collection_position, x.archived, x.archived_directly, \
                x.created_at, x.updated_at, NULL, NULL, NULL, NULL, NULL, NULL, \
                u.id, u.email, u.first_name, u.last_name \
         FROM report_dashboard x JOIN core_user u ON u.id = x.last_editor_id WHERE {w}"
    )
}

/// The kinds of live, non-dashboard-question items stored in each collection (`here`/`below`).
pub const KINDS_SQL: &str = "SELECT DISTINCT collection_id, type AS card_type FROM report_card \
     WHERE archived = FALSE AND dashboard_id IS NULL AND collection_id IS NOT NULL \
     UNION SELECT DISTINCT collection_id, NULL FROM report_dashboard \
     WHERE archived = FALSE AND collection_id IS NOT NULL";

#[async_trait]
pub trait ItemTx {
    async fn content_items(&mut self, scope: ItemScope) -> StoreResult<Vec<ItemRow>>;
    /// `(collection id, card type or None for a dashboard)` for every live item kind present.
    async fn content_kinds(&mut self) -> StoreResult<Vec<(i64, Option<String>)>>;
}

#[macro_export]
macro_rules! impl_item_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::collections::item_store::ItemTx for $t {
            async fn content_items(
                &mut self,
                scope: $crate::collections::item_store::ItemScope,
            ) -> $crate::store::StoreResult<Vec<$crate::collections::item_store::ItemRow>> {
                use $crate::collections::item_store::{items_sql, ItemScope};
                let sql = items_sql(scope);
                let q = sqlx::query_as(&sql);
                let q = match scope {
                    ItemScope::In(Some(id)) => q.bind(id),
                    _ => q,
                };
                Ok(q.fetch_all(self.conn()).await?)
            }

            async fn content_kinds(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<(i64, Option<String>)>> {
                Ok(sqlx::query_as($crate::collections::item_store::KINDS_SQL)
                    .fetch_all(self.conn())
                    .await?)
            }
        }
    };
}
