//! A card's `dataset_query` read back from a file (serialization.md §4.5, §5.2), in either form
//! (legacy or MBQL 5), with its references resolved to local ids: the database by name; cards by
//! entity id (`source-card`, a legacy `source-table` of `card__<eid>` or a bare entity id, the
//! `card-id` of a template tag); tables (`source-table`, a template tag's `table-id`) and fields
//! (in `field` references and their `source-field` / `fk-field-id` options, anywhere) by path,
//! against the tables and fields this server has synced and holds active. A reference that does
//! not resolve fails the card with `<Model> '<reference>' was not found`. Everything else is kept
//! as written, so the card stores the form its file has.
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::load::{LoadError, LoadResult, Loader};
use super::load_data_model::{path_name, show, DmPath};
use crate::store::Tx;

/// Where a reference sits in a query.
#[derive(Debug, Clone, Copy)]
enum Site {
    SourceTable,
    SourceCard,
    CardId,
    TableId,
    Field,
}

/// Calls `f` on every reference site of `v` (the value under the key, or the target or option
/// of a `field` clause); a site's value is not walked further. Documents come from the bounded
/// YAML reader (at most 128 levels deep), so the recursion is bounded.
fn visit(v: &mut Value, f: &mut dyn FnMut(Site, &mut Value)) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match k.as_str() {
                    "source-table" => f(Site::SourceTable, x),
                    "source-card" => f(Site::SourceCard, x),
                    "card-id" => f(Site::CardId, x),
                    "table-id" => f(Site::TableId, x),
                    _ => visit(x, f),
                }
            }
        }
        Value::Array(items) => {
            if items.first().and_then(Value::as_str) != Some("field") {
                items.iter_mut().for_each(|x| visit(x, f));
                return;
            }
            // `["field", <path>, {opts}]` (legacy) or `["field", {opts}, <path>]` (MBQL 5).
            for x in items.iter_mut().skip(1).take(2) {
                match x {
                    Value::Array(_) => f(Site::Field, x),
                    Value::Object(opts) => {
                        for key in ["source-field", "fk-field-id"] {
                            if let Some(o) = opts.get_mut(key).filter(|o| o.is_array()) {
                                f(Site::Field, o);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// The entity id a card reference names, or `None` for a local numeric one (`card__12`).
fn card_eid(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("card__").unwrap_or(s);
    (rest.parse::<i64>().is_err()).then_some(rest)
}

/// Entity ids of the cards a query uses (its sources and card template tags).
pub fn card_refs(q: &Value) -> Vec<String> {
    let mut q = q.clone();
    let mut out = Vec::new();
    visit(&mut q, &mut |site, x| {
        let eid = match (site, &*x) {
            (Site::SourceTable, Value::String(s)) => card_eid(s),
            (Site::SourceCard | Site::CardId, Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        out.extend(eid.map(String::from));
    });
    out
}

/// `[database, schema or null, table]`.
fn table_reference(v: &Value) -> Option<DmPath> {
    let [db, schema, table] = v.as_array()?.as_slice() else {
        return None;
    };
    Some(DmPath {
        db: path_name(db)?,
        schema: match schema {
            Value::Null => None,
            s => Some(path_name(s)?),
        },
        table: path_name(table)?,
        fields: Vec::new(),
    })
}

/// A path that names nothing active here.
fn unresolved(model: &str, v: &Value) -> LoadError {
    LoadError {
        message: format!("{model} '{}' was not found", show(v)),
        causes: vec![format!(
            "no active {} with this path has been synced on this server",
            model.to_lowercase()
        )],
    }
}

impl Loader<'_> {
    /// The id of the active table a path names.
    async fn table_path_id(&mut self, tx: &mut dyn Tx, v: &Value) -> LoadResult<i64> {
        let Some(p) = table_reference(v) else {
            return Err(unresolved("Table", v));
        };
        match self.local_table(tx, &p).await? {
            Some(t) if t.active => Ok(t.id),
            _ => Err(unresolved("Table", v)),
        }
    }

    /// The id of the active field of an active table that `p` names, if any.
    pub(super) async fn active_field(
        &mut self,
        tx: &mut dyn Tx,
        p: &DmPath,
    ) -> LoadResult<Option<i64>> {
        let Some(table) = self.local_table(tx, p).await?.filter(|t| t.active) else {
            return Ok(None);
        };
        let Some(name) = p.field() else {
            return Ok(None);
        };
        Ok(self
            .local_field(tx, &table, name)
            .await?
            .filter(|f| f.active)
            .map(|f| f.id))
    }

    async fn field_path_id(&mut self, tx: &mut dyn Tx, v: &Value) -> LoadResult<i64> {
        let Some(p) = DmPath::of_reference(v) else {
            return Err(unresolved("Field", v));
        };
        self.active_field(tx, &p)
            .await?
            .ok_or_else(|| unresolved("Field", v))
    }

    /// `dataset_query` with names, paths and entity ids replaced by local ids.
    pub(super) async fn import_query(&mut self, tx: &mut dyn Tx, q: &Value) -> LoadResult<Value> {
        let mut out = q.clone();
        if let Some(Value::String(name)) = out.get("database").cloned() {
            let id = self.database_ref(tx, &name).await?;
            out["database"] = json!(id);
        }
        let mut wanted: Vec<(Site, Value)> = Vec::new();
        visit(&mut out, &mut |site, x| wanted.push((site, x.clone())));
        let key = |site: Site, x: &Value| format!("{site:?} {x}");
        let mut ids: BTreeMap<String, Value> = BTreeMap::new();
        for (site, x) in wanted {
            if ids.contains_key(&key(site, &x)) {
                continue;
            }
            let local = match (site, &x) {
                (Site::SourceTable, Value::String(s)) => match card_eid(s) {
                    Some(eid) => json!(format!("card__{}", self.card_ref(tx, eid).await?)),
                    None => continue,
                },
                (Site::SourceCard | Site::CardId, Value::String(eid)) => {
                    json!(self.card_ref(tx, eid).await?)
                }
                (Site::SourceTable | Site::TableId, Value::Array(_)) => {
                    json!(self.table_path_id(tx, &x).await?)
                }
                (Site::Field, _) => json!(self.field_path_id(tx, &x).await?),
                _ => continue,
            };
            ids.insert(key(site, &x), local);
        }
        visit(&mut out, &mut |site, x| {
            if let Some(local) = ids.get(&key(site, x)) {
                *x = local.clone();
            }
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_references_in_both_forms() {
        let q = json!({"database": "S", "type": "query", "query": {
            "source-query": {"source-table": "card__AAAAAAAAAAAAAAAAAAAAA"},
            "joins": [{"source-table": "BBBBBBBBBBBBBBBBBBBBB", "alias": "B"},
                      {"source-table": "card__12", "alias": "L"},
                      {"source-table": ["S", null, "T"], "alias": "T"}]}});
        assert_eq!(
            card_refs(&q),
            ["AAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBB"]
        );
        let v5 = json!({"lib/type": "mbql/query", "database": "S", "stages": [
            {"lib/type": "mbql.stage/native", "native": "SELECT * FROM {{#c}}",
             "template-tags": {"#c": {"type": "card", "card-id": "CCCCCCCCCCCCCCCCCCCCC"}}},
            {"lib/type": "mbql.stage/mbql", "joins": [
                {"stages": [{"lib/type": "mbql.stage/mbql", "source-card": "DDDDDDDDDDDDDDDDDDDDD"}]}]}]});
        assert_eq!(
            card_refs(&v5),
            ["CCCCCCCCCCCCCCCCCCCCC", "DDDDDDDDDDDDDDDDDDDDD"]
        );
    }

    #[test]
    fn field_paths_are_found_in_both_shapes() {
        let mut q = json!({"stages": [{"filters": [
            ["=", {}, ["field", {"source-field": ["S", null, "O", "P_ID"]}, ["S", null, "P", "C"]], "x"],
            ["=", ["field", ["S", null, "O", "ID"], {"source-field": ["S", null, "O", "U_ID"]}], 1],
            ["=", {}, ["field", {"base-type": "type/Text"}, "NAME"], "y"]]}]});
        let mut seen = Vec::new();
        visit(&mut q, &mut |site, x| seen.push(format!("{site:?} {x}")));
        assert_eq!(
            seen,
            [
                r#"Field ["S",null,"O","P_ID"]"#,
                r#"Field ["S",null,"P","C"]"#,
                r#"Field ["S",null,"O","ID"]"#,
                r#"Field ["S",null,"O","U_ID"]"#,
            ]
        );
        assert!(table_reference(&json!(["S", null, "T"])).is_some());
        assert!(table_reference(&json!(["S", "public", "T"])).is_some());
        for bad in [
            json!(["S", "T"]),
            json!(["S", 1, "T"]),
            json!(["", null, "T"]),
            json!(3),
        ] {
            assert!(table_reference(&bad).is_none(), "{bad}");
        }
    }
}
