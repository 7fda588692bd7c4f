//! Storage of fields (`metabase_field`).
use async_trait::async_trait;

use super::FieldRow;
use crate::store::StoreResult;

/// Reading and writing `metabase_field` rows.
#[async_trait]
pub trait FieldTx {
    /// Every field of a table, active or not, by id.
    async fn dm_fields(&mut self, table_id: i64) -> StoreResult<Vec<FieldRow>>;
    /// Every field of every table of a database, by id.
    async fn dm_db_fields(&mut self, db_id: i64) -> StoreResult<Vec<FieldRow>>;
    async fn dm_field(&mut self, id: i64) -> StoreResult<Option<FieldRow>>;
    /// Inserts `f` (its `id` is ignored) and returns the new id.
    async fn dm_field_insert(&mut self, f: &FieldRow) -> StoreResult<i64>;
    /// Writes every column of `f` except `id`, `table_id` and `created_at`.
    async fn dm_field_update(&mut self, f: &FieldRow) -> StoreResult<()>;
    /// Inserts `fields` (their `id`s are ignored) in a few statements; the new ids in order.
    async fn dm_fields_insert(&mut self, fields: &[FieldRow]) -> StoreResult<Vec<i64>>;
    /// [`FieldTx::dm_field_update`] of every row of `fields`, in a few statements.
    async fn dm_fields_update(&mut self, fields: &[FieldRow]) -> StoreResult<()>;
    /// Fields of database `db_id` whose `fk_target_field_id` is an inactive field lose it
    /// (`updated_at` = `now`); their ids.
    async fn dm_clear_inactive_fk_targets(&mut self, db_id: i64, now: i64)
        -> StoreResult<Vec<i64>>;
}

/// Binds the columns of the row after its first (in column order), up to `edited`.
#[macro_export]
macro_rules! dm_bind_field {
    ($q:expr, $f:expr) => {
        $q.bind(&$f.name)
            .bind(&$f.display_name)
            .bind(&$f.description)
            .bind(&$f.database_type)
            .bind(&$f.base_type)
            .bind(&$f.effective_type)
            .bind(&$f.semantic_type)
            .bind(&$f.coercion_strategy)
            .bind($f.fk_target_field_id)
            .bind(&$f.visibility_type)
            .bind(&$f.has_field_values)
            .bind($f.position)
            .bind($f.custom_position)
            .bind($f.has_custom_position)
            .bind($f.database_position)
            .bind($f.database_is_pk)
            .bind($f.database_is_nullable)
            .bind($f.database_required)
            .bind($f.database_is_auto_increment)
            .bind(&$f.database_default)
            .bind($f.database_is_generated)
            .bind($f.active)
            .bind($f.json_unfolding)
            .bind($f.preview_display)
            .bind(&$f.settings)
            .bind(&$f.nfc_path)
            .bind(&$f.fingerprint)
            .bind($f.last_analyzed)
            .bind(&$f.caveats)
            .bind(&$f.points_of_interest)
            .bind(&$f.edited)
    };
}

