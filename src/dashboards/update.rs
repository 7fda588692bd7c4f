//! `PUT /api/dashboard/:id` (content.md §3.4, §3.5): scalar fields, moving (with the dashboard
//! questions), archiving and restoring (§4.2), and the layout, in one transaction.
use serde_json::{Map, Value};

use super::input::{self, Layout};
use super::layout;
use super::service::{archived_object, curate, level, render, resolve, DashRef};
use super::store::DashboardRow;
use crate::auth::Principal;
use crate::cards::placement::{place, refuse_embedding, PlaceRequest, Placement};
use crate::collections::perms::Level;
use crate::collections::service::TRASH_MODIFY;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::json_fields::Patch;
use crate::state::App;

fn placement(d: &DashboardRow) -> Placement {
    Placement {
        archived: d.archived,
        archived_directly: d.archived_directly,
        collection_id: d.collection_id,
    }
}

pub async fn update(
    app: &App,
    caller: &Principal,
    r: &DashRef,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let mut errs = ValidationErrors::new();
    input::check(body, false, &mut errs);
    let layout = input::layout(body, &mut errs);
    errs.into_result()?;
    let mut tx = app.store.begin().await?;
    let old = resolve(tx.as_mut(), r).await?;
    let mut new = old.clone();

    // Existence of every referenced object before permissions (§0.4).
    let req = PlaceRequest::read(tx.as_mut(), body, old.archived).await?;
    let stored = if layout.is_present() {
        tx.dashcard_list(old.id).await?
    } else {
        Vec::new()
    };
    for id in layout::new_card_ids(&stored, &layout) {
        tx.card_get(id).await?.ok_or(ApiError::NotFound)?;
    }

    // Permissions.
    if level(tx.as_mut(), caller, old.collection_id).await? != Level::Write {
        return Err(ApiError::Forbidden);
    }
    refuse_embedding(body)?;
    let restoring = req.restores(old.archived);
    if let Some(dest) = req.destination(old.collection_id) {
        if !restoring && req.targets_trash() {
            return Err(ApiError::bad_request_text(TRASH_MODIFY));
        }
        if level(tx.as_mut(), caller, dest).await? != Level::Write {
            return Err(curate());
        }
    }

    // Archiving state (§4.2).
    let now = app.clock.now().0;
    let p = place(tx.as_mut(), placement(&old), &req).await?;
    (new.archived, new.archived_directly, new.collection_id) =
        (p.archived, p.archived_directly, p.collection_id);
    apply_fields(&mut new, body);

    let layout_changed = apply_layout(&mut *tx, caller, &old, &layout, &stored, now).await?;
    if new.collection_position.is_some()
        && (new.collection_position != old.collection_position
            || new.collection_id != old.collection_id)
    {
        if let Some(p) = new.collection_position {
            tx.dashboard_shift_positions(new.collection_id, p, new.id)
                .await?;
        }
    }
    if new != old || layout_changed {
        new.updated_at = now;
        new.last_editor_id = caller.user_id;
        tx.dashboard_update(&new).await?;
    }
    if new.collection_id != old.collection_id {
        tx.dashboard_questions_move(new.id, new.collection_id, now)
            .await?;
    }
    if new.archived != old.archived {
        tx.dashboard_questions_archive(new.id, new.archived, now)
            .await?;
    }
    let v = render(tx.as_mut(), caller, &new, true).await?;
    tx.commit().await?;
    Ok(v)
}

/// The layout part: refused on an archived dashboard (checked on its stored state).
async fn apply_layout(
    tx: &mut dyn crate::store::Tx,
    caller: &Principal,
    old: &DashboardRow,
    layout: &Layout,
    stored: &[super::layout_store::DashcardRow],
    now: i64,
) -> ApiResult<bool> {
    if !layout.is_present() {
        return Ok(false);
    }
    if old.archived {
        return Err(archived_object());
    }
    layout::apply(tx, caller, old.id, layout, stored, now).await
}

/// Plain field updates (§3.4): some keys are written whenever present, including `null`;
/// others only when present and not null.
fn apply_fields(new: &mut DashboardRow, body: &Map<String, Value>) {
    let p = Patch(body);
    p.text("name", &mut new.name);
    p.nullable_text("description", &mut new.description);
    p.json("parameters", &mut new.parameters);
    // `width` is NOT NULL: a `null` keeps the stored value.
    p.text("width", &mut new.width);
    p.boolean("auto_apply_filters", &mut new.auto_apply_filters);
    p.nullable_i64("cache_ttl", &mut new.cache_ttl);
    p.nullable_i64("position", &mut new.position);
    p.nullable_i64("collection_position", &mut new.collection_position);
    p.nullable_text("caveats", &mut new.caveats);
    p.nullable_text("points_of_interest", &mut new.points_of_interest);
}
