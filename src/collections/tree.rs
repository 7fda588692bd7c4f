//! `GET /api/collection/tree` (content.md §1.4).
use serde_json::{json, Value};

use super::items::{effective_parent, Kinds};
use super::perms::Graph;
use super::service::{sort_rows, visible, ListQuery};
use super::store::CollectionRow;
use super::view::entry_json;
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::App;

pub struct TreeQuery {
    pub exclude_archived: bool,
    pub exclude_other_user_collections: bool,
    pub shallow: bool,
    pub collection_id: Option<i64>,
    pub default_namespace: bool,
}

pub async fn tree(app: &App, caller: &Principal, q: TreeQuery) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let g = Graph::load(tx.as_mut()).await?;
    let kinds = Kinds::load(tx.as_mut()).await?;
    let lq = |archived| ListQuery {
        archived,
        exclude_other_user_collections: q.exclude_other_user_collections,
        personal_only: false,
        default_namespace: q.default_namespace,
    };
    let mut rows = visible(&g, caller, &lq(false));
    if !q.exclude_archived {
        rows.extend(visible(&g, caller, &lq(true)));
    }
    sort_rows(&mut rows);
    let node = |r: &CollectionRow| {
        let mut m = entry_json(&g, caller, r);
        m.insert("here".into(), json!(kinds.here(&g, r)));
        m.insert("below".into(), json!(kinds.below(&g, r)));
        m
    };
    if q.shallow {
        let out: Vec<Value> = rows
            .iter()
            .filter(|r| effective_parent(&g, caller, r) == q.collection_id)
            .map(|r| {
                let mut m = node(r);
                let has = rows
                    .iter()
                    .any(|c| effective_parent(&g, caller, c) == Some(r.id));
                m.insert("children".into(), json!(has));
                Value::Object(m)
            })
            .collect();
        return Ok(Value::Array(out));
    }
    let parents: Vec<Option<i64>> = rows
        .iter()
        .map(|r| {
            // Archived collections hang under their stored parent when it is shown.
            let p = effective_parent(&g, caller, r);
            p.filter(|p| rows.iter().any(|x| x.id == *p))
        })
        .collect();
    Ok(Value::Array(nest(None, &rows, &parents, &node)))
}

/// The nodes under `parent` (`parents[i]` is the shown parent of `rows[i]`), each with its
/// `children`.
fn nest(
    parent: Option<i64>,
    rows: &[&CollectionRow],
    parents: &[Option<i64>],
    node: &dyn Fn(&CollectionRow) -> serde_json::Map<String, Value>,
) -> Vec<Value> {
    rows.iter()
        .zip(parents)
        .filter(|(_, p)| **p == parent)
        .map(|(r, _)| {
            let mut m = node(r);
            m.insert(
                "children".into(),
                Value::Array(nest(Some(r.id), rows, parents, node)),
            );
            Value::Object(m)
        })
        .collect()
}
