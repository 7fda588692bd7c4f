//! Metadata edits (data-model.md §5.8, §5.9, §5.12, §5.16): validation happened in `input.rs`;
//! here the table or field must exist (`404`), the caller must manage the database's metadata
//! (`403`), the business rules apply, every attribute written is marked edited (§2.9), and
//! `updated_at` moves only when a stored value changed.
use std::collections::HashSet;
use std::sync::Arc;

use super::edits::mark_edited;
use super::input::{FieldPatch, TablePatch};
use super::perms::Perms;
use super::read::{self, table_row};
use super::store::{FieldRow, TableRow};
use super::sync::{apply::reposition, schedule, Scope};
use super::types;
use super::view::{FieldDetail, TableDetail};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

fn set<T: Clone>(target: &mut T, edited: &mut String, name: &str, value: &Option<T>) {
    if let Some(v) = value {
        *target = v.clone();
        *edited = mark_edited(edited, name);
    }
}

/// The patch applied to a table row; whether it made a hidden table visible.
pub fn patch_table(t: &mut TableRow, p: &TablePatch) -> bool {
    let was_hidden = t.visibility_type.is_some();
    let e = &mut t.edited;
    set(&mut t.display_name, e, "display_name", &p.display_name);
    set(&mut t.description, e, "description", &p.description);
    set(&mut t.caveats, e, "caveats", &p.caveats);
    set(
        &mut t.points_of_interest,
        e,
        "points_of_interest",
        &p.points_of_interest,
    );
    set(
        &mut t.entity_type,
        e,
        "entity_type",
        &p.entity_type.clone().map(Some),
    );
    set(
        &mut t.visibility_type,
        e,
        "visibility_type",
        &p.visibility_type,
    );
    set(&mut t.field_order, e, "field_order", &p.field_order);
    set(
        &mut t.show_in_getting_started,
        e,
        "show_in_getting_started",
        &p.show_in_getting_started,
    );
    was_hidden && t.visibility_type.is_none()
}

/// Writes a patched table; `true` when it was made visible (a sync of it follows).
async fn write_table(tx: &mut dyn Tx, old: &TableRow, p: &TablePatch, now: i64) -> ApiResult<bool> {
    let mut t = old.clone();
    let shown = patch_table(&mut t, p);
    store_table(tx, old, t, now).await?;
    Ok(shown)
}

/// Stores `new`, the patched state of `old`: nothing when equal, `updated_at` moved only when
/// a value (not just the edited set) changed, positions recomputed when the order changed.
pub async fn store_table(
    tx: &mut dyn Tx,
    old: &TableRow,
    mut t: TableRow,
    now: i64,
) -> ApiResult<()> {
    if t == *old {
        return Ok(());
    }
    let values_changed = {
        let mut a = t.clone();
        a.edited = old.edited.clone();
        a != *old
    };
    if values_changed {
        t.updated_at = now;
    }
    tx.dm_table_update(&t).await?;
    if t.field_order != old.field_order {
        reposition(tx, t.id, now)
            .await
            .map_err(|e| ApiError::internal(e.0))?;
    }
    Ok(())
}

/// `PUT /api/table/:id`.
pub async fn put_table(
    app: &Arc<App>,
    caller: &Principal,
    id: i64,
    p: TablePatch,
) -> ApiResult<TableDetail> {
    let mut tx = app.store.begin().await?;
    let old = table_row(tx.as_mut(), id).await?;
    Perms::load(tx.as_mut(), caller, &[old.db_id])
        .await?
        .require_manage(old.db_id)?;
    let shown = write_table(tx.as_mut(), &old, &p, app.clock.now().micros()).await?;
    tx.commit().await?;
    if shown {
        drop(schedule::request(app, old.db_id, Scope::Table(id)));
    }
    read::get_table(app, caller, id, false).await
}

/// `PUT /api/table`: every id must exist and be managed by the caller, or nothing changes.
pub async fn put_tables(
    app: &Arc<App>,
    caller: &Principal,
    ids: Vec<i64>,
    p: TablePatch,
) -> ApiResult<Vec<TableDetail>> {
    let mut tx = app.store.begin().await?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        rows.push(table_row(tx.as_mut(), *id).await?);
    }
    let dbs: Vec<i64> = rows
        .iter()
        .map(|t| t.db_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let perms = Perms::load(tx.as_mut(), caller, &dbs).await?;
    for db in &dbs {
        perms.require_manage(*db)?;
    }
    let now = app.clock.now().micros();
    let mut shown = Vec::new();
    for t in &rows {
        if write_table(tx.as_mut(), t, &p, now).await? {
            shown.push((t.db_id, t.id));
        }
    }
    tx.commit().await?;
    for (db, id) in shown {
        drop(schedule::request(app, db, Scope::Table(id)));
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(read::get_table(app, caller, id, false).await?);
    }
    Ok(out)
}

