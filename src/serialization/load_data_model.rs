//! Loading table and field files (data-model.md §6): matched by path against the metadata this
//! server has synced, never created; the listed attributes validated and written as
//! `PUT /api/table/:id` and `PUT /api/field/:id` write them (the same parsers and rules), and
//! marked edited so that sync keeps them (§2.9). Sync-owned keys in the files are ignored.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::import::Entity;
use super::load::{LoadError, LoadResult, Loader, Outcome};
use crate::data_model::edit::{
    check_target, checks_target, patch_field, patch_table, store_field, store_table,
};
use crate::data_model::edits::mark_edited;
use crate::data_model::input::{FieldPatch, TablePatch};
use crate::data_model::store::{FieldRow, TableRow};
use crate::error::ApiError;
use crate::store::Tx;

/// The reason of the `skipped` line of a table or field this server does not know.
pub const NOT_SYNCED: &str = "not found in synced metadata";

/// What a table file may set (data-model.md §6), with the meaning `PUT /api/table/:id` gives.
const TABLE_KEYS: &[&str] = &[
    "description",
    "entity_type",
    "display_name",
    "visibility_type",
    "points_of_interest",
    "caveats",
    "show_in_getting_started",
    "field_order",
];

/// What a field file may set besides `fk_target_field_id` and `custom_position`.
const FIELD_KEYS: &[&str] = &[
    "description",
    "display_name",
    "semantic_type",
    "coercion_strategy",
    "visibility_type",
    "has_field_values",
    "settings",
    "caveats",
    "points_of_interest",
];

/// The identity of a table or field: `[database, schema or null, table(, field)]`. Metabase
/// writes the path of a nested field (a JSON or document column unfolded into fields) with its
/// parents' names before its own; ferrobase has no nested fields, so such a path never matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmPath {
    pub db: String,
    pub schema: Option<String>,
    pub table: String,
    /// Empty for a table; the field's name, after its parents' for a nested field.
    pub fields: Vec<String>,
}

/// A name in a path: a non-empty string without NUL (no stored name is anything else).
pub(super) fn path_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && !s.contains('\0') => Some(s.clone()),
        _ => None,
    }
}

impl DmPath {
    /// The path `serdes/meta` of a `model` (`Table` or `Field`) file declares:
    /// `[Database, Schema (only with a schema), Table(, Field…)]`, each with a name as `id`.
    pub fn of(doc: &Map<String, Value>, model: &str) -> Result<DmPath, String> {
        let bad = || {
            format!(
                "serdes/meta is not the path of a {model}: expected [Database, Schema (optional), \
                 Table{}] elements, each with a non-empty id",
                if model == "Field" { ", Field" } else { "" }
            )
        };
        let elements = doc
            .get("serdes/meta")
            .and_then(Value::as_array)
            .ok_or_else(bad)?;
        let mut parts: Vec<(&str, String)> = Vec::new();
        for e in elements {
            let m = e.get("model").and_then(Value::as_str).ok_or_else(bad)?;
            let id = e.get("id").and_then(path_name).ok_or_else(bad)?;
            parts.push((m, id));
        }
        let mut rest = parts.into_iter().peekable();
        let db = match rest.next() {
            Some(("Database", id)) => id,
            _ => return Err(bad()),
        };
        let schema = rest.next_if(|p| p.0 == "Schema").map(|(_, id)| id);
        let table = match rest.next() {
            Some(("Table", id)) => id,
            _ => return Err(bad()),
        };
        let mut fields = Vec::new();
        for (m, id) in rest {
            if m != "Field" {
                return Err(bad());
            }
            fields.push(id);
        }
        if fields.is_empty() != (model == "Table") {
            return Err(bad());
        }
        Ok(DmPath {
            db,
            schema,
            table,
            fields,
        })
    }

    /// A field reference as files write it (`fk_target_field_id`): `[database, schema or null,
    /// table, field…]`.
    pub(super) fn of_reference(v: &Value) -> Option<DmPath> {
        let [db, schema, table, fields @ ..] = v.as_array()?.as_slice() else {
            return None;
        };
        if fields.is_empty() {
            return None;
        }
        Some(DmPath {
            db: path_name(db)?,
            schema: match schema {
                Value::Null => None,
                s => Some(path_name(s)?),
            },
            table: path_name(table)?,
            fields: fields.iter().map(path_name).collect::<Option<_>>()?,
        })
    }

