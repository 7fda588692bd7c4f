//! `PUT /api/dashboard/:id` (content.md §3.4, §3.5): scalar fields, moving (with the dashboard
//! questions), archiving and restoring (§4.2), and the layout, in one transaction.
use super::input::{DashboardPatch, Layout};
use super::layout;
use super::layout_store::DashcardRow;
use super::service::{archived_object, curate, level, render_detail, resolve, DashRef};
use super::store::DashboardRow;
use super::view::DashboardDetail;
use crate::auth::Principal;
use crate::cards::patch::{set, set_json};
use crate::cards::placement::{place, refuse_embedding, PlaceRequest, Placement};
use crate::collections::perms::Level;
use crate::collections::service::TRASH_MODIFY;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

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
    input: &DashboardPatch,
) -> ApiResult<DashboardDetail> {
    let mut tx = app.store.begin().await?;
    let old = resolve(tx.as_mut(), r).await?;
    let (req, stored) = check_update(tx.as_mut(), caller, &old, input).await?;

    // Archiving state (§4.2).
    let now = app.clock.now().0;
    let mut new = old.clone();
    let p = place(tx.as_mut(), placement(&old), &req).await?;
    (new.archived, new.archived_directly, new.collection_id) =
        (p.archived, p.archived_directly, p.collection_id);
    apply_fields(&mut new, input);

    let layout_changed =
        apply_layout(tx.as_mut(), caller, &old, &input.layout, &stored, now).await?;
    write(tx.as_mut(), caller, &old, &mut new, layout_changed, now).await?;
    let v = render_detail(tx.as_mut(), caller, &new).await?;
    tx.commit().await?;
    Ok(v)
}

/// The checks of a `PUT`: existence of every referenced object before permissions (§0.4).
/// Returns what the body asks of the dashboard's place, and its stored dashcards when the body
/// has a layout.
async fn check_update(
    tx: &mut dyn Tx,
    caller: &Principal,
    old: &DashboardRow,
    input: &DashboardPatch,
) -> ApiResult<(PlaceRequest, Vec<DashcardRow>)> {
    let req = PlaceRequest::read(tx, input.archived, input.collection_id, old.archived).await?;
    let stored = if input.layout.is_present() {
        tx.dashcard_list(old.id).await?
    } else {
        Vec::new()
    };
    for id in layout::new_card_ids(&stored, &input.layout) {
        tx.card_get(id).await?.ok_or(ApiError::NotFound)?;
    }

    // Permissions.
    if level(tx, caller, old.collection_id).await? != Level::Write {
        return Err(ApiError::Forbidden);
    }
    refuse_embedding(input.enable_embedding)?;
    let restoring = req.restores(old.archived);
    if let Some(dest) = req.destination(old.collection_id) {
        if !restoring && req.targets_trash() {
            return Err(ApiError::bad_request_text(TRASH_MODIFY));
        }
        if level(tx, caller, dest).await? != Level::Write {
            return Err(curate());
        }
    }
    Ok((req, stored))
}

/// Writes the dashboard row (when it or its layout changed) and what follows it: pinned
/// positions, and its dashboard questions' collection and archived state.
async fn write(
    tx: &mut dyn Tx,
    caller: &Principal,
    old: &DashboardRow,
    new: &mut DashboardRow,
    layout_changed: bool,
    now: i64,
) -> ApiResult<()> {
    if new.collection_position.is_some()
        && (new.collection_position != old.collection_position
            || new.collection_id != old.collection_id)
    {
        if let Some(p) = new.collection_position {
            tx.dashboard_shift_positions(new.collection_id, p, new.id)
                .await?;
        }
    }
    if *new != *old || layout_changed {
        new.updated_at = now;
        new.last_editor_id = caller.user_id;
        tx.dashboard_update(new).await?;
    }
    if new.collection_id != old.collection_id {
        tx.dashboard_questions_move(new.id, new.collection_id, now)
            .await?;
    }
    if new.archived != old.archived {
        tx.dashboard_questions_archive(new.id, new.archived, now)
            .await?;
    }
    Ok(())
}

/// The layout part: refused on an archived dashboard (checked on its stored state).
async fn apply_layout(
    tx: &mut dyn Tx,
    caller: &Principal,
    old: &DashboardRow,
    layout: &Layout,
    stored: &[DashcardRow],
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

/// Plain field updates (§3.4): some fields are written whenever given, including `null`;
/// others only when given with a value.
fn apply_fields(new: &mut DashboardRow, input: &DashboardPatch) {
    set(&mut new.name, &input.name);
    set(&mut new.description, &input.description);
    set_json(&mut new.parameters, &input.parameters);
    // `width` is NOT NULL: a `null` keeps the stored value.
    set(&mut new.width, &input.width);
    set(&mut new.auto_apply_filters, &input.auto_apply_filters);
    set(&mut new.cache_ttl, &input.cache_ttl);
    set(&mut new.position, &input.position);
    set(&mut new.collection_position, &input.collection_position);
    set(&mut new.caveats, &input.caveats);
    set(&mut new.points_of_interest, &input.points_of_interest);
}
