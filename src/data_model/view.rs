//! Table and field objects as the API answers them (data-model.md §1.2, §1.3), and their
//! hydrated keys. Keys the spec lists as constants are written here once.
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::store::{FieldRow, TableRow};
use super::sync::values::effective_has_field_values;
use crate::clock::Timestamp;
use crate::databases::view::Database;

fn json_text(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// The table object of §1.2 (no hydrated keys), serialisable without building a JSON value.
#[derive(Serialize)]
pub struct TableJson<'a> {
    id: i64,
    db_id: i64,
    schema: &'a str,
    name: &'a str,
    display_name: &'a str,
    description: &'a Option<String>,
    entity_type: &'a Option<String>,
    visibility_type: &'a Option<String>,
    active: bool,
    field_order: &'a str,
    initial_sync_status: &'a str,
    caveats: &'a Option<String>,
    points_of_interest: &'a Option<String>,
    show_in_getting_started: bool,
    created_at: String,
    updated_at: String,
    deactivated_at: Option<String>,
    archived_at: (),
    estimated_row_count: (),
    view_count: i64,
    is_upload: bool,
    is_writable: (),
    database_require_filter: (),
    data_authority: &'static str,
}

impl<'a> TableJson<'a> {
    pub fn of(t: &'a TableRow) -> TableJson<'a> {
        TableJson {
            id: t.id,
            db_id: t.db_id,
            schema: &t.schema,
            name: &t.name,
            display_name: &t.display_name,
            description: &t.description,
            entity_type: &t.entity_type,
            visibility_type: &t.visibility_type,
            active: t.active,
            field_order: &t.field_order,
            initial_sync_status: &t.initial_sync_status,
            caveats: &t.caveats,
            points_of_interest: &t.points_of_interest,
            show_in_getting_started: t.show_in_getting_started,
            created_at: Timestamp(t.created_at).to_rfc3339(),
            updated_at: Timestamp(t.updated_at).to_rfc3339(),
            deactivated_at: t.deactivated_at.map(|m| Timestamp(m).to_rfc3339()),
            archived_at: (),
            estimated_row_count: (),
            view_count: 0,
            is_upload: false,
            is_writable: (),
            database_require_filter: (),
            data_authority: "unconfigured",
        }
    }
}

/// The field object of §1.3 (no hydrated keys; `has_field_values` is the effective value),
/// serialisable without building a JSON value.
#[derive(Serialize)]
pub struct FieldJson<'a> {
    id: i64,
    table_id: i64,
    name: &'a str,
    display_name: &'a str,
    description: &'a Option<String>,
    database_type: &'a str,
    base_type: &'a str,
    effective_type: &'a str,
    semantic_type: &'a Option<String>,
    coercion_strategy: &'a Option<String>,
    fk_target_field_id: Option<i64>,
    visibility_type: &'a str,
    has_field_values: &'a str,
    position: i64,
    custom_position: i64,
    database_position: i64,
    database_is_pk: bool,
    database_is_nullable: bool,
    database_required: bool,
    database_is_auto_increment: bool,
    database_default: &'a Option<String>,
    database_is_generated: bool,
    database_indexed: (),
    database_partitioned: (),
    active: bool,
    parent_id: (),
    nfc_path: (),
    json_unfolding: bool,
    preview_display: bool,
    settings: Value,
    fingerprint_version: i64,
    /// The stored text as it is: only sync writes it, as compact JSON, so parsing it into a
    /// value and writing that again gives the same bytes, at a cost (20,000 fields of a
    /// metadata body: ~20% of its time).
    fingerprint: Option<&'a RawValue>,
    last_analyzed: Option<String>,
    caveats: &'a Option<String>,
    points_of_interest: &'a Option<String>,
    created_at: String,
    updated_at: String,
}

