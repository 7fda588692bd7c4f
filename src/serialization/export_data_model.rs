//! Tables and fields in an export (data-model.md §6, serialization.md §4.1, §4.4–§4.6): the
//! active tables of every exported database and their active fields, identified by their path
//! `[database, schema or null, table(, field)]`, with no id, timestamp, sync state, fingerprint
//! or `database_is_*` flag, so that servers that synced the same warehouse write the same files.
use std::collections::HashMap;

use serde_json::{json, Value};

use super::entities::{metabase_version, obj, stored, Rendered};
use super::export::database_dir;
use crate::data_model::store::{FieldRow, TableRow};
use crate::databases::store::DatabaseRow;
use crate::store::{StoreResult, Tx};

/// The data model of the exported databases, read in the export's snapshot.
#[derive(Default)]
pub struct DataModel {
    /// Per database (in the order given): its name and active tables, by id.
    databases: Vec<(String, Vec<TableRow>)>,
    /// Active fields of active tables, per table id, by id.
    fields: HashMap<i64, Vec<FieldRow>>,
    /// Every field of the exported databases whose table is active and which is active itself:
    /// the path a foreign key to it is written as.
    paths: HashMap<i64, Value>,
}

/// A table or field ready to be written.
pub struct Item {
    pub model: &'static str,
    /// The path as the JSON array of the log lines (`["Sample Database",null,"ORDERS"]`).
    pub id: String,
    /// The file, relative to the top-level directory.
    pub path: String,
    pub doc: Rendered,
}

/// The schema of a stored table as written in files: `null` for engines without schemas.
fn schema_value(t: &TableRow) -> Value {
    if t.schema.is_empty() {
        Value::Null
    } else {
        Value::String(t.schema.clone())
    }
}

fn table_path(db: &str, t: &TableRow) -> Value {
    json!([db, schema_value(t), t.name])
}

/// `databases/<db>/[schemas/<schema>/]tables/<table>/` with the names escaped (§4.1).
fn table_dir(db: &str, t: &TableRow) -> String {
    let mut dir = format!("databases/{}/", database_dir(db));
    if !t.schema.is_empty() {
        dir.push_str(&format!("schemas/{}/", database_dir(&t.schema)));
    }
    dir.push_str(&format!("tables/{}/", database_dir(&t.name)));
    dir
}

fn meta(db: &str, t: &TableRow, field: Option<&str>) -> Value {
    let mut m = vec![json!({"id": db, "model": "Database"})];
    if !t.schema.is_empty() {
        m.push(json!({"id": t.schema, "model": "Schema"}));
    }
    m.push(json!({"id": t.name, "model": "Table"}));
    if let Some(f) = field {
        m.push(json!({"id": f, "model": "Field"}));
    }
    Value::Array(m)
}

/// Reads the active tables and fields of `databases` (those of `data_model=true`).
pub async fn read(tx: &mut dyn Tx, databases: &[DatabaseRow]) -> StoreResult<DataModel> {
    let mut dm = DataModel::default();
    for d in databases {
        let tables: Vec<TableRow> = tx
            .dm_tables(d.id)
            .await?
            .into_iter()
            .filter(|t| t.active)
            .collect();
        let by_id: HashMap<i64, &TableRow> = tables.iter().map(|t| (t.id, t)).collect();
        for f in tx.dm_db_fields(d.id).await? {
            let Some(t) = by_id.get(&f.table_id) else {
                continue;
            };
            if !f.active {
                continue;
            }
            let mut path = table_path(&d.name, t);
            if let Value::Array(a) = &mut path {
                a.push(Value::String(f.name.clone()));
            }
            dm.paths.insert(f.id, path);
            dm.fields.entry(f.table_id).or_default().push(f);
        }
        dm.databases.push((d.name.clone(), tables));
    }
    Ok(dm)
}

