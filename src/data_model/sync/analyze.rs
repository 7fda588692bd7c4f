//! Keys and analysis (data-model.md §2.2 steps 4–5, §2.6): primary and foreign keys, then for
//! new fields and fields whose base type changed, a fingerprint from a sample of the table and
//! the inferred semantic type, list eligibility and preview flag. One transaction per table.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::apply::Applied;
use super::discover::{quote, relation_sql, Relation};
use super::{Runner, SyncError};
use crate::data_model::edits::is_edited;
use crate::data_model::fingerprint::{self, Fingerprint, SAMPLE_ROWS};
use crate::data_model::infer;
use crate::data_model::store::FieldRow;
use crate::data_model::types;
use crate::state::App;
use crate::warehouse::cell::Cell;

/// Active fields of the database by `(schema, table, column)`.
type FieldIndex = HashMap<(String, String, String), i64>;

async fn field_index(app: &App, db_id: i64) -> Result<FieldIndex, SyncError> {
    let mut tx = app.store.read().await?;
    let tables: HashMap<i64, (String, String)> = tx
        .dm_tables(db_id)
        .await?
        .into_iter()
        .filter(|t| t.active)
        .map(|t| (t.id, (t.schema, t.name)))
        .collect();
    Ok(tx
        .dm_db_fields(db_id)
        .await?
        .into_iter()
        .filter(|f| f.active)
        .filter_map(|f| {
            let (schema, table) = tables.get(&f.table_id)?.clone();
            Some(((schema, table, f.name), f.id))
        })
        .collect())
}

/// The target field of each single-column foreign key of `rel`, by column name.
fn fk_targets(rel: &Relation, all: &[(i64, Relation)], index: &FieldIndex) -> HashMap<String, i64> {
    rel.foreign_keys
        .iter()
        .filter_map(|fk| {
            let column = match &fk.target_column {
                Some(c) => c.clone(),
                None => {
                    // SQLite: the target table's single-column primary key.
                    let target = all
                        .iter()
                        .find(|(_, r)| r.schema == fk.target_schema && r.name == fk.target_table)?;
                    match target.1.primary_key.as_slice() {
                        [one] => one.clone(),
                        _ => return None,
                    }
                }
            };
            let id = index.get(&(fk.target_schema.clone(), fk.target_table.clone(), column))?;
            Some((fk.column.clone(), *id))
        })
        .collect()
}

