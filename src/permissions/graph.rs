//! `GET/PUT /api/permissions/graph` (people-and-groups.md §9.2, §9.4).
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::grant::{CreateQueries, Grant, ViewData};
use super::graph_put::{self, invalid, GraphPut, GroupEntries, OrderedMap, RevisionGraph};
use super::store::{DataPermRow, PermGraph};
use super::{admin_entry, default_entry, GraphEntry};
use crate::auth::Principal;
use crate::auth::ADMINISTRATORS;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::{LockKey, Tx};

const PAID: &str = "Sandboxes and impersonation are not available in ferrobase.";

/// Which part of the graph to show.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    Database(i64),
    Group(i64),
}

/// Every stored entry, keyed by (group, database).
async fn entries(tx: &mut dyn Tx) -> ApiResult<HashMap<(i64, i64), DataPermRow>> {
    Ok(tx
        .data_perm_all()
        .await?
        .into_iter()
        .map(|r| ((r.group_id, r.database_id), r))
        .collect())
}

/// The entry of a group on a database (admins: everything; missing rows: the defaults).
fn entry(stored: &HashMap<(i64, i64), DataPermRow>, group: i64, db: i64) -> DataPermRow {
    if group == ADMINISTRATORS {
        return admin_entry(db);
    }
    stored
        .get(&(group, db))
        .cloned()
        .unwrap_or_else(|| default_entry(group, db))
}

/// `GET /api/permissions/graph[/…]`, and the answer of `PUT` (without `groups` when
/// `skip-graph`): per group id, per database id, the entry.
#[derive(Debug, Serialize)]
pub struct DataGraph {
    pub revision: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<OrderedMap<i64, OrderedMap<i64, GraphEntry>>>,
}

/// The groups map for `groups` × `dbs`, every entry with all five keys.
fn groups_view(
    stored: &HashMap<(i64, i64), DataPermRow>,
    groups: &[i64],
    dbs: &[i64],
) -> OrderedMap<i64, OrderedMap<i64, GraphEntry>> {
    let per_db = |g: i64| {
        OrderedMap(
            dbs.iter()
                .map(|&d| (d, entry(stored, g, d).into()))
                .collect(),
        )
    };
    OrderedMap(groups.iter().map(|&g| (g, per_db(g))).collect())
}

pub async fn get(app: &App, caller: &Principal, scope: Scope) -> ApiResult<DataGraph> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    let mut groups: Vec<i64> = tx.group_list().await?.iter().map(|g| g.id).collect();
    let mut dbs: Vec<i64> = tx.database_list().await?.iter().map(|d| d.id).collect();
    groups.sort_unstable();
    dbs.sort_unstable();
    match scope {
        Scope::All => {}
        Scope::Database(id) => {
            if !dbs.contains(&id) {
                return Err(ApiError::NotFound);
            }
            dbs = vec![id];
        }
        Scope::Group(id) => {
            if !groups.contains(&id) {
                return Err(ApiError::NotFound);
            }
            groups = vec![id];
        }
    }
    let stored = entries(tx.as_mut()).await?;
    let revision = tx.graph_revision(PermGraph::Data).await?;
    tx.commit().await?;
    Ok(DataGraph {
        revision,
        groups: Some(groups_view(&stored, &groups, &dbs)),
    })
}

/// A validated `PUT`: per group, per database id, the keys it sets; `rest` is whether it asks
/// for sandboxes or impersonations.
pub type GraphBody = GraphPut<EntryPatch, bool>;

/// The keys one database entry of a `PUT` sets; absent keys keep their values.
#[derive(Debug, Default)]
pub struct EntryPatch {
    pub view_data: Option<Grant<ViewData>>,
    pub create_queries: Option<Grant<CreateQueries>>,
    pub download: Option<String>,
    pub data_model: Option<String>,
    pub details: Option<String>,
}

impl EntryPatch {
    /// Applies the patch: a granular value replaces the key's whole value (data-model.md §4.1).
    fn apply(self, row: &mut DataPermRow) {
        if let Some(v) = self.view_data {
            row.view_data = v;
        }
        if let Some(v) = self.create_queries {
            row.create_queries = v;
        }
        if let Some(v) = self.download {
            row.download = v;
        }
        if let Some(v) = self.data_model {
            row.data_model = v;
        }
        if let Some(v) = self.details {
            row.details = v;
        }
    }
}

