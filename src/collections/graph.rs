//! `GET/PUT /api/collection/graph` (people-and-groups.md §8.2–8.3).
use std::collections::BTreeMap;

use super::perms::{Graph, Level};
use super::store::CollectionRow;
use crate::auth::Principal;
use crate::auth::ADMINISTRATORS;
use crate::error::ApiResult;
use crate::permissions::graph_put::{
    self, invalid, GraphPut, GroupEntries, OrderedMap, RevisionGraph,
};
use crate::permissions::store::PermGraph;
use crate::state::App;
use crate::store::{LockKey, Tx};
use serde::Serialize;

/// Collections that appear in the graph: not the Trash, not personal, not archived.
fn eligible(g: &Graph, row: &CollectionRow) -> bool {
    !row.is_trash() && !row.archived && g.personal_owner(row).is_none()
}

/// `GET /api/collection/graph`, and the answer of `PUT` (without `groups` when `skip-graph`):
/// per group id, per collection key (`root` first, then ids in ascending order, as
/// people-and-groups.md §8.2 shows them), the level.
#[derive(Debug, Serialize)]
pub struct CollectionGraph {
    pub revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<OrderedMap<i64, OrderedMap<String, String>>>,
}

async fn build(tx: &mut dyn Tx, default_namespace: bool) -> ApiResult<CollectionGraph> {
    let g = Graph::load(tx).await?;
    let revision = tx.graph_revision(PermGraph::Collection).await?;
    let mut groups = OrderedMap::default();
    for grp in tx.group_list().await? {
        let mut entries = OrderedMap::default();
        if default_namespace {
            let mut put = |key: String, level: &str| {
                entries.0.push((key, level.to_string()));
            };
            if grp.id == ADMINISTRATORS {
                put("root".into(), "write");
                let mut ids: Vec<i64> = g
                    .rows
                    .iter()
                    .filter(|r| eligible(&g, r))
                    .map(|r| r.id)
                    .collect();
                ids.sort_unstable();
                for id in ids {
                    put(id.to_string(), "write");
                }
            } else {
                // `perms` is keyed by collection id: the root (0) first, then ascending ids.
                for p in g.perms.values().flatten().filter(|p| p.group_id == grp.id) {
                    if p.collection_id == 0 {
                        put("root".into(), &p.level);
                    } else if g.get(p.collection_id).is_some_and(|r| eligible(&g, r)) {
                        put(p.collection_id.to_string(), &p.level);
                    }
                }
            }
        }
        groups.0.push((grp.id, entries));
    }
    Ok(CollectionGraph {
        revision,
        groups: Some(groups),
    })
}

pub async fn get(
    app: &App,
    caller: &Principal,
    namespace: Option<&str>,
) -> ApiResult<CollectionGraph> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    build(tx.as_mut(), namespace.is_none_or(str::is_empty)).await
}

/// A validated `PUT`: per group, per collection key, the level; `rest` is whether it is for the
/// default namespace (no `namespace`).
pub type GraphBody = GraphPut<Level, bool>;

/// The levels a `PUT` asks for, by (group, collection; 0 for root), every entry parsed and
/// checked first: an invalid graph changes nothing. Entries Metabase ignores (Administrators,
/// other namespaces, collections without permissions of their own) are left out.
fn wanted(
    g: &Graph,
    groups: &[i64],
    sent: Vec<GroupEntries<Level>>,
    default_namespace: bool,
) -> ApiResult<BTreeMap<(i64, i64), Level>> {
    let mut wanted = BTreeMap::new();
    for group in sent {
        let gid = graph_put::group_id(&group.group, |id| groups.contains(&id))?;
        for (ckey, lvl) in group.entries {
            let cid = if ckey == "root" {
                0
            } else {
                let id = ckey
                    .parse::<i64>()
                    .map_err(|_| invalid(format!("invalid collection key {ckey:?}")))?;
                g.get(id)
                    .ok_or_else(|| invalid(format!("unknown collection id {ckey}")))?
                    .id
            };
            let ignored = !default_namespace
                || gid == ADMINISTRATORS
                || (cid != 0 && g.get(cid).is_none_or(|r| !eligible(g, r)));
            if !ignored {
                wanted.insert((gid, cid), lvl);
            }
        }
    }
    Ok(wanted)
}

/// Writes the levels that differ; the revision's before and after graphs (changes only).
async fn write(
    tx: &mut dyn Tx,
    g: &Graph,
    wanted: &BTreeMap<(i64, i64), Level>,
) -> ApiResult<(RevisionGraph<&'static str>, RevisionGraph<&'static str>)> {
    let (mut before, mut after) = (RevisionGraph::default(), RevisionGraph::default());
    for ((gid, cid), lvl) in wanted {
        let old = g
            .perms
            .get(cid)
            .into_iter()
            .flatten()
            .find(|p| p.group_id == *gid)
            .and_then(|p| Level::parse(&p.level))
            .unwrap_or(Level::None);
        if old != *lvl {
            tx.collection_perm_set(*gid, *cid, lvl.as_str()).await?;
            let key = if *cid == 0 {
                "root".to_string()
            } else {
                cid.to_string()
            };
            before.record(*gid, key.clone(), old.as_str());
            after.record(*gid, key, lvl.as_str());
        }
    }
    Ok((before, after))
}

pub async fn put(app: &App, caller: &Principal, body: GraphBody) -> ApiResult<CollectionGraph> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    // Two racing PUTs must not both pass the revision check (PostgreSQL; SQLite has one writer).
    tx.lock(LockKey::CollectionGraph).await?;
    let current = tx.graph_revision(PermGraph::Collection).await?;
    graph_put::check_revision(body.revision, current, body.force)?;
    let g = Graph::load(tx.as_mut()).await?;
    let groups: Vec<i64> = tx.group_list().await?.iter().map(|g| g.id).collect();
    let wanted = wanted(&g, &groups, body.groups?, body.rest)?;
    let (before, after) = write(tx.as_mut(), &g, &wanted).await?;
    let revision = if after.is_empty() {
        current
    } else {
        tx.graph_revision_insert(
            PermGraph::Collection,
            &before.to_text()?,
            &after.to_text()?,
            admin.actor_id,
            now,
        )
        .await?
    };
    let out = if body.skip_graph {
        CollectionGraph {
            revision,
            groups: None,
        }
    } else {
        build(tx.as_mut(), true).await?
    };
    tx.commit().await?;
    Ok(out)
}
