//! Table and field objects as the API answers them (data-model.md §1.2, §1.3), and their
//! hydrated keys. Keys the spec lists as constants are written here once.
use serde_json::{json, Map, Value};

use super::store::{FieldRow, TableRow};
use super::sync::values::effective_has_field_values;
use crate::clock::Timestamp;

fn ts(micros: i64) -> Value {
    Value::String(Timestamp(micros).to_rfc3339())
}

fn opt_ts(micros: Option<i64>) -> Value {
    micros.map(ts).unwrap_or(Value::Null)
}

fn json_text(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// The table object of §1.2 (no hydrated keys).
pub fn table(t: &TableRow) -> Map<String, Value> {
    let v = json!({
        "id": t.id,
        "db_id": t.db_id,
        "schema": t.schema,
        "name": t.name,
        "display_name": t.display_name,
        "description": t.description,
        "entity_type": t.entity_type,
        "visibility_type": t.visibility_type,
        "active": t.active,
        "field_order": t.field_order,
        "initial_sync_status": t.initial_sync_status,
        "caveats": t.caveats,
        "points_of_interest": t.points_of_interest,
        "show_in_getting_started": t.show_in_getting_started,
        "created_at": ts(t.created_at),
        "updated_at": ts(t.updated_at),
        "deactivated_at": opt_ts(t.deactivated_at),
        "archived_at": null,
        "estimated_row_count": null,
        "view_count": 0,
        "is_upload": false,
        "is_writable": null,
        "database_require_filter": null,
        "data_authority": "unconfigured",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The field object of §1.3 (no hydrated keys); `has_field_values` is the effective value.
pub fn field(f: &FieldRow) -> Map<String, Value> {
    let fingerprint = json_text(f.fingerprint.as_deref());
    let v = json!({
        "id": f.id,
        "table_id": f.table_id,
        "name": f.name,
        "display_name": f.display_name,
        "description": f.description,
        "database_type": f.database_type,
        "base_type": f.base_type,
        "effective_type": f.effective_type,
        "semantic_type": f.semantic_type,
        "coercion_strategy": f.coercion_strategy,
        "fk_target_field_id": f.fk_target_field_id,
        "visibility_type": f.visibility_type,
        "has_field_values": effective_has_field_values(f),
        "position": f.position,
        "custom_position": f.custom_position,
        "database_position": f.database_position,
        "database_is_pk": f.database_is_pk,
        "database_is_nullable": f.database_is_nullable,
        "database_required": f.database_required,
        "database_is_auto_increment": f.database_is_auto_increment,
        "database_default": f.database_default,
        "database_is_generated": f.database_is_generated,
        "database_indexed": null,
        "database_partitioned": null,
        "active": f.active,
        "parent_id": null,
        "nfc_path": null,
        "json_unfolding": f.json_unfolding,
        "preview_display": f.preview_display,
        "settings": json_text(f.settings.as_deref()),
        "fingerprint_version": if fingerprint.is_null() { 0 } else { 5 },
        "fingerprint": fingerprint,
        "last_analyzed": opt_ts(f.last_analyzed),
        "caveats": f.caveats,
        "points_of_interest": f.points_of_interest,
        "created_at": ts(f.created_at),
        "updated_at": ts(f.updated_at),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Order of fields in responses (§1.2): position, then lower-cased name, then id.
pub fn sort_fields(fields: &mut [FieldRow]) {
    fields.sort_by(|a, b| {
        (a.position, a.name.to_lowercase(), a.id).cmp(&(b.position, b.name.to_lowercase(), b.id))
    });
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
pub fn name_field(f: &FieldRow, table_fields: &[FieldRow]) -> Value {
    if f.semantic_type.as_deref() != Some("type/PK") {
        return Value::Null;
    }
    let mut names: Vec<&FieldRow> = table_fields
        .iter()
        .filter(|o| o.active && o.semantic_type.as_deref() == Some("type/Name"))
        .collect();
    names.sort_by_key(|o| (o.position, o.id));
    names
        .first()
        .map(|o| Value::Object(field(o)))
        .unwrap_or(Value::Null)
}
