//! Storing what discovery found (data-model.md §2.2 steps 2–3, §2.8, §2.9): tables and fields
//! are matched by name (exactly, then case-insensitively when unambiguous), created, updated,
//! deactivated or reactivated — one application-database transaction per table. Attributes an
//! edit set are never touched.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::discover::{ColumnInfo, Relation};
use super::{Counts, Scope, SyncError};
use crate::data_model::edits::is_edited;
use crate::data_model::humanize::{humanize, Strategy};
use crate::data_model::infer;
use crate::data_model::order::{positions, FieldOrder, Orderable};
use crate::data_model::store::{FieldRow, TableRow};
use crate::state::App;
use crate::store::Tx;

/// What later steps of the sync work on.
#[derive(Debug, Default)]
pub struct Applied {
    pub db_id: i64,
    /// Active tables in scope, with what the warehouse said of them.
    pub tables: Vec<(i64, Relation)>,
    pub table_ids: Vec<i64>,
    /// Fields to analyse: new ones and those whose base type changed.
    pub to_analyse: HashSet<i64>,
    /// Tables this sync created (`initial_sync_status` becomes `complete` at the end).
    pub created: Vec<i64>,
}

/// Index of the stored row matching `name`: exact first, then the single case-insensitive one.
fn find_by_name<T>(rows: &[T], name: &str, key: impl Fn(&T) -> &str) -> Option<usize> {
    rows.iter().position(|r| key(r) == name).or_else(|| {
        let lower = name.to_lowercase();
        let hits: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| key(r).to_lowercase() == lower)
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    })
}

pub async fn humanization(app: &App) -> Result<Strategy, SyncError> {
    let mut tx = app.store.read().await?;
    let v = tx.setting_get("humanization-strategy").await?;
    Ok(Strategy::from_setting(v.as_deref()))
}

pub async fn apply(
    app: &Arc<App>,
    db_id: i64,
    discovered: &[Relation],
    scope: &Scope,
    counts: &mut Counts,
) -> Result<Applied, SyncError> {
    let strategy = humanization(app).await?;
    let now = app.clock.now().micros();
    let stored: Vec<TableRow> = app.store.read().await?.dm_tables(db_id).await?;
    let mut applied = Applied {
        db_id,
        ..Applied::default()
    };
    let mut seen: HashSet<i64> = HashSet::new();
    for rel in discovered {
        let candidates: Vec<&TableRow> = stored.iter().filter(|t| t.schema == rel.schema).collect();
        let matched = find_by_name(&candidates, &rel.name, |t| &t.name).map(|i| candidates[i]);
        if let Scope::Table(id) = scope {
            if matched.map(|t| t.id) != Some(*id) {
                continue;
            }
        }
        let mut tx = app.store.begin().await?;
        let id = match matched {
            Some(t) => {
                update_table(tx.as_mut(), t, rel, now, counts).await?;
                t.id
            }
            None => {
                let id = insert_table(tx.as_mut(), db_id, rel, strategy, now).await?;
                counts.tables_created += 1;
                applied.created.push(id);
                id
            }
        };
        apply_fields(
            tx.as_mut(),
            id,
            rel,
            strategy,
            now,
            counts,
            &mut applied.to_analyse,
        )
        .await?;
        tx.commit().await?;
        seen.insert(id);
        applied.tables.push((id, rel.clone()));
        applied.table_ids.push(id);
    }
    if *scope == Scope::Database {
        for t in stored.iter().filter(|t| t.active && !seen.contains(&t.id)) {
            let mut tx = app.store.begin().await?;
            let mut row = t.clone();
            row.active = false;
            row.deactivated_at = Some(now);
            row.updated_at = now;
            tx.dm_table_update(&row).await?;
            tx.commit().await?;
            counts.tables_deactivated += 1;
        }
    }
    clear_dangling_fk_targets(app, db_id, now).await?;
    Ok(applied)
}

