//! `PUT /api/card/:id` (content.md §2.7) including archiving and restoring (§4.2).
use serde_json::{Map, Value};

use super::input;
use super::placement::{place, refuse_embedding, PlaceRequest, Placement};
use super::service::{
    check_database, curate, level, opt_i64, opt_text, render, resolve, result_metadata, CardRef,
    TRASH,
};
use super::store::CardRow;
use crate::auth::Principal;
use crate::collections::perms::Level;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::json_fields::Patch;
use crate::state::App;
use crate::store::Tx;

fn placement(c: &CardRow) -> Placement {
    Placement {
        archived: c.archived,
        archived_directly: c.archived_directly,
        collection_id: c.collection_id,
    }
}

pub async fn update(
    app: &App,
    caller: &Principal,
    r: &CardRef,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let mut errs = ValidationErrors::new();
    input::check(body, false, &mut errs);
    errs.into_result()?;
    let mut tx = app.store.begin().await?;
    let old = resolve(tx.as_mut(), r).await?;
    let mut new = old.clone();

    // Existence of referenced objects before permissions (§0.4).
    let req = PlaceRequest::read(tx.as_mut(), body, old.archived).await?;
    if let Some(Some(d)) = body.get("dashboard_id").map(Value::as_i64) {
        tx.content_dashboard(d).await?.ok_or(ApiError::NotFound)?;
    }
    let query = body.get("dataset_query").filter(|v| !v.is_null());
    let derived = query.and_then(input::derive);
    if let Some(d) = &derived {
        check_database(tx.as_mut(), d).await?;
    }

    let restoring = req.restores(old.archived);
    if !restoring && req.targets_trash() {
        return Err(ApiError::bad_request_text(TRASH));
    }
    // Permissions.
    if level(tx.as_mut(), caller, old.collection_id).await? != Level::Write {
        return Err(ApiError::Forbidden);
    }
    // A changed query must be one the caller may run; re-sending the stored one needs nothing.
    if let (Some(q), Some(d)) = (query, &derived) {
        if serde_json::from_str::<Value>(&old.dataset_query)
            .ok()
            .as_ref()
            != Some(q)
        {
            crate::permissions::require_can_save(
                tx.as_mut(),
                caller,
                d.database_id,
                d.query_type == "native",
            )
            .await?;
        }
    }
    refuse_embedding(body)?;
    if let Some(dest) = req.destination(old.collection_id) {
        if level(tx.as_mut(), caller, dest).await? != Level::Write {
            return Err(curate());
        }
    }

    let follow = dashboard_move(tx.as_mut(), caller, &old, body).await?;

    // Archiving state (§4.2).
    let p = place(tx.as_mut(), placement(&old), &req).await?;
    (new.archived, new.archived_directly, new.collection_id) =
        (p.archived, p.archived_directly, p.collection_id);

    apply_fields(&mut new, body, query, derived.as_ref());
    if let Some(c) = follow {
        new.collection_id = c;
    }
    if new.dashboard_id != old.dashboard_id && !body.contains_key("dashboard_tab_id") {
        new.dashboard_tab_id = None;
    }
    if (new.dashboard_id, new.dashboard_tab_id) != (old.dashboard_id, old.dashboard_tab_id) {
        super::dashboard_link::check_card_tab(tx.as_mut(), new.dashboard_id, new.dashboard_tab_id)
            .await?;
    }

    if new.collection_position.is_some() && new.collection_position != old.collection_position
        || (new.collection_position.is_some() && new.collection_id != old.collection_id)
    {
        if let Some(p) = new.collection_position {
            tx.content_shift_positions(new.collection_id, p, new.id)
                .await?;
        }
    }
    if new.dataset_query != old.dataset_query
        && new.query_type.as_deref() == Some("native")
        && result_metadata(body).is_none()
    {
        // Recomputed after the write (below); `null` when that fails (§2.3).
        new.result_metadata = None;
    }
    if new != old {
        new.updated_at = app.clock.now().0;
        new.last_editor_id = caller.user_id;
        tx.card_update(&new).await?;
    }
    let v = render(tx.as_mut(), caller, &new).await?;
    tx.commit().await?;
    // §2.3: a changed native query without metadata gets it computed.
    if new.dataset_query != old.dataset_query
        && new.query_type.as_deref() == Some("native")
        && result_metadata(body).is_none()
    {
        if let Some(filled) = super::metadata::fill(app, caller, new.id).await? {
            return Ok(filled);
        }
    }
    Ok(v)
}

/// `dashboard_id` changed (§2.7): write permission on the old and the new dashboard's
/// collection. Returns the new dashboard's collection, which the card follows.
async fn dashboard_move(
    tx: &mut dyn Tx,
    caller: &Principal,
    old: &CardRow,
    body: &Map<String, Value>,
) -> ApiResult<Option<Option<i64>>> {
    if !body.contains_key("dashboard_id") {
        return Ok(None);
    }
    let wanted = opt_i64(body, "dashboard_id");
    if wanted == old.dashboard_id {
        return Ok(None);
    }
    let mut follow = None;
    for d in [old.dashboard_id, wanted].into_iter().flatten() {
        let Some((coll, _)) = tx.content_dashboard(d).await? else {
            continue;
        };
        if level(tx, caller, coll).await? != Level::Write {
            return Err(curate());
        }
        if Some(d) == wanted {
            follow = Some(coll);
        }
    }
    Ok(follow)
}

/// Plain field updates: only keys present in the body are considered.
fn apply_fields(
    new: &mut CardRow,
    body: &Map<String, Value>,
    query: Option<&Value>,
    derived: Option<&input::Derived>,
) {
    let p = Patch(body);
    p.text("name", &mut new.name);
    p.nullable_text("description", &mut new.description);
    if let (Some(q), Some(d)) = (query, derived) {
        let stored: Option<Value> = serde_json::from_str(&new.dataset_query).ok();
        if stored.as_ref() != Some(q) {
            new.dataset_query = q.to_string();
            new.database_id = Some(d.database_id);
            new.query_type = Some(d.query_type.to_owned());
            new.table_id = d.table_id;
        }
    }
    p.text("display", &mut new.display);
    if let Some(t) = opt_text(body, "type") {
        if t == "model" && new.card_type != "model" && new.display != "list" {
            new.display = "table".into();
        }
        new.card_type = t;
    }
    p.json("visualization_settings", &mut new.visualization_settings);
    p.json("parameters", &mut new.parameters);
    p.json("parameter_mappings", &mut new.parameter_mappings);
    if body.contains_key("result_metadata") {
        let rm = result_metadata(body);
        let same = match (&rm, &new.result_metadata) {
            (Some(a), Some(b)) => {
                serde_json::from_str::<Value>(a).ok() == serde_json::from_str::<Value>(b).ok()
            }
            (a, b) => a == b,
        };
        if !same {
            new.result_metadata = rm;
        }
    }
    p.nullable_i64("collection_position", &mut new.collection_position);
    p.boolean("collection_preview", &mut new.collection_preview);
    p.nullable_i64("cache_ttl", &mut new.cache_ttl);
    p.nullable_i64("dashboard_id", &mut new.dashboard_id);
    p.nullable_i64("dashboard_tab_id", &mut new.dashboard_tab_id);
}
