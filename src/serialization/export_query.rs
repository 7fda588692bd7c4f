//! A card's `dataset_query` as files write it (serialization.md §4.5, §4.6): always MBQL 5 — a
//! legacy query converted by [`crate::mbql::legacy_to_v5`], an MBQL 5 query normalised — with
//! the database as its name, tables as `[database, schema or null, table]`, fields (in `field`
//! references and their `source-field` / `fk-field-id` options, in every stage, join, template
//! tag and nesting) as `[database, schema or null, table, field]`, and cards as entity ids, as
//! Metabase's serialization writes them and its validator (`@metabase/representations`) checks.
//!
//! An id this server does not know (a dangling reference) is written as it is stored. A query
//! that does not normalise (nested too deep) keeps its stored form, with references rewritten.
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::entities::Refs;
use crate::databases::store::DatabaseRow;
use crate::store::{StoreResult, Tx};

/// Table id → `[db, schema or null, table]` and field id → `[db, schema or null, table, field]`
/// for every table and field of `databases`, active or not: a query naming a table that is gone
/// for now still names it by its path.
pub async fn read_paths(
    tx: &mut dyn Tx,
    databases: &[DatabaseRow],
) -> StoreResult<(BTreeMap<i64, Value>, BTreeMap<i64, Value>)> {
    let mut tables = BTreeMap::new();
    let mut fields = BTreeMap::new();
    for d in databases {
        for t in tx.dm_tables(d.id).await? {
            let schema = match t.schema.as_str() {
                "" => Value::Null,
                s => json!(s),
            };
            tables.insert(t.id, json!([d.name, schema, t.name]));
        }
        for f in tx.dm_db_fields(d.id).await? {
            if let Some(Value::Array(path)) = tables.get(&f.table_id) {
                let mut path = path.clone();
                path.push(json!(f.name));
                fields.insert(f.id, Value::Array(path));
            }
        }
    }
    Ok((tables, fields))
}

/// The stored `dataset_query` of card `card_eid` as written in its file.
pub fn dataset_query(stored: &Value, card_eid: &str, refs: &Refs) -> Value {
    let converted = stored
        .as_object()
        .and_then(|m| crate::mbql::legacy_to_v5(m).ok());
    let Some(query) = converted else {
        let mut v = stored.clone();
        rewrite(&mut v, refs, Form::Legacy, true);
        return v;
    };
    let mut v = Value::Object(query);
    if let Some(stages) = v.get_mut("stages").and_then(Value::as_array_mut) {
        for stage in stages {
            if let Some(tags) = stage.get_mut("template-tags") {
                complete_tags(tags, card_eid);
            }
        }
    }
    rewrite(&mut v, refs, Form::V5, true);
    v
}

#[derive(Clone, Copy)]
enum Form {
    Legacy,
    V5,
}

/// Rewrites the references of `v` in place; `top` is the query object itself (the only place
/// a `database` key is a database reference).
fn rewrite(v: &mut Value, refs: &Refs, form: Form, top: bool) {
    match v {
        Value::Object(m) => {
            if top {
                if let Some(name) = m
                    .get("database")
                    .and_then(Value::as_i64)
                    .and_then(|id| refs.databases.get(&id).cloned())
                {
                    m.insert("database".into(), json!(name));
                }
            }
            if let Some(source) = m.get("source-table").cloned() {
                match source {
                    Value::Number(n) => {
                        if let Some(p) = n.as_i64().and_then(|id| refs.tables.get(&id)) {
                            m.insert("source-table".into(), p.clone());
                        }
                    }
                    Value::String(s) => {
                        let card = s
                            .strip_prefix("card__")
                            .and_then(|n| n.parse::<i64>().ok())
                            .and_then(|id| refs.cards.get(&id));
                        match (card, form) {
                            // An MBQL 5 stage reads a card through `source-card`.
                            (Some(eid), Form::V5) => {
                                m.remove("source-table");
                                m.insert("source-card".into(), json!(eid));
                            }
                            (Some(eid), Form::Legacy) => {
                                m.insert("source-table".into(), json!(format!("card__{eid}")));
                            }
                            (None, _) => {}
                        }
                    }
                    _ => {}
                }
            }
            for key in ["source-card", "card-id"] {
                if let Some(eid) = m
                    .get(key)
                    .and_then(Value::as_i64)
                    .and_then(|id| refs.cards.get(&id))
                {
                    m.insert(key.into(), json!(eid));
                }
            }
            if let Some(p) = m
                .get("table-id")
                .and_then(Value::as_i64)
                .and_then(|id| refs.tables.get(&id))
            {
                m.insert("table-id".into(), p.clone());
            }
            for (key, x) in m.iter_mut() {
                if !matches!(key.as_str(), "source-table" | "table-id") {
                    rewrite(x, refs, form, false);
                }
            }
        }
        Value::Array(items) => {
            if items.first().and_then(Value::as_str) == Some("field") {
                field_clause(items, refs);
            }
            for x in items.iter_mut() {
                rewrite(x, refs, form, false);
            }
        }
        _ => {}
    }
}