    fn table_value(&self) -> Value {
        json!([self.db, self.schema, self.table])
    }

    fn value(&self) -> Value {
        let mut v = self.table_value();
        if let Value::Array(a) = &mut v {
            a.extend(self.fields.iter().map(|f| json!(f)));
        }
        v
    }

    /// The id of log lines and messages: the path as a JSON array.
    pub fn id(&self) -> String {
        self.value().to_string()
    }

    /// The name of a field that is not nested: the only one a local field can have.
    pub(super) fn field(&self) -> Option<&str> {
        match self.fields.as_slice() {
            [f] => Some(f),
            _ => None,
        }
    }
}

/// A value in a message, shortened: files are untrusted and may hold anything.
pub(super) fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 100 {
        return s;
    }
    let cut: String = s.chars().take(100).collect();
    format!("{cut}…")
}

/// The keys that repeat the path (`name`, `db_id`, `schema`, `table_id`) must agree with it.
fn check_identity(doc: &Map<String, Value>, p: &DmPath) -> LoadResult<()> {
    let own = p.fields.last().unwrap_or(&p.table);
    let mut expected = vec![("name", json!(own))];
    if !p.fields.is_empty() {
        expected.push(("table_id", p.table_value()));
    } else {
        expected.push(("db_id", json!(p.db)));
        expected.push(("schema", json!(p.schema)));
    }
    for (key, want) in expected {
        match doc.get(key) {
            Some(got) if *got != want => {
                return Err(LoadError::new(format!(
                    "{key} {} does not match serdes/meta {}",
                    show(got),
                    p.id()
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The keys of `doc` among `keys`, as a request body.
fn pick(doc: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| Some((k.to_string(), doc.get(*k)?.clone())))
        .collect()
}

/// A refusal of the edit rules as the message of a `failed` line (`key: message; …`).
fn refused(e: ApiError) -> LoadError {
    match e {
        ApiError::Validation(v) => {
            let json = v.into_json();
            let message = json["errors"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or("invalid value")))
                .collect::<Vec<_>>()
                .join("; ");
            LoadError::new(message)
        }
        ApiError::Field { field, message } => LoadError::new(format!("{field}: {message}")),
        other => LoadError {
            message: "the application database refused the write".into(),
            causes: vec![other.to_string()],
        },
    }
}

/// Whether `new` differs from `old` in a stored value (not only in the edited set).
fn values_differ<T: Clone + PartialEq>(old: &T, new: &T, same_marks: impl Fn(&mut T, &T)) -> bool {
    let mut a = new.clone();
    same_marks(&mut a, old);
    a != *old
}

/// `(schema, name)` → table id, for one database; `missing` remembers the names looked up
/// in vain since the index was read.
#[derive(Default)]
pub struct DmIndex {
    tables: BTreeMap<(String, String), i64>,
    missing: BTreeSet<(String, String)>,
}

impl Loader<'_> {
    /// The stored table a path names (active or not: edits of a table that is gone for now
    /// wait for it to reappear, §2.8); `None` when this server never synced it.
    pub(super) async fn local_table(
        &mut self,
        tx: &mut dyn Tx,
        p: &DmPath,
    ) -> LoadResult<Option<TableRow>> {
        let Some(db) = tx.database_get_by_name(&p.db).await? else {
            return Ok(None);
        };
        let key = (p.schema.clone().unwrap_or_default(), p.table.clone());
        let index = self.dm_index.entry(db.id).or_default();
        let mut id = index.tables.get(&key).copied();
        if id.is_none() && !index.missing.contains(&key) {
            // Read (again): sync may have found tables since.
            let mut tables = BTreeMap::new();
            for t in tx.dm_tables(db.id).await? {
                let k = (t.schema.clone(), t.name.clone());
                // An active table wins over an inactive one of the same name.
                if t.active || !tables.contains_key(&k) {
                    tables.entry(k).and_modify(|x| *x = t.id).or_insert(t.id);
                }
            }
            index.tables = tables;
            index.missing.clear();
            id = index.tables.get(&key).copied();
            if id.is_none() {
                index.missing.insert(key);
            }
        }
        match id {
            Some(id) => Ok(tx.dm_table(id).await?.filter(|t| t.db_id == db.id)),
            None => Ok(None),
        }
    }

    /// A field of a table by name (an active one preferred).
    pub(super) async fn local_field(
        &mut self,
        tx: &mut dyn Tx,
        table: &TableRow,
        name: &str,
    ) -> LoadResult<Option<FieldRow>> {
        let fields = tx.dm_fields(table.id).await?;
        let mut found: Option<FieldRow> = None;
        for f in fields.into_iter().filter(|f| f.name == name) {
            if f.active || found.is_none() {
                found = Some(f);
            }
        }
        Ok(found)
    }

    /// A `fk_target_field_id` path → the id of the active field of an active table it names.
    async fn fk_target(&mut self, tx: &mut dyn Tx, v: &Value) -> LoadResult<i64> {
        let Some(target) = DmPath::of_reference(v) else {
            return Err(LoadError::new(format!(
                "fk_target_field_id: value must be the path [database, schema or null, table, \
                 field] of a field, or null; received {}",
                show(v)
            )));
        };
        self.active_field(tx, &target)
            .await?
            .ok_or_else(|| LoadError::not_found("Field", &target.id()))
    }

    pub(super) async fn table(&mut self, tx: &mut dyn Tx, e: &Entity) -> LoadResult<Outcome> {
        let p = DmPath::of(&e.doc, "Table").map_err(LoadError::new)?;
        check_identity(&e.doc, &p)?;
        let Some(old) = self.local_table(tx, &p).await? else {
            return Ok(Outcome::Skipped(NOT_SYNCED.into()));
        };
        let patch = TablePatch::parse(&pick(&e.doc, TABLE_KEYS), true).map_err(refused)?;
        let mut t = old.clone();
        patch_table(&mut t, &patch);
        // The file is the state to restore: `null` clears an entity type (the API cannot).
        if e.doc.get("entity_type") == Some(&Value::Null) {
            t.entity_type = None;
            t.edited = mark_edited(&t.edited, "entity_type");
        }
        let changed = values_differ(&old, &t, |a, o| a.edited = o.edited.clone());
        store_table(tx, &old, t, self.now())
            .await
            .map_err(refused)?;
        Ok(if changed {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        })
    }

    pub(super) async fn field(&mut self, tx: &mut dyn Tx, e: &Entity) -> LoadResult<Outcome> {
        let d = &e.doc;
        let p = DmPath::of(d, "Field").map_err(LoadError::new)?;
        check_identity(d, &p)?;
        let Some(table) = self.local_table(tx, &p).await? else {
            return Ok(Outcome::Skipped(NOT_SYNCED.into()));
        };
        let Some(name) = p.field() else {
            return Ok(Outcome::Skipped(NOT_SYNCED.into()));
        };
        let Some(old) = self.local_field(tx, &table, name).await? else {
            return Ok(Outcome::Skipped(NOT_SYNCED.into()));
        };
        let mut body = pick(d, FIELD_KEYS);
        match d.get("fk_target_field_id") {
            None => {}
            Some(Value::Null) => {
                body.insert("fk_target_field_id".into(), Value::Null);
            }
            Some(v) => {
                let id = self.fk_target(tx, v).await?;
                body.insert("fk_target_field_id".into(), json!(id));
            }
        }
        let patch = FieldPatch::parse(&body).map_err(refused)?;
        let mut f = old.clone();
        patch_field(&mut f, &patch);
        // The file is the state to restore: `null` clears the settings (the API cannot).
        if d.get("settings") == Some(&Value::Null) {
            f.settings = None;
            f.edited = mark_edited(&f.edited, "settings");
        }
        if table.field_order == "custom" {
            match d.get("custom_position") {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let n = v.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
                        LoadError::new(format!(
                            "custom_position: value must be an integer greater than or equal \
                             to zero; received {}",
                            show(v)
                        ))
                    })?;
                    f.custom_position = n;
                    f.has_custom_position = true;
                    f.edited = mark_edited(&f.edited, "custom_position");
                }
            }
        }
        if checks_target(&f, &patch) {
            check_target(tx, &f, table.db_id).await.map_err(refused)?;
        }
        let changed = values_differ(&old, &f, |a, o| a.edited = o.edited.clone());
        let now = self.now();
        store_field(tx, &old, f, now).await.map_err(refused)?;
        if changed {
            // A custom position or a semantic type (smart order) moves the displayed order.
            crate::data_model::sync::apply::reposition(tx, table.id, now)
                .await
                .map_err(|e| LoadError {
                    message: "the application database refused the write".into(),
                    causes: vec![e.0],
                })?;
        }
        Ok(if changed {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn paths_from_serdes_meta() {
        let t = doc(json!({"serdes/meta": [{"id": "S", "model": "Database"},
                                           {"id": "ORDERS", "model": "Table"}]}));
        let p = DmPath::of(&t, "Table").unwrap();
        assert_eq!(p.id(), r#"["S",null,"ORDERS"]"#);
        assert!(DmPath::of(&t, "Field").is_err());
        let f = doc(json!({"serdes/meta": [{"id": "W", "model": "Database"},
                                           {"id": "shop", "model": "Schema"},
                                           {"id": "orders", "model": "Table"},
                                           {"id": "id", "model": "Field"}]}));
        assert_eq!(
            DmPath::of(&f, "Field").unwrap().id(),
            r#"["W","shop","orders","id"]"#
        );
        // A nested field: parents' names first.
        let n = doc(json!({"serdes/meta": [{"id": "M", "model": "Database"},
                                           {"id": "t", "model": "Table"},
                                           {"id": "doc", "model": "Field"},
                                           {"id": "a", "model": "Field"}]}));
        let p = DmPath::of(&n, "Field").unwrap();
        assert_eq!(
            (p.id().as_str(), p.field()),
            (r#"["M",null,"t","doc","a"]"#, None)
        );
        for bad in [
            json!({"serdes/meta": [{"id": "S", "model": "Table"}]}),
            json!({"serdes/meta": [{"id": "S", "model": "Database"}, {"id": "s", "model": "Schema"}]}),
            json!({"serdes/meta": [{"id": "S", "model": "Database"}, {"id": "T", "model": "Table"},
                                   {"id": "s", "model": "Schema"}]}),
            json!({"serdes/meta": [{"id": "S", "model": "Database"}, {"id": 3, "model": "Table"}]}),
            json!({"serdes/meta": [{"id": "S", "model": "Database"}, {"id": "", "model": "Table"}]}),
            json!({"serdes/meta": [{"id": "S", "model": "Database"}, {"id": "a\u{0}", "model": "Table"}]}),
            json!({"serdes/meta": "x"}),
            json!({}),
        ] {
            assert!(DmPath::of(&doc(bad.clone()), "Table").is_err(), "{bad}");
        }
    }

    #[test]
    fn references_and_identity_keys() {
        let r = DmPath::of_reference(&json!(["S", null, "PEOPLE", "ID"])).unwrap();
        assert_eq!(r.id(), r#"["S",null,"PEOPLE","ID"]"#);
        assert!(DmPath::of_reference(&json!(["S", null, "PEOPLE"])).is_none());
        assert!(DmPath::of_reference(&json!(10)).is_none());
        assert!(DmPath::of_reference(&json!(["S", 1, "PEOPLE", "ID"])).is_none());
        let nested = DmPath::of_reference(&json!(["S", null, "T", "doc", "a"])).unwrap();
        assert_eq!((nested.fields.len(), nested.field()), (2, None));
        let p = DmPath {
            db: "S".into(),
            schema: None,
            table: "T".into(),
            fields: Vec::new(),
        };
        assert!(
            check_identity(&doc(json!({"name": "T", "db_id": "S", "schema": null})), &p).is_ok()
        );
        let e = check_identity(&doc(json!({"name": "U"})), &p).unwrap_err();
        assert_eq!(
            e.message,
            r#"name "U" does not match serdes/meta ["S",null,"T"]"#
        );
        assert!(check_identity(&doc(json!({"schema": "public"})), &p).is_err());
        let long = "x".repeat(500);
        let e = check_identity(&doc(json!({"name": long})), &p).unwrap_err();
        assert!(e.message.len() < 200, "{}", e.message);
    }
}
