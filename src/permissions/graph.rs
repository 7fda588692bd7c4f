//! `GET/PUT /api/permissions/graph` (people-and-groups.md §9.2, §9.4).
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use super::grant::{CreateQueries, Grant, ViewData};
use super::graph_put::{self, invalid, GraphPut, GroupEntries, OrderedMap};
use super::store::{DataPermRow, PermGraph};
use super::{admin_entry, default_entry, GraphEntry};
use crate::auth::Principal;
use crate::auth::ADMINISTRATORS;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;
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

pub fn parse_put(q: &QueryParams, body: &Map<String, Value>) -> ApiResult<GraphBody> {
    let paid = |errs: &mut ValidationErrors| {
        let mut paid_features = false;
        for key in ["sandboxes", "impersonations"] {
            match body.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) => paid_features |= !a.is_empty(),
                other => errs.add_received(&[key], "value must be an array.", other),
            }
        }
        paid_features
    };
    graph_put::parse(q, body, paid, |gkey, dkey, sent| {
        let Value::Object(sent) = sent else {
            return Err(invalid(format!(
                "the entry of group {gkey} on database {dkey} is not a map"
            )));
        };
        EntryPatch::parse(sent)
    })
}

/// A `{"schemas": <v>}` value (or a bare string) among `allowed`.
fn schemas_value(key: &str, v: &Value, allowed: &[&str]) -> ApiResult<String> {
    let inner = match v {
        Value::Object(m) => m
            .get("schemas")
            .ok_or_else(|| invalid(format!("{key} must be {{\"schemas\": …}}")))?,
        other => other,
    };
    match inner {
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Value::Object(_) => Err(invalid(format!(
            "per-schema permissions for {key} are not supported"
        ))),
        other => Err(invalid(format!("invalid value {other} for {key}"))),
    }
}

fn plain_value(key: &str, v: &Value, allowed: &[&str]) -> ApiResult<String> {
    match v {
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Value::Object(_) => Err(invalid(format!(
            "per-schema or per-table permissions for {key} are not supported"
        ))),
        other => Err(invalid(format!("invalid value {other} for {key}"))),
    }
}

/// The keys one database entry of a `PUT` sets; absent keys keep their values.
#[derive(Debug, Default)]
pub struct EntryPatch {
    view_data: Option<Grant<ViewData>>,
    create_queries: Option<Grant<CreateQueries>>,
    download: Option<String>,
    data_model: Option<String>,
    details: Option<String>,
}

impl EntryPatch {
    fn parse(sent: &Map<String, Value>) -> ApiResult<EntryPatch> {
        let mut p = EntryPatch::default();
        for (key, v) in sent {
            match key.as_str() {
                "view-data" => p.view_data = Some(Grant::from_json(key, v).map_err(invalid)?),
                "create-queries" => {
                    p.create_queries = Some(Grant::from_json(key, v).map_err(invalid)?)
                }
                "download" => {
                    p.download = Some(schemas_value(key, v, &["full", "limited", "none"])?)
                }
                "data-model" => p.data_model = Some(schemas_value(key, v, &["all", "none"])?),
                "details" => p.details = Some(plain_value(key, v, &["yes", "no"])?),
                other => return Err(invalid(format!("unknown permission key {other:?}"))),
            }
        }
        Ok(p)
    }

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

/// An entry as a revision's graphs store it.
fn entry_json(r: &DataPermRow) -> ApiResult<Value> {
    serde_json::to_value(GraphEntry::from(r.clone())).map_err(ApiError::internal)
}

/// Writes the changed entries; the revision's before and after graphs (changed entries only).
async fn write(tx: &mut dyn Tx, changes: &Changes) -> ApiResult<(Value, Value)> {
    let (mut before, mut after) = (Map::new(), Map::new());
    for ((gid, did), (old, new)) in &changes.entries {
        tx.data_perm_set(new).await?;
        if old != new {
            graph_put::record(&mut before, *gid, did.to_string(), entry_json(old)?);
            graph_put::record(&mut after, *gid, did.to_string(), entry_json(new)?);
        }
    }
    Ok((Value::Object(before), Value::Object(after)))
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
            &before.to_string(),
            &after.to_string(),
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