impl DataModel {
    /// Every table and field file, tables of a database in id order, each followed by its
    /// fields.
    pub fn items(&self) -> Vec<Item> {
        let mut out = Vec::new();
        for (db, tables) in &self.databases {
            for t in tables {
                let dir = table_dir(db, t);
                out.push(Item {
                    model: "Table",
                    id: table_path(db, t).to_string(),
                    path: format!("{dir}{}.yaml", database_dir(&t.name)),
                    doc: Ok(table_doc(db, t)),
                });
                for f in self.fields.get(&t.id).map(Vec::as_slice).unwrap_or(&[]) {
                    out.push(Item {
                        model: "Field",
                        id: self
                            .paths
                            .get(&f.id)
                            .cloned()
                            .unwrap_or(Value::Null)
                            .to_string(),
                        path: format!("{dir}fields/{}.yaml", database_dir(&f.name)),
                        doc: self.field_doc(db, t, f),
                    });
                }
            }
        }
        out
    }

    /// A field file. A foreign key is written as its target's path when the target is itself
    /// exported (an active field of an active table), else `null`: a path to a field that is
    /// not in the archive could not be resolved by an import (§6).
    fn field_doc(&self, db: &str, t: &TableRow, f: &FieldRow) -> Rendered {
        let settings = match f.settings.as_deref() {
            Some(s) => stored("field settings", s)?,
            None => Value::Null,
        };
        let fk = f
            .fk_target_field_id
            .and_then(|id| self.paths.get(&id).cloned())
            .unwrap_or(Value::Null);
        Ok(obj(vec![
            ("name", json!(f.name)),
            ("description", json!(f.description)),
            ("display_name", json!(f.display_name)),
            ("base_type", json!(f.base_type)),
            ("effective_type", json!(f.effective_type)),
            ("database_type", json!(f.database_type)),
            ("semantic_type", json!(f.semantic_type)),
            ("coercion_strategy", json!(f.coercion_strategy)),
            ("fk_target_field_id", fk),
            ("visibility_type", json!(f.visibility_type)),
            ("has_field_values", json!(f.has_field_values)),
            ("settings", settings),
            ("caveats", json!(f.caveats)),
            ("points_of_interest", json!(f.points_of_interest)),
            ("position", json!(f.position)),
            ("custom_position", json!(f.custom_position)),
            ("database_position", json!(f.database_position)),
            ("json_unfolding", json!(f.json_unfolding)),
            ("table_id", table_path(db, t)),
            ("serdes/meta", meta(db, t, Some(&f.name))),
            ("metabase_version", json!(metabase_version())),
        ]))
    }
}

fn table_doc(db: &str, t: &TableRow) -> serde_json::Map<String, Value> {
    obj(vec![
        ("name", json!(t.name)),
        ("description", json!(t.description)),
        ("entity_type", json!(t.entity_type)),
        ("display_name", json!(t.display_name)),
        ("visibility_type", json!(t.visibility_type)),
        ("schema", schema_value(t)),
        ("points_of_interest", json!(t.points_of_interest)),
        ("caveats", json!(t.caveats)),
        ("show_in_getting_started", json!(t.show_in_getting_started)),
        ("field_order", json!(t.field_order)),
        ("db_id", json!(db)),
        ("serdes/meta", meta(db, t, None)),
        ("metabase_version", json!(metabase_version())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: &str, name: &str) -> TableRow {
        TableRow {
            id: 1,
            db_id: 1,
            schema: schema.into(),
            name: name.into(),
            display_name: name.into(),
            description: None,
            entity_type: None,
            visibility_type: None,
            active: true,
            field_order: "database".into(),
            initial_sync_status: "complete".into(),
            caveats: None,
            points_of_interest: None,
            show_in_getting_started: false,
            edited: String::new(),
            created_at: 0,
            updated_at: 0,
            deactivated_at: None,
        }
    }

    #[test]
    fn paths_and_meta() {
        let t = table("", "ORDERS");
        assert_eq!(
            table_path("Sample Database", &t).to_string(),
            r#"["Sample Database",null,"ORDERS"]"#
        );
        assert_eq!(
            table_dir("Sample Database", &t),
            "databases/Sample Database/tables/ORDERS/"
        );
        assert_eq!(meta("S", &t, None).as_array().map(Vec::len), Some(2));
        let t = table("a/b", "..");
        assert_eq!(
            table_dir("x\\y", &t),
            "databases/x__BACKSLASH__y/schemas/a__SLASH__b/tables/__DOT____DOT__/"
        );
        assert_eq!(
            meta("S", &t, Some("F")),
            json!([{"id": "S", "model": "Database"}, {"id": "a/b", "model": "Schema"},
                   {"id": "..", "model": "Table"}, {"id": "F", "model": "Field"}])
        );
    }
}