/// `PUT /api/table/:id/fields/order` (§5.12).
pub async fn put_field_order(
    app: &App,
    caller: &Principal,
    id: i64,
    order: Vec<i64>,
) -> ApiResult<()> {
    let mut tx = app.store.begin().await?;
    let old = table_row(tx.as_mut(), id).await?;
    Perms::load(tx.as_mut(), caller, &[old.db_id])
        .await?
        .require_manage(old.db_id)?;
    let fields: Vec<FieldRow> = tx
        .dm_fields(id)
        .await?
        .into_iter()
        .filter(|f| f.active)
        .collect();
    let wanted: HashSet<i64> = order.iter().copied().collect();
    let active: HashSet<i64> = fields.iter().map(|f| f.id).collect();
    if wanted.len() != order.len() || wanted != active {
        return Err(ApiError::bad_request_text(
            "Invalid field order: the ids must be exactly the table's active fields.",
        ));
    }
    let now = app.clock.now().micros();
    for (i, fid) in order.iter().enumerate() {
        let Some(f) = fields.iter().find(|f| f.id == *fid) else {
            continue;
        };
        let mut row = f.clone();
        row.position = i as i64;
        row.custom_position = i as i64;
        row.has_custom_position = true;
        if row != *f {
            row.updated_at = now;
            tx.dm_field_update(&row).await?;
        }
    }
    let mut t = old.clone();
    t.field_order = "custom".into();
    t.edited = mark_edited(&t.edited, "field_order");
    if t != old {
        if t.field_order != old.field_order {
            t.updated_at = now;
        }
        tx.dm_table_update(&t).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The patch applied to a field row (§5.16 rules 2–3).
pub fn patch_field(f: &mut FieldRow, p: &FieldPatch) {
    let was_fk = f.semantic_type.as_deref() == Some("type/FK");
    let e = &mut f.edited;
    set(&mut f.display_name, e, "display_name", &p.display_name);
    set(&mut f.description, e, "description", &p.description);
    set(&mut f.caveats, e, "caveats", &p.caveats);
    set(
        &mut f.points_of_interest,
        e,
        "points_of_interest",
        &p.points_of_interest,
    );
    set(&mut f.semantic_type, e, "semantic_type", &p.semantic_type);
    set(
        &mut f.fk_target_field_id,
        e,
        "fk_target_field_id",
        &p.fk_target_field_id,
    );
    set(
        &mut f.coercion_strategy,
        e,
        "coercion_strategy",
        &p.coercion_strategy,
    );
    set(
        &mut f.visibility_type,
        e,
        "visibility_type",
        &p.visibility_type,
    );
    set(
        &mut f.has_field_values,
        e,
        "has_field_values",
        &p.has_field_values,
    );
    set(
        &mut f.settings,
        e,
        "settings",
        &p.settings.clone().map(Some),
    );
    set(
        &mut f.json_unfolding,
        e,
        "json_unfolding",
        &p.json_unfolding,
    );
    set(&mut f.nfc_path, e, "nfc_path", &p.nfc_path);
    if was_fk && f.semantic_type.as_deref() != Some("type/FK") {
        f.fk_target_field_id = None;
    }
    match f
        .coercion_strategy
        .as_deref()
        .map(|c| types::coerced_type(c, &f.base_type))
    {
        Some(Some(effective)) => f.effective_type = effective.to_string(),
        Some(None) => {
            f.coercion_strategy = None;
            f.effective_type = f.base_type.clone();
        }
        None => f.effective_type = f.base_type.clone(),
    }
}

/// §5.16 rule 1: the target must be an active field of the same database.
pub async fn check_target(tx: &mut dyn Tx, f: &FieldRow, db_id: i64) -> ApiResult<()> {
    let Some(target) = f.fk_target_field_id else {
        return Ok(());
    };
    let ok = match tx.dm_field(target).await? {
        Some(t) if t.active => tx
            .dm_table(t.table_id)
            .await?
            .is_some_and(|tt| tt.db_id == db_id),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "fk_target_field_id",
            "Invalid target field",
        ))
    }
}

/// Whether rule 1 applies to `f` patched with `p`: a target was sent, or the semantic type
/// was sent and the result is a foreign key.
pub fn checks_target(f: &FieldRow, p: &FieldPatch) -> bool {
    p.fk_target_field_id.is_some()
        || (f.semantic_type.as_deref() == Some("type/FK") && p.semantic_type.is_some())
}

/// Stores `new`, the patched state of `old` (rule 4): nothing when equal, `updated_at` moved
/// only when a value (not just the edited set) changed, cached values discarded when the field
/// no longer keeps them.
pub async fn store_field(
    tx: &mut dyn Tx,
    old: &FieldRow,
    mut f: FieldRow,
    now: i64,
) -> ApiResult<()> {
    let was_list = super::sync::values::has_cached_values(old);
    if f != *old {
        let mut a = f.clone();
        a.edited = old.edited.clone();
        if a != *old {
            f.updated_at = now;
        }
        tx.dm_field_update(&f).await?;
    }
    if was_list && !super::sync::values::has_cached_values(&f) {
        tx.dm_values_delete(f.id).await?;
    }
    Ok(())
}

/// `PUT /api/field/:id`.
pub async fn put_field(
    app: &App,
    caller: &Principal,
    id: i64,
    p: FieldPatch,
) -> ApiResult<FieldDetail> {
    let mut tx = app.store.begin().await?;
    let old = tx.dm_field(id).await?.ok_or(ApiError::NotFound)?;
    let table = table_row(tx.as_mut(), old.table_id).await?;
    Perms::load(tx.as_mut(), caller, &[table.db_id])
        .await?
        .require_manage(table.db_id)?;
    let mut f = old.clone();
    patch_field(&mut f, &p);
    if checks_target(&f, &p) {
        check_target(tx.as_mut(), &f, table.db_id).await?;
    }
    store_field(tx.as_mut(), &old, f, app.clock.now().micros()).await?;
    tx.commit().await?;
    read::get_field(app, caller, id, true).await
}
