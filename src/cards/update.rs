//! `PUT /api/card/:id` (content.md §2.7) including archiving and restoring (§4.2): existence of
//! what the body names, then permissions, then the new row, written in one transaction.
use serde_json::Value;

use super::dashboard_link::check_card_tab;
use super::input::{CardInput, Query};
use super::patch::{set, set_json};
use super::placement::{place, refuse_embedding, PlaceRequest, Placement};
use super::service::{check_database, curate, level, render, resolve, CardRef, TRASH};
use super::store::CardRow;
use super::view::Card;
use crate::auth::Principal;
use crate::collections::perms::Level;
use crate::error::{ApiError, ApiResult};
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
    input: &CardInput,
) -> ApiResult<Card> {
    let mut tx = app.store.begin().await?;
    let old = resolve(tx.as_mut(), r).await?;
    let req = check_update(app, tx.as_mut(), caller, &old, input).await?;
    let follow = dashboard_move(tx.as_mut(), caller, &old, input).await?;
    let mut new = updated_row(tx.as_mut(), &old, input, &req, follow).await?;
    // §2.3: a changed native query without metadata gets it computed after the write.
    let recompute = new.dataset_query != old.dataset_query
        && !input.keeps_result_metadata(new.query_type.as_deref());
    if new.collection_position.is_some()
        && (new.collection_position != old.collection_position
            || new.collection_id != old.collection_id)
    {
        if let Some(p) = new.collection_position {
            tx.content_shift_positions(new.collection_id, p, new.id)
                .await?;
        }
    }
    if recompute {
        // `null` until recomputed, and when that fails (§2.3).
        new.result_metadata = None;
    }
    if new != old {
        new.updated_at = app.clock.now().0;
        new.last_editor_id = caller.user_id;
        tx.card_update(&new).await?;
    }
    let v = render(tx.as_mut(), caller, &new).await?;
    tx.commit().await?;
    if recompute {
        if let Some(filled) = super::metadata::fill(app, caller, new.id).await? {
            return Ok(filled);
        }
    }
    Ok(v)
}

/// The checks of a `PUT`: existence of referenced objects before permissions (§0.4).
async fn check_update(
    app: &App,
    tx: &mut dyn Tx,
    caller: &Principal,
    old: &CardRow,
    input: &CardInput,
) -> ApiResult<PlaceRequest> {
    let req = PlaceRequest::read(tx, input.archived, input.collection_id, old.archived).await?;
    if let Some(Some(d)) = input.dashboard_id {
        tx.content_dashboard(d).await?.ok_or(ApiError::NotFound)?;
    }
    if let Some(q) = &input.dataset_query {
        check_database(tx, &q.derived).await?;
    }
    if !req.restores(old.archived) && req.targets_trash() {
        return Err(ApiError::bad_request_text(TRASH));
    }
    // Permissions.
    if level(tx, caller, old.collection_id).await? != Level::Write {
        return Err(ApiError::Forbidden);
    }
    // A changed query must be one the caller may run; re-sending the stored one needs nothing.
    if let Some(q) = input
        .dataset_query
        .as_ref()
        .filter(|q| changes_query(old, q))
    {
        super::service::require_can_save(app, tx, caller, q).await?;
    }
    refuse_embedding(input.enable_embedding)?;
    if let Some(dest) = req.destination(old.collection_id) {
        if level(tx, caller, dest).await? != Level::Write {
            return Err(curate());
        }
    }
    Ok(req)
}

/// Whether `q` differs from the card's stored query.
fn changes_query(card: &CardRow, q: &Query) -> bool {
    serde_json::from_str::<Value>(&card.dataset_query)
        .ok()
        .as_ref()
        != Some(&q.value)
}

/// `dashboard_id` changed (§2.7): write permission on the old and the new dashboard's
/// collection. Returns the new dashboard's collection, which the card follows.
async fn dashboard_move(
    tx: &mut dyn Tx,
    caller: &Principal,
    old: &CardRow,
    input: &CardInput,
) -> ApiResult<Option<Option<i64>>> {
    let Some(wanted) = input.dashboard_id else {
        return Ok(None);
    };
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

/// The card after the `PUT`: its place (§4.2), its fields, the collection of a new dashboard
/// (`follow`), and a tab that belongs to its dashboard.
async fn updated_row(
    tx: &mut dyn Tx,
    old: &CardRow,
    input: &CardInput,
    req: &PlaceRequest,
    follow: Option<Option<i64>>,
) -> ApiResult<CardRow> {
    let mut new = old.clone();
    let p = place(tx, placement(old), req).await?;
    (new.archived, new.archived_directly, new.collection_id) =
        (p.archived, p.archived_directly, p.collection_id);
    apply_fields(&mut new, input);
    if let Some(q) = input.dataset_query.as_ref() {
        if let Some(t) = super::service::source_card_table(tx, &q.derived).await? {
            new.table_id = Some(t);
        }
    }
    if let Some(c) = follow {
        new.collection_id = c;
    }
    if new.dashboard_id != old.dashboard_id && input.dashboard_tab_id.is_none() {
        new.dashboard_tab_id = None;
    }
    if (new.dashboard_id, new.dashboard_tab_id) != (old.dashboard_id, old.dashboard_tab_id) {
        check_card_tab(tx, new.dashboard_id, new.dashboard_tab_id).await?;
    }
    Ok(new)
}

/// Plain field updates: only fields the body gave are considered.
fn apply_fields(new: &mut CardRow, input: &CardInput) {
    set(&mut new.name, &input.name);
    set(&mut new.description, &input.description);
    if let Some(q) = input
        .dataset_query
        .as_ref()
        .filter(|q| changes_query(new, q))
    {
        new.dataset_query = q.value.to_string();
        new.database_id = Some(q.derived.database_id);
        new.query_type = Some(q.derived.query_type.to_owned());
        new.table_id = q.derived.table_id;
    }
    set(&mut new.display, &input.display);
    if let Some(t) = &input.card_type {
        if t == "model" && new.card_type != "model" && new.display != "list" {
            new.display = "table".into();
        }
        new.card_type = t.clone();
    }
    set_json(
        &mut new.visualization_settings,
        &input.visualization_settings,
    );
    set_json(&mut new.parameters, &input.parameters);
    set_json(&mut new.parameter_mappings, &input.parameter_mappings);
    if let Some(rm) = &input.result_metadata {
        let stored = new.result_metadata.as_deref();
        let same = match (rm, stored) {
            (Some(a), Some(b)) => serde_json::from_str::<Value>(b).ok().as_ref() == Some(a),
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same {
            new.result_metadata = rm.as_ref().map(Value::to_string);
        }
    }
    set(&mut new.collection_position, &input.collection_position);
    set(&mut new.collection_preview, &input.collection_preview);
    set(&mut new.cache_ttl, &input.cache_ttl);
    set(&mut new.dashboard_id, &input.dashboard_id);
    set(&mut new.dashboard_tab_id, &input.dashboard_tab_id);
}
