//! Storing what discovery found (data-model.md §2.2 steps 2–3, §2.8, §2.9): tables and fields
//! are matched by name (exactly, then case-insensitively when unambiguous), created, updated,
//! deactivated or reactivated — in transactions of up to [`super::TABLES_PER_TRANSACTION`]
//! tables ([`super::Batch`]). Attributes an edit set are never touched.
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
    /// Whether the sync covers the whole database (every active table is in `tables`).
    pub whole_database: bool,
    /// The rows of the tables in `tables` as this sync left them, with all their fields
    /// (active or not); later steps keep them up to date instead of reading them again.
    pub rows: HashMap<i64, (TableRow, Vec<FieldRow>)>,
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

/// Stored fields of the tables in scope, by table id (one statement).
async fn stored_fields(
    app: &App,
    db_id: i64,
    scope: &Scope,
) -> Result<HashMap<i64, Vec<FieldRow>>, SyncError> {
    let mut tx = app.store.read().await?;
    let rows = match scope {
        Scope::Database => tx.dm_db_fields(db_id).await?,
        Scope::Table(id) => tx.dm_fields(*id).await?,
    };
    let mut out: HashMap<i64, Vec<FieldRow>> = HashMap::new();
    for f in rows {
        out.entry(f.table_id).or_default().push(f);
    }
    Ok(out)
}

pub async fn apply(
    app: &Arc<App>,
    db_id: i64,
    discovered: Vec<Relation>,
    scope: &Scope,
    counts: &mut Counts,
) -> Result<Applied, SyncError> {
    let strategy = humanization(app).await?;
    let now = app.clock.now().micros();
    let stored: Vec<TableRow> = app.store.read().await?.dm_tables(db_id).await?;
    // Read once: a table whose relation did not change needs no transaction at all.
    let mut snapshot = stored_fields(app, db_id, scope).await?;
    // Unchanged tables whose fields `applied.rows` takes from `snapshot` at the end (moved,
    // not copied: the fields of a large database are tens of megabytes).
    let mut from_snapshot: HashSet<i64> = HashSet::new();
    let mut applied = Applied {
        db_id,
        whole_database: *scope == Scope::Database,
        ..Applied::default()
    };
    let mut seen: HashSet<i64> = HashSet::new();
    let mut batch = super::Batch::new(app);
    for owned in discovered {
        let rel = &owned;
        let candidates: Vec<&TableRow> = stored.iter().filter(|t| t.schema == rel.schema).collect();
        let matched = find_by_name(&candidates, &rel.name, |t| &t.name).map(|i| candidates[i]);
        if let Scope::Table(id) = scope {
            if matched.map(|t| t.id) != Some(*id) {
                continue;
            }
        }
        let id = match matched {
            Some(t) => {
                let fields = snapshot.get(&t.id).map_or(&[][..], Vec::as_slice);
                let plan = plan_fields(t.id, fields, rel, strategy, now);
                let unchanged = updated_table(t, rel).is_none()
                    && plan.updates.is_empty()
                    && plan.inserts.is_empty()
                    && moved(&t.field_order, fields, now).is_empty();
                if unchanged {
                    // The transaction would write nothing: none is opened.
                    applied.to_analyse.extend(plan.analyse);
                    applied.rows.insert(t.id, (t.clone(), Vec::new()));
                    from_snapshot.insert(t.id);
                } else {
                    let tx = batch.tx().await?;
                    let mut row = t.clone();
                    if let Some(changed) = updated_table(t, rel) {
                        counts.tables_reactivated += usize::from(!t.active);
                        counts.tables_updated += usize::from(t.active);
                        row = TableRow {
                            updated_at: now,
                            ..changed
                        };
                        tx.dm_table_update(&row).await?;
                    }
                    // Fields as they are now, in the transaction.
                    let fields = tx.dm_fields(t.id).await?;
                    let plan = plan_fields(t.id, &fields, rel, strategy, now);
                    let (order, fields) =
                        write_fields(tx, t.id, None, fields, plan, now, counts, &mut applied)
                            .await?;
                    batch.table_done().await?;
                    if let Some(order) = order {
                        row.field_order = order;
                    }
                    applied.rows.insert(t.id, (row, fields));
                    from_snapshot.remove(&t.id);
                }
                t.id
            }
            None => {
                let tx = batch.tx().await?;
                let row = insert_table(tx, db_id, rel, strategy, now).await?;
                let id = row.id;
                counts.tables_created += 1;
                applied.created.push(id);
                let plan = plan_fields(id, &[], rel, strategy, now);
                let (_, fields) = write_fields(
                    batch.tx().await?,
                    id,
                    Some("database"),
                    Vec::new(),
                    plan,
                    now,
                    counts,
                    &mut applied,
                )
                .await?;
                batch.table_done().await?;
                applied.rows.insert(id, (row, fields));
                id
            }
        };
        seen.insert(id);
        applied.tables.push((id, owned));
        applied.table_ids.push(id);
    }
    for id in from_snapshot {
        if let (Some((_, fields)), Some(stored)) = (applied.rows.get_mut(&id), snapshot.remove(&id))
        {
            *fields = stored;
        }
    }
    drop(snapshot);
    if *scope == Scope::Database {
        for t in stored.iter().filter(|t| t.active && !seen.contains(&t.id)) {
            let mut row = t.clone();
            row.active = false;
            row.deactivated_at = Some(now);
            row.updated_at = now;
            batch.tx().await?.dm_table_update(&row).await?;
            batch.table_done().await?;
            counts.tables_deactivated += 1;
        }
    }
    batch.commit().await?;
    let cleared: HashSet<i64> = clear_dangling_fk_targets(app, db_id, now).await?;
    for (_, fields) in applied.rows.values_mut() {
        for f in fields.iter_mut().filter(|f| cleared.contains(&f.id)) {
            f.fk_target_field_id = None;
            f.updated_at = now;
        }
    }
    Ok(applied)
}

