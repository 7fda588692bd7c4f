//! Storage of the data model (`metabase_table`, `metabase_field`, `metabase_fieldvalues`); each
//! database's sync progress is stored with the database (`databases::store`). Rows are read and
//! written whole: sync and the services compute the new state of a row in Rust and write it only
//! when it differs from the stored one. One trait and `impl_*_tx!` macro per table: tables
//! ([`TableTx`]), fields ([`FieldTx`]), cached values ([`FieldValuesTx`]); [`DataModelTx`] is
//! all three, and `impl_data_model_tx!` implements them.
mod fields;
mod packed;
mod tables;
mod values;

pub use fields::FieldTx;
pub use packed::{packed_fields_sql, unpack_fields};
pub use tables::TableTx;
pub use values::FieldValuesTx;

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

/// The data model's storage: [`TableTx`], [`FieldTx`] and [`FieldValuesTx`].
pub trait DataModelTx: TableTx + FieldTx + FieldValuesTx {}

impl<T: TableTx + FieldTx + FieldValuesTx + ?Sized> DataModelTx for T {}

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

/// Implements [`DataModelTx`] (its three traits) for a store's transaction type.
#[macro_export]
macro_rules! impl_data_model_tx {
    ($t:ty) => {
        $crate::impl_dm_table_tx!($t);
        $crate::impl_dm_field_tx!($t);
        $crate::impl_dm_field_values_tx!($t);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_pieces() {
        assert_eq!(placeholders(3), "$1, $2, $3");
        assert_eq!(assignments("a, b, c", 1), "b = $2, c = $3");
        assert_eq!(row_placeholders(2, 2, true), "($1, $2), ($3, $4)");
        assert_eq!(row_placeholders(2, 2, false), "(?, ?), (?, ?)");
        assert_eq!(list_placeholders(3, false), "?, ?, ?");
    }
}