impl<'a> FieldJson<'a> {
    pub fn of(f: &'a FieldRow) -> FieldJson<'a> {
        let fingerprint = f
            .fingerprint
            .as_deref()
            .and_then(|t| serde_json::from_str::<&RawValue>(t).ok())
            .filter(|raw| raw.get() != "null");
        FieldJson {
            id: f.id,
            table_id: f.table_id,
            name: &f.name,
            display_name: &f.display_name,
            description: &f.description,
            database_type: &f.database_type,
            base_type: &f.base_type,
            effective_type: &f.effective_type,
            semantic_type: &f.semantic_type,
            coercion_strategy: &f.coercion_strategy,
            fk_target_field_id: f.fk_target_field_id,
            visibility_type: &f.visibility_type,
            has_field_values: effective_has_field_values(f),
            position: f.position,
            custom_position: f.custom_position,
            database_position: f.database_position,
            database_is_pk: f.database_is_pk,
            database_is_nullable: f.database_is_nullable,
            database_required: f.database_required,
            database_is_auto_increment: f.database_is_auto_increment,
            database_default: &f.database_default,
            database_is_generated: f.database_is_generated,
            database_indexed: (),
            database_partitioned: (),
            active: f.active,
            parent_id: (),
            nfc_path: (),
            json_unfolding: f.json_unfolding,
            preview_display: f.preview_display,
            settings: json_text(f.settings.as_deref()),
            fingerprint_version: if fingerprint.is_none() { 0 } else { 5 },
            fingerprint,
            last_analyzed: f.last_analyzed.map(|m| Timestamp(m).to_rfc3339()),
            caveats: &f.caveats,
            points_of_interest: &f.points_of_interest,
            created_at: Timestamp(f.created_at).to_rfc3339(),
            updated_at: Timestamp(f.updated_at).to_rfc3339(),
        }
    }
}

/// Order of fields in responses (§1.2): position, then lower-cased name, then id.
pub fn sort_fields(fields: &mut [FieldRow]) {
    // Each name lower-cased once, not once per comparison.
    fields.sort_by_cached_key(|f| (f.position, f.name.to_lowercase(), f.id));
}

/// `pk_field`: the active non-sensitive, non-retired `type/PK` field (§1.2).
pub fn pk_field(fields: &[FieldRow]) -> Option<i64> {
    fields
        .iter()
        .find(|f| {
            f.active
                && f.semantic_type.as_deref() == Some("type/PK")
                && !matches!(f.visibility_type.as_str(), "sensitive" | "retired")
        })
        .map(|f| f.id)
}

/// `name_field` of a `type/PK` field: the first active `type/Name` field of its table by
/// position (§1.3).
pub fn name_field_row<'a>(f: &FieldRow, table_fields: &'a [FieldRow]) -> Option<&'a FieldRow> {
    if f.semantic_type.as_deref() != Some("type/PK") {
        return None;
    }
    table_fields
        .iter()
        .filter(|o| o.active && o.semantic_type.as_deref() == Some("type/Name"))
        .min_by_key(|o| (o.position, o.id))
}

/// A table object of §1.2 owning its row (what [`TableJson`] writes).
#[derive(Debug, Clone)]
pub struct Table(pub TableRow);

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TableJson::of(&self.0).serialize(s)
    }
}

/// A field object of §1.3 owning its row (what [`FieldJson`] writes).
#[derive(Debug, Clone)]
pub struct Field(pub FieldRow);

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FieldJson::of(&self.0).serialize(s)
    }
}

/// A table with its database as `db` (`GET /api/table`, the tables of `fks` and of a field).
#[derive(Debug, Clone, Serialize)]
pub struct TableWithDb {
    #[serde(flatten)]
    pub table: Table,
    pub db: Database,
}

/// `GET /api/table/:id` and the answers of `PUT /api/table…`: the table, `db`, `pk_field`.
#[derive(Debug, Serialize)]
pub struct TableDetail {
    #[serde(flatten)]
    pub table: TableWithDb,
    pub pk_field: Option<i64>,
}

/// A field as `query_metadata`, `metadata` and `GET /api/field/:id` list it: the field object,
/// `target`, `dimensions`, `name_field`. `F` is [`Field`] or a borrowed [`FieldJson`].
#[derive(Debug, Serialize)]
pub struct FieldEntry<F> {
    #[serde(flatten)]
    pub field: F,
    pub target: Option<F>,
    pub dimensions: [(); 0],
    pub name_field: Option<F>,
}

