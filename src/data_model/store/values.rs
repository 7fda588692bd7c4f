//! Storage of cached field values (`metabase_fieldvalues`).
use async_trait::async_trait;

use super::FieldValuesRow;
use crate::store::StoreResult;

/// Reading and writing cached field values (`metabase_fieldvalues`).
#[async_trait]
pub trait FieldValuesTx {
    async fn dm_values(&mut self, field_id: i64) -> StoreResult<Option<FieldValuesRow>>;
    /// The stored values of those of `field_ids` that have some, by field id.
    async fn dm_values_of(
        &mut self,
        field_ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, FieldValuesRow>>;
    async fn dm_values_put(&mut self, v: &FieldValuesRow) -> StoreResult<()>;
    /// [`FieldValuesTx::dm_values_put`] of every row of `rows` (distinct fields), in a few
    /// statements.
    async fn dm_values_put_many(&mut self, rows: &[FieldValuesRow]) -> StoreResult<()>;
    async fn dm_values_delete(&mut self, field_id: i64) -> StoreResult<()>;
}

/// Implements [`FieldValuesTx`](crate::data_model::store::FieldValuesTx) for a store's transaction type.
#[macro_export]
macro_rules! impl_dm_field_values_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::data_model::store::FieldValuesTx for $t {
            async fn dm_values(
                &mut self,
                field_id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::data_model::store::FieldValuesRow>>
            {
                Ok(sqlx::query_as(
                    "SELECT field_id, \"values\", human_readable_values, has_more_values, \
                     created_at, updated_at FROM metabase_fieldvalues WHERE field_id = $1",
                )
                .bind(field_id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn dm_values_of(
                &mut self,
                field_ids: &[i64],
            ) -> $crate::store::StoreResult<
                std::collections::HashMap<i64, $crate::data_model::store::FieldValuesRow>,
            > {
                let mut out = std::collections::HashMap::new();
                for chunk in field_ids.chunks(1000) {
                    let sql = format!(
                        "SELECT field_id, \"values\", human_readable_values, has_more_values, \
                         created_at, updated_at FROM metabase_fieldvalues WHERE field_id IN ({})",
                        $crate::data_model::store::list_placeholders(
                            chunk.len(),
                            $crate::data_model::store::numbered(&*self.conn()),
                        )
                    );
                    let mut q =
                        sqlx::query_as::<_, $crate::data_model::store::FieldValuesRow>(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for row in q.fetch_all(self.conn()).await? {
                        out.insert(row.field_id, row);
                    }
                }
                Ok(out)
            }

            async fn dm_values_put(
                &mut self,
                v: &$crate::data_model::store::FieldValuesRow,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO metabase_fieldvalues (field_id, \"values\", \
                     human_readable_values, has_more_values, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (field_id) DO UPDATE SET \
                     \"values\" = excluded.\"values\", \
                     human_readable_values = excluded.human_readable_values, \
                     has_more_values = excluded.has_more_values, updated_at = excluded.updated_at",
                )
                .bind(v.field_id)
                .bind(&v.values)
                .bind(&v.human_readable_values)
                .bind(v.has_more_values)
                .bind(v.created_at)
                .bind(v.updated_at)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn dm_values_put_many(
                &mut self,
                rows: &[$crate::data_model::store::FieldValuesRow],
            ) -> $crate::store::StoreResult<()> {
                for chunk in rows.chunks($crate::data_model::store::ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO metabase_fieldvalues (field_id, \"values\", \
                         human_readable_values, has_more_values, created_at, updated_at) \
                         VALUES {} ON CONFLICT (field_id) DO UPDATE SET \
                         \"values\" = excluded.\"values\", \
                         human_readable_values = excluded.human_readable_values, \
                         has_more_values = excluded.has_more_values, \
                         updated_at = excluded.updated_at",
                        $crate::data_model::store::row_placeholders(
                            chunk.len(),
                            6,
                            $crate::data_model::store::numbered(&*self.conn()),
                        )
                    );
                    let mut q = sqlx::query(&sql);
                    for v in chunk {
                        q = q
                            .bind(v.field_id)
                            .bind(&v.values)
                            .bind(&v.human_readable_values)
                            .bind(v.has_more_values)
                            .bind(v.created_at)
                            .bind(v.updated_at);
                    }
                    q.execute(self.conn()).await?;
                }
                Ok(())
            }

            async fn dm_values_delete(&mut self, field_id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM metabase_fieldvalues WHERE field_id = $1")
                    .bind(field_id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }
        }
    };
}