/// `["field", {opts}, id]` (MBQL 5) or `["field", id, opts]` (legacy): the id and the
/// `source-field` / `fk-field-id` options as field paths.
fn field_clause(items: &mut [Value], refs: &Refs) {
    for i in [1, 2] {
        let Some(slot) = items.get_mut(i) else {
            continue;
        };
        if let Some(p) = slot.as_i64().and_then(|id| refs.fields.get(&id)) {
            *slot = p.clone();
        } else if let Value::Object(opts) = slot {
            for key in ["source-field", "fk-field-id"] {
                if let Some(p) = opts
                    .get(key)
                    .and_then(Value::as_i64)
                    .and_then(|id| refs.fields.get(&id))
                {
                    opts.insert(key.into(), p.clone());
                }
            }
        }
    }
}

/// Template tags as Metabase's representation requires them (and its own editor writes them):
/// each with its `name` and an `id` (a uuid derived from the card and the tag name when the
/// stored tag has none, so that exports stay reproducible), a field filter with a
/// `widget-type` (`none` when unset) and its `dimension` in the MBQL 5 shape
/// `["field", {options}, field]`.
fn complete_tags(tags: &mut Value, card_eid: &str) {
    let complete = |name: Option<&str>, tag: &mut Map<String, Value>| {
        if let Some(name) = name {
            tag.entry("name").or_insert_with(|| json!(name));
        }
        let name = tag
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        tag.entry("id")
            .or_insert_with(|| json!(tag_uuid(card_eid, &name)));
        if tag.get("type").and_then(Value::as_str) == Some("dimension") {
            tag.entry("widget-type").or_insert_with(|| json!("none"));
            if let Some(Value::Array(d)) = tag.get_mut("dimension") {
                v5_field_shape(d);
            }
        }
    };
    match tags {
        Value::Object(m) => {
            for (name, tag) in m.iter_mut() {
                if let Value::Object(t) = tag {
                    complete(Some(name), t);
                }
            }
        }
        Value::Array(list) => {
            for tag in list.iter_mut() {
                if let Value::Object(t) = tag {
                    complete(None, t);
                }
            }
        }
        _ => {}
    }
}

/// A legacy `["field", id or name, options or null]` as `["field", {options}, id or name]`.
fn v5_field_shape(clause: &mut [Value]) {
    if clause.first().and_then(Value::as_str) != Some("field") || clause.len() != 3 {
        return;
    }
    if clause[1].is_object() {
        return;
    }
    let opts = match clause[2].take() {
        Value::Object(o) => Value::Object(o),
        _ => json!({}),
    };
    let target = std::mem::replace(&mut clause[1], opts);
    clause[2] = target;
}