/// `GET /api/table/:id/query_metadata` (§5.10): the table, `db` (without `details`), its
/// listed fields, and no segments or metrics.
#[derive(Debug, Serialize)]
pub struct TableMetadata {
    #[serde(flatten)]
    pub table: Table,
    pub db: Database,
    pub fields: Vec<FieldEntry<Field>>,
    pub segments: [(); 0],
    pub metrics: [(); 0],
}

/// A field (or field entry) with its table as `table`.
#[derive(Debug, Serialize)]
pub struct FieldWithTable<F, T> {
    #[serde(flatten)]
    pub field: F,
    pub table: T,
}

/// `GET /api/field/:id` (§5.15): the field entry with its table and the table's `db`.
pub type FieldDetail = FieldWithTable<FieldEntry<Field>, TableWithDb>;

/// An entry of `GET /api/table/:id/fks` (§5.11): an active field of a readable table (with
/// `db`) pointing at a field of this table (without).
#[derive(Debug, Serialize)]
pub struct FkRelationship {
    pub relationship: &'static str,
    pub origin_id: i64,
    pub destination_id: i64,
    pub origin: FieldWithTable<Field, TableWithDb>,
    pub destination: FieldWithTable<Field, Table>,
}

/// A table as `include=tables` (and `tables.fields`) lists it on database objects.
#[derive(Debug, Serialize)]
pub struct ListedTable {
    #[serde(flatten)]
    pub table: Table,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldEntry<Field>>>,
}

/// An entry of `GET /api/database/:id/fields` (§5.4).
#[derive(Debug, Serialize)]
pub struct DbField {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub base_type: String,
    pub semantic_type: Option<String>,
    pub table_name: String,
    pub table_id: i64,
    pub schema: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_model::fingerprint;
    use crate::data_model::store::unpack_fields;
    use crate::warehouse::cell::Cell;

    fn field(fingerprint: Option<String>) -> FieldRow {
        let packed = r#"[[3,2,"a","A",null,"text","type/Text","type/Text",null,null,null,"normal",null,0,0,false,0,false,true,false,false,null,false,true,false,true,null,null,null,12,null,null,"",8,9]]"#;
        FieldRow {
            fingerprint,
            ..unpack_fields(packed).unwrap().remove(0)
        }
    }

    #[test]
    fn stored_fingerprints_are_written_as_parsing_them_would() {
        let texts = [
            Cell::Text("https://example.com/é?q=\"1\"\\".into()),
            Cell::Text("{\"a\": [1, 2]}".into()),
            Cell::Text("Ohio".into()),
            Cell::Null,
        ];
        let numbers = [Cell::Float(0.1), Cell::Int(3), Cell::Decimal("1e3".into())];
        let times = [Cell::Text("2024-02-29T23:59:59.123456Z".into())];
        for (base, cells) in [
            ("type/Text", &texts[..]),
            ("type/Float", &numbers[..]),
            ("type/DateTime", &times[..]),
        ] {
            let cells: Vec<&Cell> = cells.iter().collect();
            let stored = fingerprint::compute(base, &cells).to_json().to_string();
            let parsed: Value = serde_json::from_str(&stored).unwrap();
            // What the body held when the text was parsed into a value first.
            assert_eq!(serde_json::to_string(&parsed).unwrap(), stored);
            let f = field(Some(stored.clone()));
            let body = serde_json::to_string(&FieldJson::of(&f)).unwrap();
            assert!(
                body.contains(&format!("\"fingerprint\":{stored},")),
                "{body}"
            );
            assert!(body.contains("\"fingerprint_version\":5"), "{body}");
        }
        for text in [None, Some("null".to_string()), Some("{oops".to_string())] {
            let f = field(text);
            let body = serde_json::to_string(&FieldJson::of(&f)).unwrap();
            assert!(
                body.contains("\"fingerprint_version\":0,\"fingerprint\":null"),
                "{body}"
            );
        }
    }
}
