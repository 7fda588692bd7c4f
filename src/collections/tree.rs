//! `GET /api/collection/tree` (content.md §1.4).
use std::collections::BTreeSet;

use serde::Serialize;

use super::items::{effective_parent, Kinds};
use super::perms::Graph;
use super::service::{sort_rows, visible, ListQuery};
use super::store::CollectionRow;
use super::view::CollectionEntry;
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

/// A collection of the tree with the kinds of items in and below it.
#[derive(Debug, Serialize)]
pub struct TreeNode {
    #[serde(flatten)]
    pub entry: CollectionEntry,
    pub here: BTreeSet<&'static str>,
    pub below: BTreeSet<&'static str>,
    pub children: Children,
}

/// `shallow=true`: whether a node has children; otherwise the children themselves.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Children {
    Any(bool),
    Nodes(Vec<TreeNode>),
}

pub async fn tree(app: &App, caller: &Principal, q: TreeQuery) -> ApiResult<Vec<TreeNode>> {
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
    let node = |r: &CollectionRow, children: Children| TreeNode {
        entry: CollectionEntry::new(&g, caller, r),
        here: kinds.here(&g, r),
        below: kinds.below(&g, r),
        children,
    };
    if q.shallow {
        let has_children = |r: &CollectionRow| {
            rows.iter()
                .any(|c| effective_parent(&g, caller, c) == Some(r.id))
        };
        return Ok(rows
            .iter()
            .filter(|r| effective_parent(&g, caller, r) == q.collection_id)
            .map(|r| node(r, Children::Any(has_children(r))))
            .collect());
    }
    let parents: Vec<Option<i64>> = rows
        .iter()
        .map(|r| {
            // Archived collections hang under their stored parent when it is shown.
            let p = effective_parent(&g, caller, r);
            p.filter(|p| rows.iter().any(|x| x.id == *p))
        })
        .collect();
    Ok(nest(None, &rows, &parents, &node))
}

/// The nodes under `parent` (`parents[i]` is the shown parent of `rows[i]`), each with its
/// `children`.
fn nest(
    parent: Option<i64>,
    rows: &[&CollectionRow],
    parents: &[Option<i64>],
    node: &dyn Fn(&CollectionRow, Children) -> TreeNode,
) -> Vec<TreeNode> {
    rows.iter()
        .zip(parents)
        .filter(|(_, p)| **p == parent)
        .map(|(r, _)| node(r, Children::Nodes(nest(Some(r.id), rows, parents, node))))
        .collect()
}