async fn insert_table(
    tx: &mut dyn Tx,
    db_id: i64,
    rel: &Relation,
    strategy: Strategy,
    now: i64,
) -> Result<TableRow, SyncError> {
    let mut row = TableRow {
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
    row.id = tx.dm_table_insert(&row).await?;
    Ok(row)
}

/// The table's row after this sync's discovery, when it differs from the stored one (its
/// `updated_at` still the stored one).
fn updated_table(t: &TableRow, rel: &Relation) -> Option<TableRow> {
    let mut row = t.clone();
    row.name = rel.name.clone();
    row.active = true;
    row.deactivated_at = None;
    if row.description.is_none() && !is_edited(&row.edited, "description") {
        row.description = rel.comment.clone();
    }
    (row != *t).then_some(row)
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

/// What discovery changes in one table's stored fields (§2.8, §2.9).
#[derive(Debug, Default)]
struct FieldPlan {
    /// Changed stored rows (`updated_at` = now), one per id.
    updates: Vec<FieldRow>,
    /// New fields (their ids are not known yet).
    inserts: Vec<FieldRow>,
    /// Stored fields to analyse.
    analyse: Vec<i64>,
    counts: Counts,
}

/// Matches the relation's columns with the table's stored fields: updates, reactivations, new
/// fields and deactivations.
fn plan_fields(
    table_id: i64,
    stored: &[FieldRow],
    rel: &Relation,
    strategy: Strategy,
    now: i64,
) -> FieldPlan {
    let mut plan = FieldPlan::default();
    let mut seen = HashSet::new();
    let mut updates: Vec<FieldRow> = Vec::new();
    for c in &rel.columns {
        let is_pk = rel.primary_key.contains(&c.name);
        match find_by_name(stored, &c.name, |f| &f.name) {
            Some(i) => {
                let old = &stored[i];
                let mut f = old.clone();
                if !f.active {
                    plan.counts.fields_reactivated += 1;
                }
                f.active = true;
                if follow_warehouse(&mut f, c, is_pk) || f.last_analyzed.is_none() {
                    plan.analyse.push(f.id);
                }
                if f != *old {
                    f.updated_at = now;
                    if old.active {
                        plan.counts.fields_updated += 1;
                    }
                    updates.push(f);
                }
                seen.insert(old.id);
            }
            None => {
                let mut f = new_field(table_id, c, strategy, now);
                f.database_is_pk = is_pk;
                plan.counts.fields_created += 1;
                plan.inserts.push(f);
            }
        }
    }
    for f in stored.iter().filter(|f| f.active && !seen.contains(&f.id)) {
        let mut row = f.clone();
        row.active = false;
        row.updated_at = now;
        updates.push(row);
        plan.counts.fields_deactivated += 1;
    }
    // Two columns matching one stored field (case-insensitively): the last write wins.
    let mut last: HashMap<i64, usize> = HashMap::new();
    for (i, f) in updates.iter().enumerate() {
        last.insert(f.id, i);
    }
    plan.updates = updates
        .into_iter()
        .enumerate()
        .filter(|(i, f)| last.get(&f.id) == Some(i))
        .map(|(_, f)| f)
        .collect();
    plan
}

/// `stored` with `updates` applied.
fn merged(stored: Vec<FieldRow>, updates: &[FieldRow]) -> Vec<FieldRow> {
    let by_id: HashMap<i64, &FieldRow> = updates.iter().map(|f| (f.id, f)).collect();
    stored
        .into_iter()
        .map(|f| by_id.get(&f.id).map_or(f, |u| (*u).clone()))
        .collect()
}

/// Writes one table's field plan in `tx` (`stored`: its fields as read in `tx`), then the
/// positions for the table's `field_order` (`order`, read in `tx` when `None`). Returns the
/// `field_order` read, and the table's fields as written.
#[allow(clippy::too_many_arguments)]
async fn write_fields(
    tx: &mut dyn Tx,
    table_id: i64,
    order: Option<&str>,
    stored: Vec<FieldRow>,
    plan: FieldPlan,
    now: i64,
    counts: &mut Counts,
    applied: &mut Applied,
) -> Result<(Option<String>, Vec<FieldRow>), SyncError> {
    *counts += plan.counts;
    applied.to_analyse.extend(plan.analyse.iter().copied());
    tx.dm_fields_update(&plan.updates).await?;
    let ids = tx.dm_fields_insert(&plan.inserts).await?;
    applied.to_analyse.extend(ids.iter().copied());
    let mut all = merged(stored, &plan.updates);
    all.extend(
        plan.inserts
            .into_iter()
            .zip(ids)
            .map(|(f, id)| FieldRow { id, ..f }),
    );
    let (order, read) = match order {
        Some(o) => (o.to_string(), None),
        None => match tx.dm_table(table_id).await? {
            Some(t) => (t.field_order.clone(), Some(t.field_order)),
            None => return Ok((None, all)),
        },
    };
    let moved = moved(&order, &all, now);
    tx.dm_fields_update(&moved).await?;
    Ok((read, merged(all, &moved)))
}

/// The active fields among `fields` whose `position` changes under `field_order` (§5.12),
/// with their new position and `updated_at` = `now`.
fn moved(field_order: &str, fields: &[FieldRow], now: i64) -> Vec<FieldRow> {
    let order = FieldOrder::parse(field_order).unwrap_or(FieldOrder::Database);
    let active: Vec<&FieldRow> = fields.iter().filter(|f| f.active).collect();
    let orderable: Vec<Orderable<'_>> = active
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
    active
        .into_iter()
        .filter_map(|f| {
            let position = new.get(&f.id).copied().unwrap_or(f.position);
            (position != f.position).then(|| FieldRow {
                position,
                updated_at: now,
                ..f.clone()
            })
        })
        .collect()
}

/// Recomputes `position` of a table's active fields for its `field_order` (§5.12).
pub async fn reposition(tx: &mut dyn Tx, table_id: i64, now: i64) -> Result<(), SyncError> {
    let Some(table) = tx.dm_table(table_id).await? else {
        return Ok(());
    };
    let fields = tx.dm_fields(table_id).await?;
    for row in moved(&table.field_order, &fields, now) {
        tx.dm_field_update(&row).await?;
    }
    Ok(())
}

/// Fields pointing at a field that is no longer active lose their target (§2.8); their ids.
async fn clear_dangling_fk_targets(
    app: &App,
    db_id: i64,
    now: i64,
) -> Result<HashSet<i64>, SyncError> {
    let mut tx = super::begin(app).await?;
    let cleared = tx.dm_clear_inactive_fk_targets(db_id, now).await?;
    tx.commit().await?;
    Ok(cleared.into_iter().collect())
}

/// Marks the tables this sync created `complete` (§2.10).
pub async fn finish(app: &App, applied: &Applied) -> Result<(), SyncError> {
    if applied.created.is_empty() {
        return Ok(());
    }
    let mut tx = super::begin(app).await?;
    tx.dm_tables_set_complete(&applied.created).await?;
    tx.commit().await?;
    Ok(())
}