/// Implements [`FieldTx`](crate::data_model::store::FieldTx) for a store's transaction type.
#[macro_export]
macro_rules! impl_dm_field_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::data_model::store::FieldTx for $t {
            async fn dm_fields(
                &mut self,
                table_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::data_model::store::FieldRow>> {
                let sql = format!(
                    "SELECT id, {} FROM metabase_field WHERE table_id = $1 ORDER BY id",
                    $crate::data_model::store::FIELD_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(table_id).fetch_all(self.conn()).await?)
            }

            async fn dm_db_fields(
                &mut self,
                db_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::data_model::store::FieldRow>> {
                if $crate::data_model::store::is_postgres(&*self.conn()) {
                    // Rows as they are: PostgreSQL's binary rows decode in this task, while
                    // packing them as JSON costs the server 3–4× the plain read.
                    let sql = format!(
                        "SELECT f.id, {} FROM metabase_field f JOIN metabase_table t \
                         ON t.id = f.table_id WHERE t.db_id = $1 ORDER BY f.id",
                        $crate::data_model::store::qualified_field_columns()
                    );
                    return Ok(sqlx::query_as(&sql).bind(db_id).fetch_all(self.conn()).await?);
                }
                let sql = $crate::data_model::store::packed_fields_sql();
                let packed: Option<String> =
                    sqlx::query_scalar(&sql).bind(db_id).fetch_one(self.conn()).await?;
                $crate::data_model::store::unpack_fields(packed.as_deref().unwrap_or("[]"))
            }

            async fn dm_field(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::data_model::store::FieldRow>> {
                let sql = format!(
                    "SELECT id, {} FROM metabase_field WHERE id = $1",
                    $crate::data_model::store::FIELD_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
            }

            async fn dm_field_insert(
                &mut self,
                f: &$crate::data_model::store::FieldRow,
            ) -> $crate::store::StoreResult<i64> {
                let cols = $crate::data_model::store::FIELD_COLUMNS;
                let sql = format!(
                    "INSERT INTO metabase_field ({cols}) VALUES ({}) RETURNING id",
                    $crate::data_model::store::placeholders(cols.split(',').count())
                );
                let q = sqlx::query_scalar(&sql).bind(f.table_id);
                let q = $crate::dm_bind_field!(q, f);
                Ok(q.bind(f.created_at)
                    .bind(f.updated_at)
                    .fetch_one(self.conn())
                    .await?)
            }

            async fn dm_field_update(
                &mut self,
                f: &$crate::data_model::store::FieldRow,
            ) -> $crate::store::StoreResult<()> {
                let cols = $crate::data_model::store::FIELD_COLUMNS.replace(" created_at,", "");
                let sql = format!(
                    "UPDATE metabase_field SET {} WHERE id = $1",
                    $crate::data_model::store::assignments(&cols, 1)
                );
                let q = sqlx::query(&sql).bind(f.id);
                let q = $crate::dm_bind_field!(q, f);
                q.bind(f.updated_at).execute(self.conn()).await?;
                Ok(())
            }

            async fn dm_fields_insert(
                &mut self,
                fields: &[$crate::data_model::store::FieldRow],
            ) -> $crate::store::StoreResult<Vec<i64>> {
                let cols = $crate::data_model::store::FIELD_COLUMNS;
                let per_row = cols.split(',').count();
                let mut ids = std::collections::HashMap::new();
                for chunk in fields.chunks($crate::data_model::store::ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO metabase_field ({cols}) VALUES {} RETURNING id, table_id, name",
                        $crate::data_model::store::row_placeholders(
                            chunk.len(),
                            per_row,
                            $crate::data_model::store::numbered(&*self.conn()),
                        )
                    );
                    let mut q = sqlx::query_as::<_, (i64, i64, String)>(&sql);
                    for f in chunk {
                        q = q.bind(f.table_id);
                        q = $crate::dm_bind_field!(q, f);
                        q = q.bind(f.created_at).bind(f.updated_at);
                    }
                    for (id, table_id, name) in q.fetch_all(self.conn()).await? {
                        ids.insert((table_id, name), id);
                    }
                }
                // (table_id, name) is unique: each inserted row is found by it.
                Ok(fields
                    .iter()
                    .map(|f| ids.get(&(f.table_id, f.name.clone())).copied().unwrap_or(0))
                    .collect())
            }

            async fn dm_fields_update(
                &mut self,
                fields: &[$crate::data_model::store::FieldRow],
            ) -> $crate::store::StoreResult<()> {
                // id, then the columns dm_field_update writes, in FIELD_COLUMNS order.
                let cols: Vec<String> = $crate::data_model::store::FIELD_COLUMNS
                    .replace(" created_at,", "")
                    .split(',')
                    .skip(1)
                    .map(|c| c.trim().to_string())
                    .collect();
                let set = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c} = v.column{}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ");
                for chunk in fields.chunks($crate::data_model::store::ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "UPDATE metabase_field SET {set} FROM (VALUES {}) AS v \
                         WHERE metabase_field.id = v.column1",
                        $crate::data_model::store::row_placeholders(
                            chunk.len(),
                            cols.len() + 1,
                            $crate::data_model::store::numbered(&*self.conn()),
                        )
                    );
                    let mut q = sqlx::query(&sql);
                    for f in chunk {
                        q = q.bind(f.id);
                        q = $crate::dm_bind_field!(q, f);
                        q = q.bind(f.updated_at);
                    }
                    q.execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn dm_clear_inactive_fk_targets(
                &mut self,
                db_id: i64,
                now: i64,
            ) -> $crate::store::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    "UPDATE metabase_field SET fk_target_field_id = NULL, updated_at = $2 \
                     WHERE table_id IN (SELECT id FROM metabase_table WHERE db_id = $1) \
                     AND fk_target_field_id IN (SELECT f.id FROM metabase_field f \
                       JOIN metabase_table t ON t.id = f.table_id \
                       WHERE t.db_id = $1 AND NOT f.active) RETURNING id",
                )
                .bind(db_id)
                .bind(now)
                .fetch_all(self.conn())
                .await?)
            }
        }
    };
}
