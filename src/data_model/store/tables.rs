//! Storage of tables (`metabase_table`).
use async_trait::async_trait;

use super::TableRow;
use crate::store::StoreResult;

/// Reading and writing `metabase_table` rows.
#[async_trait]
pub trait TableTx {
    /// Every table of a database, active or not, by id.
    async fn dm_tables(&mut self, db_id: i64) -> StoreResult<Vec<TableRow>>;
    /// Every table of every database, by id.
    async fn dm_all_tables(&mut self) -> StoreResult<Vec<TableRow>>;
    async fn dm_table(&mut self, id: i64) -> StoreResult<Option<TableRow>>;
    /// Inserts `t` (its `id` is ignored) and returns the new id.
    async fn dm_table_insert(&mut self, t: &TableRow) -> StoreResult<i64>;
    /// Writes every column of `t` except `id`, `db_id` and `created_at`.
    async fn dm_table_update(&mut self, t: &TableRow) -> StoreResult<()>;
    /// Lets this transaction's commit return before the database has flushed it to disk
    /// (PostgreSQL: `SET LOCAL synchronous_commit = off`; on SQLite nothing: its commits
    /// already work so, `synchronous = NORMAL`). For sync's writes, which the next sync
    /// redoes: a crash loses at most the last of them, never leaves them half-written, and
    /// any later ordinary commit makes them durable too.
    async fn dm_relaxed_commit(&mut self) -> StoreResult<()>;
    /// `initial_sync_status` = `complete` for the tables `ids` (nothing else changes).
    async fn dm_tables_set_complete(&mut self, ids: &[i64]) -> StoreResult<()>;
}

/// Binds the columns of the row after its first (in column order), up to `edited`.
#[macro_export]
macro_rules! dm_bind_table {
    ($q:expr, $t:expr) => {
        $q.bind(&$t.schema)
            .bind(&$t.name)
            .bind(&$t.display_name)
            .bind(&$t.description)
            .bind(&$t.entity_type)
            .bind(&$t.visibility_type)
            .bind($t.active)
            .bind(&$t.field_order)
            .bind(&$t.initial_sync_status)
            .bind(&$t.caveats)
            .bind(&$t.points_of_interest)
            .bind($t.show_in_getting_started)
            .bind(&$t.edited)
    };
}

/// Implements [`TableTx`](crate::data_model::store::TableTx) for a store's transaction type.
#[macro_export]
macro_rules! impl_dm_table_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::data_model::store::TableTx for $t {
            async fn dm_tables(
                &mut self,
                db_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::data_model::store::TableRow>> {
                let sql = format!(
                    "SELECT id, {} FROM metabase_table WHERE db_id = $1 ORDER BY id",
                    $crate::data_model::store::TABLE_COLUMNS
                );
                Ok(sqlx::query_as(&sql)
                    .bind(db_id)
                    .fetch_all(self.conn())
                    .await?)
            }

            async fn dm_all_tables(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::data_model::store::TableRow>> {
                let sql = format!(
                    "SELECT id, {} FROM metabase_table ORDER BY id",
                    $crate::data_model::store::TABLE_COLUMNS
                );
                Ok(sqlx::query_as(&sql).fetch_all(self.conn()).await?)
            }

            async fn dm_table(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::data_model::store::TableRow>> {
                let sql = format!(
                    "SELECT id, {} FROM metabase_table WHERE id = $1",
                    $crate::data_model::store::TABLE_COLUMNS
                );
                Ok(sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn dm_table_insert(
                &mut self,
                t: &$crate::data_model::store::TableRow,
            ) -> $crate::store::StoreResult<i64> {
                let cols = $crate::data_model::store::TABLE_COLUMNS;
                let sql = format!(
                    "INSERT INTO metabase_table ({cols}) VALUES ({}) RETURNING id",
                    $crate::data_model::store::placeholders(cols.split(',').count())
                );
                let q = sqlx::query_scalar(&sql).bind(t.db_id);
                let q = $crate::dm_bind_table!(q, t);
                Ok(q.bind(t.created_at)
                    .bind(t.updated_at)
                    .bind(t.deactivated_at)
                    .fetch_one(self.conn())
                    .await?)
            }

            async fn dm_table_update(
                &mut self,
                t: &$crate::data_model::store::TableRow,
            ) -> $crate::store::StoreResult<()> {
                // Skips db_id; created_at is left out below.
                let cols = $crate::data_model::store::TABLE_COLUMNS.replace(" created_at,", "");
                let sql = format!(
                    "UPDATE metabase_table SET {} WHERE id = $1",
                    $crate::data_model::store::assignments(&cols, 1)
                );
                let q = sqlx::query(&sql).bind(t.id);
                let q = $crate::dm_bind_table!(q, t);
                q.bind(t.updated_at)
                    .bind(t.deactivated_at)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn dm_relaxed_commit(&mut self) -> $crate::store::StoreResult<()> {
                if $crate::data_model::store::is_postgres(&*self.conn()) {
                    sqlx::query("SET LOCAL synchronous_commit = off")
                        .execute(self.conn())
                        .await?;
                }
                Ok(())
            }

            async fn dm_tables_set_complete(
                &mut self,
                ids: &[i64],
            ) -> $crate::store::StoreResult<()> {
                for chunk in ids.chunks(1000) {
                    let sql = format!(
                        "UPDATE metabase_table SET initial_sync_status = 'complete' \
                         WHERE id IN ({})",
                        $crate::data_model::store::list_placeholders(
                            chunk.len(),
                            $crate::data_model::store::numbered(&*self.conn()),
                        )
                    );
                    let mut q = sqlx::query(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(self.conn()).await?;
                }
                Ok(())
            }
        }
    };
}
