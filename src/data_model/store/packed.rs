//! Reading a database's fields on SQLite as one packed JSON text (see [`packed_fields_sql`]).
use super::{qualified_field_columns, FieldRow};
use crate::store::StoreResult;

/// [`super::FieldTx::dm_db_fields`] on SQLite as one text value: a JSON array holding one array
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
}
