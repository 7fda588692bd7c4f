//! `GET /api/collection/:id/items`, `/root/items` (content.md §1.6) and `/tree` (§1.4).
//! Only collection items are listed so far; cards and dashboards join when their tables exist.
use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::perms::{location_ids, Graph, Level};
use super::service::{resolve, sort_rows, visible, CollectionKey, ListQuery};
use super::store::CollectionRow;
use super::view::{can_write, effective_location, entry_json};
use crate::app::App;
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Principal;
use crate::http::query::Paging;

pub const ALL_MODELS: [&str; 7] = [
    "card",
    "collection",
    "dashboard",
    "dataset",
    "metric",
    "pulse",
    "timeline",
];
pub const KNOWN_MODELS: [&str; 9] = [
    "card",
    "dataset",
    "metric",
    "dashboard",
    "collection",
    "pulse",
    "snippet",
    "timeline",
    "no_models",
];

pub struct ItemsQuery {
    /// `None` = every kind.
    pub models: Option<Vec<String>>,
    pub archived: bool,
    pub pinned_state: String,
    pub sort_column: String,
    pub descending: bool,
    pub official_first: Option<bool>,
    pub paging: Paging,
}

/// The nearest readable ancestor of `row` (`None` = the root).
fn effective_parent(g: &Graph, caller: &Principal, row: &CollectionRow) -> Option<i64> {
    location_ids(&effective_location(g, caller, &row.location))
        .last()
        .copied()
}

/// Kinds of live items directly in `row` (collections only so far).
fn here(g: &Graph, row: &CollectionRow) -> BTreeSet<&'static str> {
    let prefix = format!("{}{}/", row.location, row.id);
    let mut kinds = BTreeSet::new();
    if g.rows.iter().any(|r| r.location == prefix && !r.archived) {
        kinds.insert("collection");
    }
    kinds
}

fn below(g: &Graph, row: &CollectionRow) -> BTreeSet<&'static str> {
    let mut kinds = BTreeSet::new();
    for d in g.descendants(row).into_iter().filter(|d| !d.archived) {
        kinds.extend(here(g, d));
    }
    kinds
}

fn collection_item(
    g: &Graph,
    caller: &Principal,
    row: &CollectionRow,
    listed: Option<i64>,
) -> Value {
    let mut v = json!({
        "id": row.id, "name": row.name, "description": row.description,
        "entity_id": row.entity_id, "model": "collection", "collection_position": null,
        "collection_id": listed, "archived": row.archived,
        "can_write": can_write(g, caller, row),
        "can_restore": row.archived_directly == Some(true) && can_write(g, caller, row),
        "can_delete": false,
        "created_at": Timestamp(row.created_at).to_rfc3339(), "updated_at": null,
        "location": row.location,
        "effective_location": effective_location(g, caller, &row.location),
        "authority_level": row.authority_level, "type": row.kind,
        "here": here(g, row), "below": below(g, row),
    });
    if let (Some(o), Some(owner)) = (v.as_object_mut(), row.personal_owner_id) {
        o.insert("personal_owner_id".into(), json!(owner));
    }
    v
}

pub async fn items(
    app: &App,
    caller: &Principal,
    key: Option<CollectionKey>,
    q: ItemsQuery,
) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let listed = match &key {
        Some(k) => Some(resolve(tx.as_mut(), k).await?),
        None => None,
    };
    let g = Graph::load(tx.as_mut()).await?;
    if let Some(l) = &listed {
        if g.level(caller, Some(l.id)) < Level::Read {
            return Err(ApiError::Forbidden);
        }
    }
    let models: Vec<String> = match &q.models {
        None => ALL_MODELS.iter().map(|m| m.to_string()).collect(),
        Some(m) if m.iter().any(|m| m == "no_models") => Vec::new(),
        Some(m) => m
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let want_collections = models.iter().any(|m| m == "collection");
    let mut rows: Vec<&CollectionRow> = Vec::new();
    let listed_id = listed.as_ref().map(|l| l.id);
    if want_collections && q.pinned_state != "is_pinned" {
        rows = match &listed {
            Some(l) if l.is_trash() => g
                .rows
                .iter()
                .filter(|r| r.archived_directly == Some(true))
                .filter(|r| g.level(caller, Some(r.id)) == Level::Write)
                .collect(),
            Some(l) => {
                // An archived collection lists what was archived together with it; a live one
                // never lists directly trashed children.
                let archived = q.archived || l.archived;
                g.rows
                    .iter()
                    .filter(|r| !r.is_trash() && r.archived == archived)
                    .filter(|r| r.archived_directly != Some(true))
                    .filter(|r| g.level(caller, Some(r.id)) >= Level::Read)
                    .filter(|r| effective_parent(&g, caller, r) == Some(l.id))
                    .collect()
            }
            None => g
                .rows
                .iter()
                .filter(|r| r.personal_owner_id.is_none())
                .filter(|r| {
                    if r.is_trash() {
                        q.archived
                    } else {
                        !r.archived
                    }
                })
                .filter(|r| g.level(caller, Some(r.id)) >= Level::Read)
                .filter(|r| r.is_trash() || effective_parent(&g, caller, r).is_none())
                .collect(),
        };
    }
    let trash_listed = listed.as_ref().is_some_and(|l| l.is_trash());
    let official_first = q.official_first.unwrap_or(!trash_listed);
    rows.sort_by(|a, b| {
        let trash_key = |r: &CollectionRow| official_first && r.is_trash();
        let primary = if q.sort_column == "name" {
            a.name.to_lowercase().cmp(&b.name.to_lowercase())
        } else {
            // Every other column ties among collections (no updated_at, no editor, one rank).
            std::cmp::Ordering::Equal
        };
        let primary = if q.descending {
            primary.reverse()
        } else {
            primary
        };
        trash_key(a)
            .cmp(&trash_key(b))
            .then(primary)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then(a.id.cmp(&b.id))
    });
    let total = rows.len() as i64;
    let (start, take) = match (q.paging.limit, q.paging.offset) {
        (Some(l), Some(o)) => (o.max(0) as usize, l.max(0) as usize),
        _ => (0, rows.len()),
    };
    let data: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(take)
        .map(|r| collection_item(&g, caller, r, listed_id))
        .collect();
    Ok(json!({
        "total": total, "data": data, "models": models,
        "limit": q.paging.limit, "offset": q.paging.offset,
    }))
}

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
        m.insert("here".into(), json!(here(&g, r)));
        m.insert("below".into(), json!(below(&g, r)));
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
    fn build(
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
                    Value::Array(build(Some(r.id), rows, parents, node)),
                );
                Value::Object(m)
            })
            .collect()
    }
    let parents: Vec<Option<i64>> = rows
        .iter()
        .map(|r| {
            // Archived collections hang under their stored parent when it is shown.
            let p = effective_parent(&g, caller, r);
            p.filter(|p| rows.iter().any(|x| x.id == *p))
        })
        .collect();
    Ok(Value::Array(build(None, &rows, &parents, &node)))
}