pub async fn analyze(
    app: &Arc<App>,
    runner: &Runner,
    db_id: i64,
    applied: &Applied,
) -> Result<(), SyncError> {
    let index = field_index(app, db_id).await?;
    for (table_id, rel) in &applied.tables {
        let fields: Vec<FieldRow> = app
            .store
            .read()
            .await?
            .dm_fields(*table_id)
            .await?
            .into_iter()
            .filter(|f| f.active)
            .collect();
        let targets = fk_targets(rel, &applied.tables, &index);
        let analyse: Vec<&FieldRow> = fields
            .iter()
            .filter(|f| applied.to_analyse.contains(&f.id))
            .collect();
        let prints = match sample(runner, rel, &analyse).await {
            Ok(p) => p,
            Err(e) => {
                // §2.2: a warehouse error on one table skips it for this sync.
                tracing::warn!(table = %rel.name, error = %e.0, "sync: table skipped");
                continue;
            }
        };
        let single_pk = match rel.primary_key.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        };
        let now = app.clock.now().micros();
        let mut tx = app.store.begin().await?;
        for f in &fields {
            let mut row = f.clone();
            if applied.to_analyse.contains(&f.id) {
                infer_field(
                    &mut row,
                    single_pk,
                    targets.get(&f.name).copied(),
                    prints.get(&f.id),
                    now,
                );
            } else {
                keys_of_existing(&mut row, targets.get(&f.name).copied());
            }
            if row != *f {
                row.updated_at = now;
                tx.dm_field_update(&row).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// A field analysed before: only a newly found foreign key fills an empty, unedited target.
fn keys_of_existing(f: &mut FieldRow, target: Option<i64>) {
    let Some(target) = target else { return };
    if f.fk_target_field_id.is_none() && !is_edited(&f.edited, "fk_target_field_id") {
        f.fk_target_field_id = Some(target);
        if f.semantic_type.is_none() && !is_edited(&f.edited, "semantic_type") {
            f.semantic_type = Some("type/FK".into());
        }
    }
}

/// §2.6 steps 1–6 for one field being analysed.
fn infer_field(
    f: &mut FieldRow,
    single_pk: Option<&str>,
    fk_target: Option<i64>,
    print: Option<&Fingerprint>,
    now: i64,
) {
    let base = f.base_type.clone();
    let semantic_free = !is_edited(&f.edited, "semantic_type");
    let mut inferred: Option<String> = None;
    let mut from_names = false;
    if single_pk == Some(f.name.as_str()) {
        inferred = Some("type/PK".into());
    } else if let Some(target) = fk_target {
        inferred = Some("type/FK".into());
        if f.fk_target_field_id.is_none() && !is_edited(&f.edited, "fk_target_field_id") {
            f.fk_target_field_id = Some(target);
        }
    } else if let Some(s) = infer::semantic_from_name(&f.name, &base) {
        inferred = Some(s);
        from_names = true;
    }
    if let Some(fp) = print {
        let is_key = f.database_is_pk || matches!(inferred.as_deref(), Some("type/PK" | "type/FK"));
        if inferred.is_none() && infer::is_category(&base, is_key, fp) {
            inferred = Some("type/Category".into());
            from_names = true;
        }
        if types::is_text(&base) && (inferred.is_none() || from_names) {
            if let Some(s) = infer::semantic_from_text(fp) {
                inferred = Some(s.into());
            }
        }
        let semantic = if semantic_free {
            inferred.as_deref()
        } else {
            f.semantic_type.as_deref()
        };
        if f.has_field_values.is_none()
            && !is_edited(&f.edited, "has_field_values")
            && infer::is_list(&base, semantic, fp)
        {
            f.has_field_values = Some("auto-list".into());
        }
        f.fingerprint = Some(fp.to_json().to_string());
        f.last_analyzed = Some(now);
        f.preview_display =
            !(types::is_opaque(&base) || fp.text.as_ref().is_some_and(|t| t.average_length > 50.0));
    } else {
        f.preview_display = !types::is_opaque(&base);
        if !types::is_opaque(&base) {
            f.last_analyzed = Some(now);
        }
    }
    if semantic_free {
        f.semantic_type = inferred;
    }
}

/// Fingerprints of the analysable fields of `rel`, from one sample of the table.
async fn sample(
    runner: &Runner,
    rel: &Relation,
    fields: &[&FieldRow],
) -> Result<HashMap<i64, Fingerprint>, SyncError> {
    let analysable: Vec<&&FieldRow> = fields
        .iter()
        .filter(|f| !types::is_opaque(&f.base_type))
        .collect();
    if analysable.is_empty() {
        return Ok(HashMap::new());
    }
    let columns: Vec<String> = analysable.iter().map(|f| quote(&f.name)).collect();
    let sql = format!(
        "SELECT {} FROM {} LIMIT {SAMPLE_ROWS}",
        columns.join(", "),
        relation_sql(&rel.schema, &rel.name)
    );
    let started = std::time::Instant::now();
    let rows = runner
        .rows_capped(&sql, SAMPLE_ROWS)
        .await
        .map_err(|e| SyncError(e.message))?;
    let fetched = started.elapsed().as_millis();
    let mut out = HashMap::new();
    let mut seen = HashSet::new();
    for (i, f) in analysable.iter().enumerate() {
        if !seen.insert(f.id) {
            continue;
        }
        let values: Vec<&Cell> = rows
            .iter()
            .map(|r| r.get(i).unwrap_or(&Cell::Null))
            .collect();
        out.insert(f.id, fingerprint::compute(&f.base_type, &values));
    }
    tracing::debug!(table = %rel.name, fetch_ms = fetched, total_ms = started.elapsed().as_millis(), "sample");
    Ok(out)
}