/// A version-4-shaped uuid from the card and the tag name.
fn tag_uuid(card_eid: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{card_eid}\0{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> Refs {
        let mut r = Refs::default();
        r.databases.insert(1, "Sample Database".into());
        r.cards.insert(7, "CCCCCCCCCCCCCCCCCCCCC".into());
        r.tables
            .insert(2, json!(["Sample Database", null, "ORDERS"]));
        r.tables
            .insert(3, json!(["Sample Database", null, "PRODUCTS"]));
        r.fields
            .insert(10, json!(["Sample Database", null, "ORDERS", "PRODUCT_ID"]));
        r.fields
            .insert(11, json!(["Sample Database", null, "PRODUCTS", "CATEGORY"]));
        r.fields
            .insert(12, json!(["Sample Database", null, "ORDERS", "CREATED_AT"]));
        r
    }

    #[test]
    fn legacy_mbql_becomes_mbql_5_with_paths() {
        let q = json!({"database": 1, "type": "query", "query": {
            "source-table": 2,
            "joins": [{"source-table": 3, "alias": "P", "strategy": "left-join",
                       "condition": ["=", ["field", 10, null], ["field", 20, {"join-alias": "P"}]]}],
            "aggregation": [["count"]],
            "breakout": [["field", 11, {"source-field": 10}],
                         ["field", 12, {"temporal-unit": "month"}]]}});
        let v = dataset_query(&q, "EEEEEEEEEEEEEEEEEEEEE", &refs());
        assert_eq!(v["lib/type"], "mbql/query");
        assert_eq!(v["database"], "Sample Database");
        let stage = &v["stages"][0];
        assert_eq!(
            stage["source-table"],
            json!(["Sample Database", null, "ORDERS"])
        );
        assert_eq!(
            stage["joins"][0]["stages"][0]["source-table"],
            json!(["Sample Database", null, "PRODUCTS"])
        );
        // An unknown field id (20) stays as stored.
        assert_eq!(stage["joins"][0]["conditions"][0][3][2], json!(20));
        let b = &stage["breakout"][0];
        assert_eq!(
            b[2],
            json!(["Sample Database", null, "PRODUCTS", "CATEGORY"])
        );
        assert_eq!(
            b[1]["source-field"],
            json!(["Sample Database", null, "ORDERS", "PRODUCT_ID"])
        );
        assert_eq!(stage["breakout"][1][1]["temporal-unit"], "month");
    }

    #[test]
    fn cards_become_entity_ids_in_both_forms() {
        let legacy = json!({"database": 1, "type": "query",
                            "query": {"source-table": "card__7"}});
        let v = dataset_query(&legacy, "E", &refs());
        assert_eq!(v["stages"][0]["source-card"], "CCCCCCCCCCCCCCCCCCCCC");
        assert!(v["stages"][0].get("source-table").is_none());
        let v5 = json!({"lib/type": "mbql/query", "database": 1,
                        "stages": [{"lib/type": "mbql.stage/mbql", "source-card": 7}]});
        let v = dataset_query(&v5, "E", &refs());
        assert_eq!(v["stages"][0]["source-card"], "CCCCCCCCCCCCCCCCCCCCC");
        // An MBQL 5 stage that still reads `card__<id>` reads the card through `source-card`.
        let odd = json!({"lib/type": "mbql/query", "database": 1,
                         "stages": [{"lib/type": "mbql.stage/mbql", "source-table": "card__7"}]});
        let v = dataset_query(&odd, "E", &refs());
        assert_eq!(v["stages"][0]["source-card"], "CCCCCCCCCCCCCCCCCCCCC");
        // What cannot be converted keeps its form; `card__<id>` becomes `card__<eid>`.
        let mut deep = json!(["+", 1, 1]);
        for _ in 0..70 {
            deep = json!(["+", deep, 1]);
        }
        let broken = json!({"database": 1, "type": "query",
                            "query": {"source-table": "card__7", "expressions": {"x": deep}}});
        let v = dataset_query(&broken, "E", &refs());
        assert_eq!(v["query"]["source-table"], "card__CCCCCCCCCCCCCCCCCCCCC");
        assert_eq!(v["database"], "Sample Database");
    }

    #[test]
    fn native_queries_get_complete_template_tags() {
        let q = json!({"database": 1, "type": "native", "native": {
            "query": "SELECT * FROM {{#7}} WHERE {{f}} AND x = {{n}}",
            "template-tags": {
                "#7": {"type": "card", "card-id": 7, "name": "#7", "id": "1e3b1c0a-0000-4000-8000-000000000001"},
                "f": {"type": "dimension", "dimension": ["field", 12, null]},
                "n": {"type": "number", "display-name": "N"}}}});
        let v = dataset_query(&q, "EEEEEEEEEEEEEEEEEEEEE", &refs());
        let stage = &v["stages"][0];
        assert_eq!(stage["lib/type"], "mbql.stage/native");
        let tags = &stage["template-tags"];
        assert_eq!(tags["#7"]["card-id"], "CCCCCCCCCCCCCCCCCCCCC");
        assert_eq!(tags["#7"]["id"], "1e3b1c0a-0000-4000-8000-000000000001");
        assert_eq!(
            tags["f"]["dimension"],
            json!([
                "field",
                {},
                ["Sample Database", null, "ORDERS", "CREATED_AT"]
            ])
        );
        assert_eq!(tags["f"]["widget-type"], "none");
        assert_eq!(tags["n"]["name"], "n");
        let id = tags["n"]["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        // Reproducible, and different per tag.
        let again = dataset_query(&q, "EEEEEEEEEEEEEEEEEEEEE", &refs());
        assert_eq!(again, v);
        assert_ne!(tags["f"]["id"], tags["n"]["id"]);
    }
}
