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
use crate::data_model::store::{FieldRow, TableRow};
use crate::data_model::types;
use crate::state::App;
use crate::warehouse::cell::Cell;

/// Active fields of the database by `(schema, table, column)`.
type FieldIndex = HashMap<(String, String, String), i64>;

/// The index of the database's active fields, and those fields by table (two statements).
async fn field_index(
    app: &App,
    db_id: i64,
) -> Result<(FieldIndex, HashMap<i64, Vec<FieldRow>>), SyncError> {
    let mut tx = app.store.read().await?;
    let tables: Vec<TableRow> = tx.dm_tables(db_id).await?;
    let fields = tx.dm_db_fields(db_id).await?;
    Ok(index_of(tables.iter(), fields.iter()))
}

/// [`field_index`] of the given rows: the active fields of the active tables, and every
/// active field by table.
fn index_of<'a>(
    tables: impl Iterator<Item = &'a TableRow>,
    fields: impl Iterator<Item = &'a FieldRow>,
) -> (FieldIndex, HashMap<i64, Vec<FieldRow>>) {
    let tables: HashMap<i64, (&str, &str)> = tables
        .filter(|t| t.active)
        .map(|t| (t.id, (t.schema.as_str(), t.name.as_str())))
        .collect();
    let mut index = FieldIndex::new();
    let mut by_table: HashMap<i64, Vec<FieldRow>> = HashMap::new();
    for f in fields.filter(|f| f.active) {
        if let Some((schema, table)) = tables.get(&f.table_id) {
            index.insert(
                (schema.to_string(), table.to_string(), f.name.clone()),
                f.id,
            );
        }
        by_table.entry(f.table_id).or_default().push(f.clone());
    }
    (index, by_table)
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
    applied: &mut Applied,
) -> Result<(), SyncError> {
    let Applied {
        ref tables,
        ref to_analyse,
        ref mut rows,
        whole_database,
        ..
    } = *applied;
    let (index, mut by_table) = if whole_database {
        // Every active table of the database is in `rows`, as apply left it.
        index_of(
            rows.values().map(|(t, _)| t),
            rows.values().flat_map(|(_, fields)| fields),
        )
    } else {
        field_index(app, db_id).await?
    };
    for (table_id, rel) in tables {
        let fields: Vec<FieldRow> = by_table.remove(table_id).unwrap_or_default();
        let targets = fk_targets(rel, tables, &index);
        let analyse: Vec<&FieldRow> = fields
            .iter()
            .filter(|f| to_analyse.contains(&f.id))
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
        let keys = Keys {
            to_analyse,
            single_pk,
            targets: &targets,
            prints: &prints,
        };
        // Most tables of a re-sync change nothing: no transaction for them.
        if keys.changed(&fields, now).is_empty() {
            continue;
        }
        let mut tx = super::begin(app).await?;
        // The fields as they are now, in the transaction.
        let fields: Vec<FieldRow> = tx
            .dm_fields(*table_id)
            .await?
            .into_iter()
            .filter(|f| f.active)
            .collect();
        let changed = keys.changed(&fields, now);
        tx.dm_fields_update(&changed).await?;
        tx.commit().await?;
        if let Some((_, stored)) = rows.get_mut(table_id) {
            let changed: HashMap<i64, FieldRow> = changed.into_iter().map(|f| (f.id, f)).collect();
            for f in stored.iter_mut() {
                if let Some(new) = changed.get(&f.id) {
                    *f = new.clone();
                }
            }
        }
    }
    Ok(())
}

/// What the analysis of one table knows.
struct Keys<'a> {
    to_analyse: &'a HashSet<i64>,
    single_pk: Option<&'a str>,
    targets: &'a HashMap<String, i64>,
    prints: &'a HashMap<i64, Fingerprint>,
}

impl Keys<'_> {
    /// The rows among `fields` that keys and analysis change, with `updated_at` = `now`.
    fn changed(&self, fields: &[FieldRow], now: i64) -> Vec<FieldRow> {
        fields
            .iter()
            .filter_map(|f| {
                let mut row = f.clone();
                if self.to_analyse.contains(&f.id) {
                    infer_field(
                        &mut row,
                        self.single_pk,
                        self.targets.get(&f.name).copied(),
                        self.prints.get(&f.id),
                        now,
                    );
                } else {
                    keys_of_existing(&mut row, self.targets.get(&f.name).copied());
                }
                (row != *f).then_some(FieldRow {
                    updated_at: now,
                    ..row
                })
            })
            .collect()
    }
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
