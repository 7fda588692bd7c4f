//! `GET/PUT /api/permissions/graph` (people-and-groups.md §9.2, §9.4).
use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::graph_put::{self, invalid, GraphPut};
use super::store::{DataPermRow, PermGraph};
use super::{admin_entry, default_entry, entry_json, BLOCKED, NO};
use crate::auth::Principal;
use crate::auth::ADMINISTRATORS;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;
use crate::state::App;
use crate::store::Tx;

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

/// The groups map for `groups` × `dbs`, every entry with all five keys.
fn groups_json(stored: &HashMap<(i64, i64), DataPermRow>, groups: &[i64], dbs: &[i64]) -> Value {
    let mut out = Map::new();
    for g in groups {
        let mut per_db = Map::new();
        for d in dbs {
            per_db.insert(d.to_string(), entry_json(&entry(stored, *g, *d)));
        }
        out.insert(g.to_string(), Value::Object(per_db));
    }
    Value::Object(out)
}

pub async fn get(app: &App, caller: &Principal, scope: Scope) -> ApiResult<Value> {
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
    Ok(json!({"revision": revision, "groups": groups_json(&stored, &groups, &dbs)}))
}

/// A validated `PUT`; `rest` is whether it asks for sandboxes or impersonations.
pub type GraphBody = GraphPut<bool>;

pub fn parse_put(q: &QueryParams, body: &Map<String, Value>) -> ApiResult<GraphBody> {
    graph_put::parse(q, body, |errs| {
        let mut paid_features = false;
        for key in ["sandboxes", "impersonations"] {
            match body.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) => paid_features |= !a.is_empty(),
                other => errs.add_received(&[key], "value must be an array.", other),
            }
        }
        paid_features
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

/// Applies the entries of `sent` onto `row`.
fn merge(row: &mut DataPermRow, sent: &Map<String, Value>) -> ApiResult<()> {
    for (key, v) in sent {
        match key.as_str() {
            "view-data" => row.view_data = plain_value(key, v, &["unrestricted", "blocked"])?,
            "create-queries" => {
                row.create_queries =
                    plain_value(key, v, &["query-builder-and-native", "query-builder", "no"])?
            }
            "download" => row.download = schemas_value(key, v, &["full", "limited", "none"])?,
            "data-model" => row.data_model = schemas_value(key, v, &["all", "none"])?,
            "details" => row.details = plain_value(key, v, &["yes", "no"])?,
            other => return Err(invalid(format!("unknown permission key {other:?}"))),
        }
    }
    Ok(())
}

pub async fn put(app: &App, caller: &Principal, body: GraphBody) -> ApiResult<Value> {
    let admin = caller.require_superuser()?;
    let paid_features = body.rest;
    if paid_features {
        return Err(ApiError::Text(
            crate::error::Kind::PaymentRequired,
            PAID.into(),
        ));
    }
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    let current = tx.graph_revision(PermGraph::Data).await?;
    graph_put::check_revision(body.revision, current, body.force)?;
    let group_ids: Vec<i64> = tx.group_list().await?.iter().map(|g| g.id).collect();
    let mut db_ids: Vec<i64> = tx.database_list().await?.iter().map(|d| d.id).collect();
    db_ids.sort_unstable();
    let stored = entries(tx.as_mut()).await?;
    // Parse and merge everything first: an invalid graph changes nothing.
    let mut changed: BTreeMap<(i64, i64), (DataPermRow, DataPermRow)> = BTreeMap::new();
    let mut sent_groups = Vec::new();
    for (gkey, dbs) in &body.groups {
        let (gid, dbs) = graph_put::group_entries(gkey, dbs, |id| group_ids.contains(&id))?;
        sent_groups.push(gid);
        for (dkey, sent) in dbs {
            let did = dkey
                .parse::<i64>()
                .ok()
                .filter(|id| db_ids.contains(id))
                .ok_or_else(|| invalid(format!("unknown database id {dkey}")))?;
            let Value::Object(sent) = sent else {
                return Err(invalid(format!(
                    "the entry of group {gkey} on database {dkey} is not a map"
                )));
            };
            if gid == ADMINISTRATORS {
                continue;
            }
            let old = entry(&stored, gid, did);
            let mut new = old.clone();
            merge(&mut new, sent)?;
            if new.view_data == BLOCKED && new.create_queries != NO {
                return Err(invalid(format!(
                    "group {gkey} on database {dkey}: view-data blocked requires create-queries no"
                )));
            }
            changed.insert((gid, did), (old, new));
        }
    }
    let (mut before, mut after) = (Map::new(), Map::new());
    for ((gid, did), (old, new)) in &changed {
        tx.data_perm_set(new).await?;
        if old != new {
            graph_put::record(&mut before, *gid, did.to_string(), entry_json(old));
            graph_put::record(&mut after, *gid, did.to_string(), entry_json(new));
        }
    }
    let revision = tx
        .graph_revision_insert(
            PermGraph::Data,
            &Value::Object(before).to_string(),
            &Value::Object(after).to_string(),
            admin.actor_id,
            now,
        )
        .await?;
    let out = if body.skip_graph {
        json!({ "revision": revision })
    } else {
        let stored = entries(tx.as_mut()).await?;
        sent_groups.sort_unstable();
        sent_groups.dedup();
        json!({"revision": revision, "groups": groups_json(&stored, &sent_groups, &db_ids)})
    };
    tx.commit().await?;
    Ok(out)
}
