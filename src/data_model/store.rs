//! Storage of the data model (`metabase_table`, `metabase_field`, `metabase_fieldvalues`); each
//! database's sync progress is stored with the database (`databases::store`). Rows are read and written whole: sync and the services compute
//! the new state of a row in Rust and write it only when it differs from the stored one.
use async_trait::async_trait;

use crate::store::StoreResult;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TableRow {
    pub id: i64,
    pub db_id: i64,
    /// `""` for engines without schemas.
    pub schema: String,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub entity_type: Option<String>,
    pub visibility_type: Option<String>,
    pub active: bool,
    pub field_order: String,
    pub initial_sync_status: String,
    pub caveats: Option<String>,
    pub points_of_interest: Option<String>,
    pub show_in_getting_started: bool,
    /// Attributes set by an edit, comma-separated (data-model.md §2.9).
    pub edited: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deactivated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FieldRow {
    pub id: i64,
    pub table_id: i64,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub database_type: String,
    pub base_type: String,
    pub effective_type: String,
    pub semantic_type: Option<String>,
    pub coercion_strategy: Option<String>,
    pub fk_target_field_id: Option<i64>,
    pub visibility_type: String,
    /// The stored value; `None` is unset (data-model.md §3.1).
    pub has_field_values: Option<String>,
    pub position: i64,
    pub custom_position: i64,
    pub has_custom_position: bool,
    pub database_position: i64,
    pub database_is_pk: bool,
    pub database_is_nullable: bool,
    pub database_required: bool,
    pub database_is_auto_increment: bool,
    pub database_default: Option<String>,
    pub database_is_generated: bool,
    pub active: bool,
    pub json_unfolding: bool,
    pub preview_display: bool,
    /// JSON object text.
    pub settings: Option<String>,
    /// JSON array text.
    pub nfc_path: Option<String>,
    /// JSON object text (§2.5).
    pub fingerprint: Option<String>,
    pub last_analyzed: Option<i64>,
    pub caveats: Option<String>,
    pub points_of_interest: Option<String>,
    pub edited: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Cached field values (§3.1): JSON array texts.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FieldValuesRow {
    pub field_id: i64,
    pub values: String,
    pub human_readable_values: Option<String>,
    pub has_more_values: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait DataModelTx {
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
    /// [`DataModelTx::dm_field_update`] of every row of `fields`, in a few statements.
    async fn dm_fields_update(&mut self, fields: &[FieldRow]) -> StoreResult<()>;
    /// Fields of database `db_id` whose `fk_target_field_id` is an inactive field lose it
    /// (`updated_at` = `now`); their ids.
    async fn dm_clear_inactive_fk_targets(&mut self, db_id: i64, now: i64)
        -> StoreResult<Vec<i64>>;
    async fn dm_values(&mut self, field_id: i64) -> StoreResult<Option<FieldValuesRow>>;
    /// The stored values of those of `field_ids` that have some, by field id.
    async fn dm_values_of(
        &mut self,
        field_ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, FieldValuesRow>>;
    async fn dm_values_put(&mut self, v: &FieldValuesRow) -> StoreResult<()>;
    /// [`DataModelTx::dm_values_put`] of every row of `rows` (distinct fields), in a few
    /// statements.
    async fn dm_values_put_many(&mut self, rows: &[FieldValuesRow]) -> StoreResult<()>;
    async fn dm_values_delete(&mut self, field_id: i64) -> StoreResult<()>;
}

/// Rows per multi-row statement: 200 rows of 34 columns stay below SQLite's and PostgreSQL's
/// limits on bound parameters.
pub const ROWS_PER_STATEMENT: usize = 200;

/// Whether `conn` is a PostgreSQL connection.
pub fn is_postgres<C: sqlx::Connection>(_conn: &C) -> bool {
    <C::Database as sqlx::Database>::NAME == "PostgreSQL"
}

/// Whether statements on `conn` number their placeholders (`$1`: PostgreSQL) rather than
/// leave them anonymous (`?`: SQLite, where sqlx looks every numbered placeholder up by name at
/// a cost linear in their number, which makes statements with hundreds of them slow).
pub fn numbered<C: sqlx::Connection>(conn: &C) -> bool {
    is_postgres(conn)
}

/// `n` placeholders, comma-separated: `$1, $2, …` or `?, ?, …`.
pub fn list_placeholders(n: usize, numbered: bool) -> String {
    if numbered {
        placeholders(n)
    } else {
        vec!["?"; n].join(", ")
    }
}

/// `($1, …, $k), ($k+1, …, $2k), …` (or with `?`): `rows` groups of `per_row` placeholders.
pub fn row_placeholders(rows: usize, per_row: usize, numbered: bool) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=per_row)
                .map(|c| {
                    if numbered {
                        format!("${}", r * per_row + c)
                    } else {
                        "?".to_string()
                    }
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub const TABLE_COLUMNS: &str = "db_id, schema, name, display_name, description, entity_type, \
    visibility_type, active, field_order, initial_sync_status, caveats, points_of_interest, \
    show_in_getting_started, edited, created_at, updated_at, deactivated_at";

pub const FIELD_COLUMNS: &str = "table_id, name, display_name, description, database_type, \
    base_type, effective_type, semantic_type, coercion_strategy, fk_target_field_id, \
    visibility_type, has_field_values, position, custom_position, has_custom_position, \
    database_position, database_is_pk, database_is_nullable, database_required, \
    database_is_auto_increment, database_default, database_is_generated, active, json_unfolding, \
    preview_display, settings, nfc_path, fingerprint, last_analyzed, caveats, points_of_interest, \
    edited, created_at, updated_at";

/// [`FIELD_COLUMNS`] prefixed with the field table's alias `f.`.
pub fn qualified_field_columns() -> String {
    FIELD_COLUMNS
        .split(',')
        .map(|c| format!("f.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`DataModelTx::dm_db_fields`] on SQLite as one text value: a JSON array holding one array
/// per field, its columns in [`FieldRow`]'s order (booleans as `0`/`1`). sqlx hands each value
/// of each row across from its SQLite worker with an allocation or two, which made reading
/// 20,000 fields of 35 columns take ~200–300 ms; SQLite packs them in a fraction of that (the
/// same reason as `api_keys::list_store`). Rows come unordered: [`unpack_fields`] sorts.
/// (PostgreSQL reads plain rows: its `json_agg` of them takes 3–4× as long as the rows.)
pub fn packed_fields_sql() -> String {
    format!(
        "SELECT CAST(coalesce(json_group_array(json_array(f.id, {})), '[]') AS TEXT) \
         FROM metabase_field f JOIN metabase_table t ON t.id = f.table_id WHERE t.db_id = $1",
        qualified_field_columns()
    )
}

/// A boolean column as JSON: `true`/`false` (PostgreSQL) or an integer (SQLite, non-zero is
/// true, as sqlx decodes it).
fn int_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a boolean or an integer")
        }
        fn visit_bool<E>(self, b: bool) -> Result<bool, E> {
            Ok(b)
        }
        fn visit_i64<E>(self, i: i64) -> Result<bool, E> {
            Ok(i != 0)
        }
        fn visit_u64<E>(self, i: u64) -> Result<bool, E> {
            Ok(i != 0)
        }
    }
    d.deserialize_any(V)
}

/// One element of [`packed_fields_sql`]'s array.
#[derive(serde::Deserialize)]
struct PackedField(
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    i64,
    i64,
    #[serde(deserialize_with = "int_bool")] bool,
    i64,
    #[serde(deserialize_with = "int_bool")] bool,
    #[serde(deserialize_with = "int_bool")] bool,
    #[serde(deserialize_with = "int_bool")] bool,
    #[serde(deserialize_with = "int_bool")] bool,
    Option<String>,
    #[serde(deserialize_with = "int_bool")] bool,
    #[serde(deserialize_with = "int_bool")] bool,
    #[serde(deserialize_with = "int_bool")] bool,
    #[serde(deserialize_with = "int_bool")] bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
);

impl From<PackedField> for FieldRow {
    fn from(p: PackedField) -> FieldRow {
        FieldRow {
            id: p.0,
            table_id: p.1,
            name: p.2,
            display_name: p.3,
            description: p.4,
            database_type: p.5,
            base_type: p.6,
            effective_type: p.7,
            semantic_type: p.8,
            coercion_strategy: p.9,
            fk_target_field_id: p.10,
            visibility_type: p.11,
            has_field_values: p.12,
            position: p.13,
            custom_position: p.14,
            has_custom_position: p.15,
            database_position: p.16,
            database_is_pk: p.17,
            database_is_nullable: p.18,
            database_required: p.19,
            database_is_auto_increment: p.20,
            database_default: p.21,
            database_is_generated: p.22,
            active: p.23,
            json_unfolding: p.24,
            preview_display: p.25,
            settings: p.26,
            nfc_path: p.27,
            fingerprint: p.28,
            last_analyzed: p.29,
            caveats: p.30,
            points_of_interest: p.31,
            edited: p.32,
            created_at: p.33,
            updated_at: p.34,
        }
    }
}

/// The fields of [`packed_fields_sql`]'s value, ordered by id.
pub fn unpack_fields(packed: &str) -> StoreResult<Vec<FieldRow>> {
    let rows: Vec<PackedField> = serde_json::from_str(packed)
        .map_err(|e| crate::store::StoreError::Other(format!("packed fields: {e}")))?;
    let mut rows: Vec<FieldRow> = rows.into_iter().map(FieldRow::from).collect();
    rows.sort_unstable_by_key(|f| f.id);
    Ok(rows)
}

/// `$1, $2, …, $n`.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `col_a = $2, col_b = $3, …` for the columns after the first `skip` of `columns`, numbered
/// from `$2` (`$1` is the id).
pub fn assignments(columns: &str, skip: usize) -> String {
    columns
        .split(',')
        .map(str::trim)
        .skip(skip)
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ")
}

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

#[macro_export]
macro_rules! impl_data_model_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::data_model::store::DataModelTx for $t {
            async fn dm_tables(
                &mut self,
                db_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::data_model::store::TableRow>> {
                let sql = format!(
                    "SELECT id, {} FROM metabase_table WHERE db_id = $1 ORDER BY id",
                    $crate::data_model::store::TABLE_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(db_id).fetch_all(self.conn()).await?)
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
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_fields_read_both_encodings_of_booleans() {
        let sqlite = r#"[[7,2,"b","B",null,"TEXT","type/Text","type/Text",null,null,null,"normal",null,1,0,0,1,0,1,0,0,null,0,1,0,1,null,null,"{\"global\":{}}",null,null,null,"",10,11],
            [3,2,"a","A","d","INTEGER","type/Integer","type/Integer","type/PK",null,5,"normal","auto-list",0,0,1,0,1,0,1,1,"0",1,0,1,0,"{}","[]",null,12,"c","p","semantic_type",8,9]]"#;
        let rows = unpack_fields(sqlite).unwrap();
        assert_eq!(rows.iter().map(|f| f.id).collect::<Vec<_>>(), [3, 7]);
        let a = &rows[0];
        assert!(a.has_custom_position && a.database_is_pk && !a.database_is_nullable);
        assert!(a.database_required && a.database_is_auto_increment && a.database_is_generated);
        assert!(!a.active && a.json_unfolding && !a.preview_display);
        assert_eq!(a.fk_target_field_id, Some(5));
        assert_eq!(a.database_default.as_deref(), Some("0"));
        assert_eq!(a.last_analyzed, Some(12));
        assert_eq!(
            (a.edited.as_str(), a.created_at, a.updated_at),
            ("semantic_type", 8, 9)
        );
        assert_eq!(rows[1].fingerprint.as_deref(), Some(r#"{"global":{}}"#));
        let postgres = r#"[[3,2,"a","A","d","INTEGER","type/Integer","type/Integer","type/PK",null,5,"normal","auto-list",0,0,true,0,true,false,true,true,"0",true,false,true,false,"{}","[]",null,12,"c","p","semantic_type",8,9],
            [7,2,"b","B",null,"TEXT","type/Text","type/Text",null,null,null,"normal",null,1,0,false,1,false,true,false,false,null,false,true,false,true,null,null,"{\"global\":{}}",null,null,null,"",10,11]]"#;
        assert_eq!(unpack_fields(postgres).unwrap(), rows);
        assert_eq!(unpack_fields("[]").unwrap(), []);
    }

    #[test]
    fn statement_pieces() {
        assert_eq!(placeholders(3), "$1, $2, $3");
        assert_eq!(assignments("a, b, c", 1), "b = $2, c = $3");
        assert_eq!(row_placeholders(2, 2, true), "($1, $2), ($3, $4)");
        assert_eq!(row_placeholders(2, 2, false), "(?, ?), (?, ?)");
        assert_eq!(list_placeholders(3, false), "?, ?, ?");
    }
}