async fn insert_table(
    tx: &mut dyn Tx,
    db_id: i64,
    rel: &Relation,
    strategy: Strategy,
    now: i64,
) -> Result<i64, SyncError> {
    let row = TableRow {
        id: 0,
        db_id,
        schema: rel.schema.clone(),
        name: rel.name.clone(),
        display_name: humanize(&rel.name, strategy),
        description: rel.comment.clone(),
        entity_type: Some(infer::entity_type(&rel.name).to_string()),
        visibility_type: None,
        active: true,
        field_order: "database".into(),
        initial_sync_status: "incomplete".into(),
        caveats: None,
        points_of_interest: None,
        show_in_getting_started: false,
        edited: String::new(),
        created_at: now,
        updated_at: now,
        deactivated_at: None,
    };
    Ok(tx.dm_table_insert(&row).await?)
}

async fn update_table(
    tx: &mut dyn Tx,
    t: &TableRow,
    rel: &Relation,
    now: i64,
    counts: &mut Counts,
) -> Result<(), SyncError> {
    let mut row = t.clone();
    row.name = rel.name.clone();
    if !row.active {
        counts.tables_reactivated += 1;
    }
    row.active = true;
    row.deactivated_at = None;
    if row.description.is_none() && !is_edited(&row.edited, "description") {
        row.description = rel.comment.clone();
    }
    if row != *t {
        row.updated_at = now;
        tx.dm_table_update(&row).await?;
        if t.active {
            counts.tables_updated += 1;
        }
    }
    Ok(())
}

fn new_field(table_id: i64, c: &ColumnInfo, strategy: Strategy, now: i64) -> FieldRow {
    FieldRow {
        id: 0,
        table_id,
        name: c.name.clone(),
        display_name: humanize(&c.name, strategy),
        description: c.comment.clone(),
        database_type: c.database_type.clone(),
        base_type: c.base_type.to_string(),
        effective_type: c.base_type.to_string(),
        semantic_type: None,
        coercion_strategy: None,
        fk_target_field_id: None,
        visibility_type: "normal".into(),
        has_field_values: None,
        position: c.position,
        custom_position: 0,
        has_custom_position: false,
        database_position: c.position,
        database_is_pk: false,
        database_is_nullable: c.nullable,
        database_required: c.required(),
        database_is_auto_increment: c.auto_increment,
        database_default: c.default.clone(),
        database_is_generated: c.generated,
        active: true,
        json_unfolding: false,
        preview_display: true,
        settings: None,
        nfc_path: None,
        fingerprint: None,
        last_analyzed: None,
        caveats: None,
        points_of_interest: None,
        edited: String::new(),
        created_at: now,
        updated_at: now,
    }
}

/// The warehouse-owned attributes of a stored field (§2.9), and the consequences of a base
/// type change. Returns whether the field must be analysed again.
fn follow_warehouse(f: &mut FieldRow, c: &ColumnInfo, is_pk: bool) -> bool {
    f.name = c.name.clone();
    f.database_type = c.database_type.clone();
    f.database_position = c.position;
    f.database_is_pk = is_pk;
    f.database_is_nullable = c.nullable;
    f.database_required = c.required();
    f.database_is_auto_increment = c.auto_increment;
    f.database_default = c.default.clone();
    f.database_is_generated = c.generated;
    if f.description.is_none() && !is_edited(&f.edited, "description") {
        f.description = c.comment.clone();
    }
    if f.base_type == c.base_type {
        return false;
    }
    f.base_type = c.base_type.to_string();
    f.coercion_strategy = None;
    f.effective_type = c.base_type.to_string();
    if !is_edited(&f.edited, "semantic_type") {
        f.semantic_type = None;
    }
    if !is_edited(&f.edited, "has_field_values") {
        f.has_field_values = None;
    }
    f.fingerprint = None;
    f.last_analyzed = None;
    f.preview_display = true;
    true
}

