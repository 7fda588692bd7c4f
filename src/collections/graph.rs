//! `GET/PUT /api/collection/graph` (people-and-groups.md §8.2–8.3).
use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::perms::{Graph, Level};
use super::store::CollectionRow;
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::groups::ADMINISTRATORS;
use crate::http::auth::Principal;
use crate::http::validate::{ValidationErrors, NON_NEGATIVE_INT};
use crate::store::{LockKey, Tx};

pub const STALE: &str = "Looks like someone else edited the permissions and your data is out of date. Please fetch new data and try again.";
const INVALID: &str = "Cannot parse permissions graph because it is invalid: ";

/// Collections that appear in the graph: not the Trash, not personal, not archived.
fn eligible(g: &Graph, row: &CollectionRow) -> bool {
    !row.is_trash() && !row.archived && g.personal_owner(row).is_none()
}

async fn build(tx: &mut dyn Tx, default_namespace: bool) -> ApiResult<Value> {
    let g = Graph::load(tx).await?;
    let revision = tx.collection_graph_revision().await?;
    let mut groups = Map::new();
    for grp in tx.group_list().await? {
        let mut entries = Map::new();
        if default_namespace {
            let mut put = |key: String, level: &str| {
                entries.insert(key, Value::String(level.to_string()));
            };
            if grp.id == ADMINISTRATORS {
                put("root".into(), "write");
                for r in g.rows.iter().filter(|r| eligible(&g, r)) {
                    put(r.id.to_string(), "write");
                }
            } else {
                for p in g.perms.values().flatten().filter(|p| p.group_id == grp.id) {
                    if p.collection_id == 0 {
                        put("root".into(), &p.level);
                    } else if g.get(p.collection_id).is_some_and(|r| eligible(&g, r)) {
                        put(p.collection_id.to_string(), &p.level);
                    }
                }
            }
        }
        groups.insert(grp.id.to_string(), Value::Object(entries));
    }
    Ok(json!({"revision": revision, "groups": groups}))
}

pub async fn get(app: &App, caller: &Principal, namespace: Option<&str>) -> ApiResult<Value> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    build(tx.as_mut(), namespace.is_none_or(str::is_empty)).await
}

/// Validated top-level shape of the PUT body.
pub struct GraphBody {
    pub revision: i64,
    pub groups: Map<String, Value>,
    pub default_namespace: bool,
}

pub fn parse_body(body: &Map<String, Value>) -> ApiResult<GraphBody> {
    let mut errs = ValidationErrors::new();
    let revision = match body.get("revision") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => n.as_i64(),
        other => {
            errs.add_received(&["revision"], NON_NEGATIVE_INT, other);
            None
        }
    };
    let groups = match body.get("groups") {
        Some(Value::Object(m)) => Some(m.clone()),
        other => {
            errs.add_received(&["groups"], "value must be a map.", other);
            None
        }
    };
    let default_namespace = match body.get("namespace") {
        None | Some(Value::Null) => true,
        Some(Value::String(_)) => false,
        other => {
            errs.add_received(&["namespace"], "value must be a string or null.", other);
            true
        }
    };
    errs.into_result()?;
    match (revision, groups) {
        (Some(revision), Some(groups)) => Ok(GraphBody {
            revision,
            groups,
            default_namespace,
        }),
        _ => Err(ApiError::internal("graph body validated without values")),
    }
}

fn invalid(what: String) -> ApiError {
    ApiError::bad_request_text(format!("{INVALID}{what}"))
}

/// Applies the entries of a PUT; answers the new graph (or `{"revision"}` with `skip_graph`).
pub async fn put(
    app: &App,
    caller: &Principal,
    body: GraphBody,
    force: bool,
    skip_graph: bool,
) -> ApiResult<Value> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    // Two racing PUTs must not both pass the revision check (PostgreSQL; SQLite has one writer).
    tx.lock(LockKey::CollectionGraph).await?;
    let current = tx.collection_graph_revision().await?;
    if body.revision != current && !force {
        return Err(ApiError::Text(StatusCode::CONFLICT, STALE.into()));
    }
    let g = Graph::load(tx.as_mut()).await?;
    let groups = tx.group_list().await?;
    // Parse everything first: an invalid graph changes nothing.
    let mut wanted: BTreeMap<(i64, i64), Level> = BTreeMap::new();
    for (gkey, entries) in &body.groups {
        let gid = gkey
            .parse::<i64>()
            .ok()
            .filter(|id| groups.iter().any(|g| g.id == *id))
            .ok_or_else(|| invalid(format!("unknown group id {gkey}")))?;
        let Value::Object(entries) = entries else {
            return Err(invalid(format!(
                "the entries of group {gkey} are not a map"
            )));
        };
        for (ckey, level) in entries {
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
            let lvl = level
                .as_str()
                .and_then(Level::parse)
                .ok_or_else(|| invalid(format!("invalid permission level {level}")))?;
            let ignored = !body.default_namespace
                || gid == ADMINISTRATORS
                || (cid != 0 && g.get(cid).is_none_or(|r| !eligible(&g, r)));
            if !ignored {
                wanted.insert((gid, cid), lvl);
            }
        }
    }
    let mut before = Map::new();
    let mut after = Map::new();
    for ((gid, cid), lvl) in &wanted {
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
            let slot = |m: &mut Map<String, Value>, l: Level| {
                if let Value::Object(o) = m.entry(gid.to_string()).or_insert(json!({})) {
                    o.insert(key.clone(), Value::String(l.as_str().into()));
                }
            };
            slot(&mut before, old);
            slot(&mut after, *lvl);
        }
    }
    let revision = if after.is_empty() {
        current
    } else {
        tx.collection_graph_revision_insert(
            &Value::Object(before).to_string(),
            &Value::Object(after).to_string(),
            admin.actor_id,
            now,
        )
        .await?
    };
    let out = if skip_graph {
        json!({ "revision": revision })
    } else {
        build(tx.as_mut(), true).await?
    };
    tx.commit().await?;
    Ok(out)
}
