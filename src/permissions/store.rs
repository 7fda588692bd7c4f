//! Storage of data permissions (`data_permission`) and the revisions of both permission graphs
//! (data and collection).
use async_trait::async_trait;

use super::grant::{CreateQueries, Grant, ViewData};
use crate::store::StoreResult;

/// One (group, database) entry. `download` and `data-model` hold the inner `schemas` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPermRow {
    pub group_id: i64,
    pub database_id: i64,
    pub view_data: Grant<ViewData>,
    pub create_queries: Grant<CreateQueries>,
    pub download: String,
    pub data_model: String,
    pub details: String,
}

/// A row as stored: granular values are JSON text (data-model.md §4.1).
#[derive(sqlx::FromRow)]
pub struct StoredRow {
    group_id: i64,
    database_id: i64,
    view_data: String,
    create_queries: String,
    download: String,
    data_model: String,
    details: String,
}

impl From<StoredRow> for DataPermRow {
    fn from(r: StoredRow) -> Self {
        DataPermRow {
            group_id: r.group_id,
            database_id: r.database_id,
            view_data: Grant::from_db(&r.view_data),
            create_queries: Grant::from_db(&r.create_queries),
            download: r.download,
            data_model: r.data_model,
            details: r.details,
        }
    }
}

/// Rows as read from the database.
pub fn typed(rows: Vec<StoredRow>) -> Vec<DataPermRow> {
    rows.into_iter().map(DataPermRow::from).collect()
}

#[async_trait]
pub trait PermissionTx {
    async fn data_perm_all(&mut self) -> StoreResult<Vec<DataPermRow>>;
    async fn data_perm_of_database(&mut self, database_id: i64) -> StoreResult<Vec<DataPermRow>>;
    /// Inserts or replaces the entry of `(row.group_id, row.database_id)`.
    async fn data_perm_set(&mut self, row: &DataPermRow) -> StoreResult<()>;
    async fn data_perm_delete_database(&mut self, database_id: i64) -> StoreResult<()>;
    /// `(schema, id)` of every table of a database, active or not: the positions a granular
    /// value may name (data-model.md §4.1).
    async fn data_perm_tables(&mut self, database_id: i64) -> StoreResult<Vec<(String, i64)>>;
    /// The latest revision of `graph` (0 before its first change).
    async fn graph_revision(&mut self, graph: PermGraph) -> StoreResult<i64>;
    /// Records a change of `graph` (its changed entries before and after, as JSON text) and
    /// returns the new revision.
    async fn graph_revision_insert(
        &mut self,
        graph: PermGraph,
        before: &str,
        after: &str,
        user_id: i64,
        now: i64,
    ) -> StoreResult<i64>;
}

/// The two permission graphs; each numbers its changes in a revision table of its own, with the
/// same columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermGraph {
    /// `/api/permissions/graph`.
    Data,
    /// `/api/collection/graph`.
    Collection,
}

impl PermGraph {
    pub fn latest_revision_sql(self) -> &'static str {
        match self {
            PermGraph::Data => "SELECT MAX(id) FROM data_permission_revision",
            PermGraph::Collection => "SELECT MAX(id) FROM collection_permission_graph_revision",
        }
    }

    pub fn insert_revision_sql(self) -> &'static str {
        match self {
            PermGraph::Data => {
                "INSERT INTO data_permission_revision \
                 (before_graph, after_graph, user_id, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id"
            }
            PermGraph::Collection => {
                "INSERT INTO collection_permission_graph_revision \
                 (before_graph, after_graph, user_id, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id"
            }
        }
    }
}

const COLUMNS: &str =
    "group_id, database_id, view_data, create_queries, download, data_model, details";

pub fn select(filter: &str) -> String {
    format!("SELECT {COLUMNS} FROM data_permission {filter}")
}

#[macro_export]
macro_rules! impl_permission_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::permissions::store::PermissionTx for $t {
            async fn data_perm_all(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::permissions::store::DataPermRow>> {
                let sql = $crate::permissions::store::select("");
                let rows: Vec<$crate::permissions::store::StoredRow> =
                    sqlx::query_as(&sql).fetch_all(self.conn()).await?;
                Ok($crate::permissions::store::typed(rows))
            }

            async fn data_perm_of_database(
                &mut self,
                database_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::permissions::store::DataPermRow>> {
                let sql = $crate::permissions::store::select("WHERE database_id = $1");
                let rows: Vec<$crate::permissions::store::StoredRow> = sqlx::query_as(&sql)
                    .bind(database_id)
                    .fetch_all(self.conn())
                    .await?;
                Ok($crate::permissions::store::typed(rows))
            }

            async fn data_perm_set(
                &mut self,
                r: &$crate::permissions::store::DataPermRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO data_permission (group_id, database_id, view_data, \
                     create_queries, download, data_model, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (group_id, database_id) DO UPDATE SET \
                     view_data = excluded.view_data, create_queries = excluded.create_queries, \
                     download = excluded.download, data_model = excluded.data_model, \
                     details = excluded.details",
                )
                .bind(r.group_id)
                .bind(r.database_id)
                .bind(r.view_data.to_db())
                .bind(r.create_queries.to_db())
                .bind(&r.download)
                .bind(&r.data_model)
                .bind(&r.details)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn data_perm_delete_database(
                &mut self,
                database_id: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM data_permission WHERE database_id = $1")
                    .bind(database_id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn data_perm_tables(
                &mut self,
                database_id: i64,
            ) -> $crate::store::StoreResult<Vec<(String, i64)>> {
                Ok(sqlx::query_as(
                    "SELECT schema, id FROM metabase_table WHERE db_id = $1 ORDER BY id",
                )
                .bind(database_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn graph_revision(
                &mut self,
                graph: $crate::permissions::store::PermGraph,
            ) -> $crate::store::StoreResult<i64> {
                let n: Option<i64> = sqlx::query_scalar(graph.latest_revision_sql())
                    .fetch_one(self.conn())
                    .await?;
                Ok(n.unwrap_or(0))
            }

            async fn graph_revision_insert(
                &mut self,
                graph: $crate::permissions::store::PermGraph,
                before: &str,
                after: &str,
                user_id: i64,
                now: i64,
            ) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(graph.insert_revision_sql())
                    .bind(before)
                    .bind(after)
                    .bind(user_id)
                    .bind(now)
                    .fetch_one(self.conn())
                    .await?)
            }
        }
    };
}