#[allow(clippy::too_many_arguments)]
async fn apply_fields(
    tx: &mut dyn Tx,
    table_id: i64,
    rel: &Relation,
    strategy: Strategy,
    now: i64,
    counts: &mut Counts,
    to_analyse: &mut HashSet<i64>,
) -> Result<(), SyncError> {
    let stored = tx.dm_fields(table_id).await?;
    let mut seen = HashSet::new();
    for c in &rel.columns {
        let is_pk = rel.primary_key.contains(&c.name);
        match find_by_name(&stored, &c.name, |f| &f.name) {
            Some(i) => {
                let old = &stored[i];
                let mut f = old.clone();
                if !f.active {
                    counts.fields_reactivated += 1;
                }
                f.active = true;
                if follow_warehouse(&mut f, c, is_pk) || f.last_analyzed.is_none() {
                    to_analyse.insert(f.id);
                }
                if f != *old {
                    f.updated_at = now;
                    tx.dm_field_update(&f).await?;
                    if old.active {
                        counts.fields_updated += 1;
                    }
                }
                seen.insert(f.id);
            }
            None => {
                let mut f = new_field(table_id, c, strategy, now);
                f.database_is_pk = is_pk;
                let id = tx.dm_field_insert(&f).await?;
                counts.fields_created += 1;
                to_analyse.insert(id);
                seen.insert(id);
            }
        }
    }
    for f in stored.iter().filter(|f| f.active && !seen.contains(&f.id)) {
        let mut row = f.clone();
        row.active = false;
        row.updated_at = now;
        tx.dm_field_update(&row).await?;
        counts.fields_deactivated += 1;
    }
    reposition(tx, table_id, now).await
}

/// Recomputes `position` of a table's active fields for its `field_order` (§5.12).
pub async fn reposition(tx: &mut dyn Tx, table_id: i64, now: i64) -> Result<(), SyncError> {
    let Some(table) = tx.dm_table(table_id).await? else {
        return Ok(());
    };
    let order = FieldOrder::parse(&table.field_order).unwrap_or(FieldOrder::Database);
    let fields: Vec<FieldRow> = tx
        .dm_fields(table_id)
        .await?
        .into_iter()
        .filter(|f| f.active)
        .collect();
    let orderable: Vec<Orderable<'_>> = fields
        .iter()
        .map(|f| Orderable {
            id: f.id,
            name: &f.name,
            database_position: f.database_position,
            custom_position: f.custom_position,
            has_custom_position: f.has_custom_position,
            semantic_type: f.semantic_type.as_deref(),
            base_type: &f.base_type,
        })
        .collect();
    let new: HashMap<i64, i64> = positions(order, &orderable).into_iter().collect();
    for f in &fields {
        let position = new.get(&f.id).copied().unwrap_or(f.position);
        if position != f.position {
            let mut row = f.clone();
            row.position = position;
            row.updated_at = now;
            tx.dm_field_update(&row).await?;
        }
    }
    Ok(())
}

/// Fields pointing at a field that is no longer active lose their target (§2.8).
async fn clear_dangling_fk_targets(app: &App, db_id: i64, now: i64) -> Result<(), SyncError> {
    let mut tx = app.store.begin().await?;
    let fields = tx.dm_db_fields(db_id).await?;
    let inactive: HashSet<i64> = fields.iter().filter(|f| !f.active).map(|f| f.id).collect();
    for f in &fields {
        if f.fk_target_field_id.is_some_and(|t| inactive.contains(&t)) {
            let mut row = f.clone();
            row.fk_target_field_id = None;
            row.updated_at = now;
            tx.dm_field_update(&row).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Marks the tables this sync created `complete` (§2.10).
pub async fn finish(app: &App, applied: &Applied) -> Result<(), SyncError> {
    let mut tx = app.store.begin().await?;
    for id in &applied.created {
        if let Some(mut t) = tx.dm_table(*id).await? {
            t.initial_sync_status = "complete".into();
            tx.dm_table_update(&t).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