/// Checks an entry after merging, against the database's tables (`(schema, id)`): every table
/// a granular value names belongs to that database and schema, and nothing is `blocked` for
/// viewing while it may be queried (people-and-groups.md §9.4, data-model.md §4.1).
fn check_entry(row: &DataPermRow, tables: &[(String, i64)]) -> Result<(), String> {
    let known = |schema: &str, id: i64| tables.iter().any(|(s, t)| s == schema && *t == id);
    let mut positions: Vec<(Option<&str>, Option<i64>)> = vec![(None, None)];
    let named = row.view_data.positions().into_iter();
    for (schema, id) in named.chain(row.create_queries.positions()) {
        if let Some(id) = id {
            if !known(schema, id) {
                return Err(format!(
                    "table {id} is not a table of schema {schema:?} of database {}",
                    row.database_id
                ));
            }
        }
        positions.push((Some(schema), id));
    }
    positions.extend(tables.iter().map(|(s, id)| (Some(s.as_str()), Some(*id))));
    for (schema, id) in positions {
        let view = row.view_data.at(schema, id);
        let create = row.create_queries.at(schema, id);
        if view == Some(ViewData::Blocked) && create.is_some_and(|c| c != CreateQueries::No) {
            let at = match (schema, id) {
                (_, Some(id)) => format!(" for table {id}"),
                (Some(s), None) => format!(" for schema {s:?}"),
                (None, None) => String::new(),
            };
            return Err(format!(
                "group {} on database {}{at}: view-data blocked requires create-queries no",
                row.group_id, row.database_id
            ));
        }
    }
    Ok(())
}

/// The entries a `PUT` changes, old and new, keyed by (group, database), and the groups sent.
struct Changes {
    entries: BTreeMap<(i64, i64), (DataPermRow, DataPermRow)>,
    groups: Vec<i64>,
}

/// Reads, merges and checks every entry of the body before anything is written: an invalid
/// graph changes nothing.
async fn changes(
    tx: &mut dyn Tx,
    groups: Vec<GroupEntries<EntryPatch>>,
    db_ids: &[i64],
) -> ApiResult<Changes> {
    let group_ids: Vec<i64> = tx.group_list().await?.iter().map(|g| g.id).collect();
    let stored = entries(tx).await?;
    let mut out = Changes {
        entries: BTreeMap::new(),
        groups: Vec::new(),
    };
    let mut tables: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for sent in groups {
        let gid = graph_put::group_id(&sent.group, |id| group_ids.contains(&id))?;
        out.groups.push(gid);
        for (dkey, patch) in sent.entries {
            let did = dkey
                .parse::<i64>()
                .ok()
                .filter(|id| db_ids.contains(id))
                .ok_or_else(|| invalid(format!("unknown database id {dkey}")))?;
            if gid == ADMINISTRATORS {
                continue;
            }
            let old = entry(&stored, gid, did);
            let mut new = old.clone();
            patch.apply(&mut new);
            let of_db = match tables.entry(did) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(tx.data_perm_tables(did).await?),
            };
            check_entry(&new, of_db).map_err(invalid)?;
            out.entries.insert((gid, did), (old, new));
        }
    }
    out.groups.sort_unstable();
    out.groups.dedup();
    Ok(out)
}

/// Writes the changed entries; the revision's before and after graphs (changed entries only).
async fn write(
    tx: &mut dyn Tx,
    changes: &Changes,
) -> ApiResult<(RevisionGraph<GraphEntry>, RevisionGraph<GraphEntry>)> {
    let (mut before, mut after) = (RevisionGraph::default(), RevisionGraph::default());
    for ((gid, did), (old, new)) in &changes.entries {
        tx.data_perm_set(new).await?;
        if old != new {
            before.record(*gid, did.to_string(), old.clone().into());
            after.record(*gid, did.to_string(), new.clone().into());
        }
    }
    Ok((before, after))
}

pub async fn put(app: &App, caller: &Principal, body: GraphBody) -> ApiResult<DataGraph> {
    let admin = caller.require_superuser()?;
    if body.rest {
        // Sandboxes or impersonations were asked for.
        return Err(ApiError::Text(
            crate::error::Kind::PaymentRequired,
            PAID.into(),
        ));
    }
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    // Two racing PUTs must not both pass the revision check (PostgreSQL; SQLite has one writer).
    tx.lock(LockKey::DataGraph).await?;
    let current = tx.graph_revision(PermGraph::Data).await?;
    graph_put::check_revision(body.revision, current, body.force)?;
    let mut db_ids: Vec<i64> = tx.database_list().await?.iter().map(|d| d.id).collect();
    db_ids.sort_unstable();
    let changes = changes(tx.as_mut(), body.groups?, &db_ids).await?;
    let (before, after) = write(tx.as_mut(), &changes).await?;
    let revision = tx
        .graph_revision_insert(
            PermGraph::Data,
            &before.to_text()?,
            &after.to_text()?,
            admin.actor_id,
            now,
        )
        .await?;
    let groups = if body.skip_graph {
        None
    } else {
        let stored = entries(tx.as_mut()).await?;
        Some(groups_view(&stored, &changes.groups, &db_ids))
    };
    tx.commit().await?;
    Ok(DataGraph { revision, groups })
}
