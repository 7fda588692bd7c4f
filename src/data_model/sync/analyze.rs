//! Keys and analysis (data-model.md §2.2 steps 4–5, §2.6): primary and foreign keys, then for
//! new fields and fields whose base type changed, a fingerprint from a sample of the table
//! ([`super::sample`]) and the inferred semantic type, list eligibility and preview flag. One
//! transaction per table.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::apply::Applied;
use super::discover::{ForeignKey, Relation};
use super::sample::{batch_len, sample, sample_batch, Job, Sampled};
use super::{Runner, SyncError};
use crate::data_model::edits::is_edited;
use crate::data_model::fingerprint::Fingerprint;
use crate::data_model::infer;
use crate::data_model::store::{FieldRow, TableRow};
use crate::data_model::types;
use crate::state::App;

/// Active fields of the database by `(schema, table, column)`: only those that foreign keys of
/// the synced relations point at.
type FieldIndex = HashMap<(String, String, String), i64>;

/// `(schema, table, column)` of each single-column foreign key's target among `all`.
fn fk_target_keys(all: &[(i64, Relation)]) -> HashSet<(String, String, String)> {
    all.iter()
        .flat_map(|(_, rel)| &rel.foreign_keys)
        .filter_map(|fk| {
            let column = target_column(fk, all)?;
            Some((fk.target_schema.clone(), fk.target_table.clone(), column))
        })
        .collect()
}

/// The target column of a foreign key: its own, or (SQLite) the target table's single-column
/// primary key.
fn target_column(fk: &ForeignKey, all: &[(i64, Relation)]) -> Option<String> {
    match &fk.target_column {
        Some(c) => Some(c.clone()),
        None => {
            let target = all
                .iter()
                .find(|(_, r)| r.schema == fk.target_schema && r.name == fk.target_table)?;
            match target.1.primary_key.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            }
        }
    }
}

/// The index of the database's active fields that are in `wanted` (two statements).
async fn field_index(
    app: &App,
    db_id: i64,
    wanted: &HashSet<(String, String, String)>,
) -> Result<FieldIndex, SyncError> {
    let mut tx = app.store.read().await?;
    let tables: Vec<TableRow> = tx.dm_tables(db_id).await?;
    let fields = tx.dm_db_fields(db_id).await?;
    Ok(index_of(tables.iter(), fields.iter(), wanted))
}

/// [`field_index`] of the given rows: the active fields of the active tables that are in
/// `wanted`.
fn index_of<'a>(
    tables: impl Iterator<Item = &'a TableRow>,
    fields: impl Iterator<Item = &'a FieldRow>,
    wanted: &HashSet<(String, String, String)>,
) -> FieldIndex {
    let tables: HashMap<i64, (&str, &str)> = tables
        .filter(|t| t.active)
        .map(|t| (t.id, (t.schema.as_str(), t.name.as_str())))
        .collect();
    let mut index = FieldIndex::new();
    for f in fields.filter(|f| f.active) {
        if let Some((schema, table)) = tables.get(&f.table_id) {
            let key = (schema.to_string(), table.to_string(), f.name.clone());
            if wanted.contains(&key) {
                index.insert(key, f.id);
            }
        }
    }
    index
}

/// The target field of each single-column foreign key of `rel`, by column name.
fn fk_targets(rel: &Relation, all: &[(i64, Relation)], index: &FieldIndex) -> HashMap<String, i64> {
    rel.foreign_keys
        .iter()
        .filter_map(|fk| {
            let column = target_column(fk, all)?;
            let id = index.get(&(fk.target_schema.clone(), fk.target_table.clone(), column))?;
            Some((fk.column.clone(), *id))
        })
        .collect()
}

/// Tables waiting between their sample and their write (the sample of the next tables runs
/// on the warehouse while a table is written to the application database).
const PIPELINE: usize = 8;

/// §2.2 steps 4–5. The warehouse is read by one task, one statement at a time (each table's
/// sample), while another writes the tables already sampled — the tables waiting when it gets
/// to them in one transaction ([`super::Batch`]), committed before it waits for more: the two
/// databases work at once instead of in turn.
pub async fn analyze(
    app: &Arc<App>,
    runner: &Runner,
    db_id: i64,
    applied: &mut Applied,
) -> Result<super::Busy, SyncError> {
    let Applied {
        ref tables,
        ref to_analyse,
        ref mut rows,
        whole_database,
        ..
    } = *applied;
    let wanted = fk_target_keys(tables);
    let index = if whole_database {
        // Every active table of the database is in `rows`, as apply left it.
        index_of(
            rows.values().map(|(t, _)| t),
            rows.values().flat_map(|(_, fields)| fields),
            &wanted,
        )
    } else {
        field_index(app, db_id, &wanted).await?
    };
    drop(wanted);
    let jobs: Vec<Job<'_>> = tables
        .iter()
        .map(|(table_id, rel)| Job {
            table_id: *table_id,
            rel,
            fields: rows
                .get(table_id)
                .map(|(_, fields)| {
                    fields
                        .iter()
                        .filter(|f| f.active && to_analyse.contains(&f.id))
                        .map(|f| Sampled {
                            id: f.id,
                            name: f.name.clone(),
                            base_type: f.base_type.clone(),
                            database_type: f.database_type.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel(PIPELINE);
    let read = async move {
        let mut busy = std::time::Duration::ZERO;
        let mut rest = &jobs[..];
        while !rest.is_empty() {
            let started = std::time::Instant::now();
            let n = batch_len(rest, runner.dialect());
            let (batch, after) = rest.split_at(n);
            rest = after;
            let batched = match batch {
                [_] => None,
                _ => sample_batch(runner, batch).await,
            };
            busy += started.elapsed();
            let Some(batched) = batched else {
                // One table per statement (alone, or a batch that failed or was too large).
                for job in batch {
                    let started = std::time::Instant::now();
                    let prints = sample(runner, job.rel, &job.fields).await;
                    busy += started.elapsed();
                    if tx.send((job.table_id, job.rel, prints)).await.is_err() {
                        return busy;
                    }
                }
                continue;
            };
            for (job, prints) in batch.iter().zip(batched) {
                if tx.send((job.table_id, job.rel, Ok(prints))).await.is_err() {
                    return busy;
                }
            }
        }
        busy
    };
    let write = async move {
        let mut busy = std::time::Duration::ZERO;
        let mut batch = super::Batch::new(app);
        loop {
            let next = match rx.try_recv() {
                Ok(sampled) => Some(sampled),
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    // Nothing sampled yet: what is written is committed before waiting, so
                    // no transaction stays open while the warehouse works.
                    let started = std::time::Instant::now();
                    batch.commit().await?;
                    busy += started.elapsed();
                    rx.recv().await
                }
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => None,
            };
            let Some((table_id, rel, prints)) = next else {
                break;
            };
            let started = std::time::Instant::now();
            let prints = match prints {
                Ok(p) => p,
                Err(e) => {
                    // §2.2: a warehouse error on one table skips it for this sync.
                    tracing::warn!(table = %rel.name, error = %e.0, "sync: table skipped");
                    continue;
                }
            };
            write_table(
                app, &mut batch, tables, &index, to_analyse, rows, table_id, rel, &prints,
            )
            .await?;
            busy += started.elapsed();
        }
        let started = std::time::Instant::now();
        batch.commit().await?;
        Ok::<_, SyncError>(busy + started.elapsed())
    };
    let (read, written) = tokio::join!(read, write);
    Ok(super::Busy {
        read,
        write: written?,
    })
}

/// Keys and analysis of one sampled table, written in `batch`'s transaction when anything
/// changes; `rows` follows what is written.
#[allow(clippy::too_many_arguments)]
async fn write_table(
    app: &App,
    batch: &mut super::Batch<'_>,
    tables: &[(i64, Relation)],
    index: &FieldIndex,
    to_analyse: &HashSet<i64>,
    rows: &mut HashMap<i64, (TableRow, Vec<FieldRow>)>,
    table_id: i64,
    rel: &Relation,
    prints: &HashMap<i64, Fingerprint>,
) -> Result<(), SyncError> {
    let targets = fk_targets(rel, tables, index);
    let single_pk = match rel.primary_key.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    let now = app.clock.now().micros();
    let keys = Keys {
        to_analyse,
        single_pk,
        targets: &targets,
        prints,
    };
    let Some((_, stored)) = rows.get_mut(&table_id) else {
        return Ok(());
    };
    // Most tables of a re-sync change nothing: no transaction for them.
    if !keys.changes_any(stored, now) {
        return Ok(());
    }
    let tx = batch.tx().await?;
    // The fields as they are now, in the transaction.
    let fields: Vec<FieldRow> = tx
        .dm_fields(table_id)
        .await?
        .into_iter()
        .filter(|f| f.active)
        .collect();
    let changed = keys.changed(&fields, now);
    tx.dm_fields_update(&changed).await?;
    batch.table_done().await?;
    let changed: HashMap<i64, FieldRow> = changed.into_iter().map(|f| (f.id, f)).collect();
    for f in stored.iter_mut() {
        if let Some(new) = changed.get(&f.id) {
            *f = new.clone();
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
    /// Whether keys and analysis change any active field of `fields`.
    fn changes_any(&self, fields: &[FieldRow], now: i64) -> bool {
        fields.iter().filter(|f| f.active).any(|f| {
            let mut row = f.clone();
            self.apply(&mut row, now);
            row != *f
        })
    }

    /// Keys and analysis of one field.
    fn apply(&self, row: &mut FieldRow, now: i64) {
        if self.to_analyse.contains(&row.id) {
            let target = self.targets.get(&row.name).copied();
            infer_field(row, self.single_pk, target, self.prints.get(&row.id), now);
        } else {
            keys_of_existing(row, self.targets.get(&row.name).copied());
        }
    }

    /// The rows among `fields` that keys and analysis change, with `updated_at` = `now`.
    fn changed(&self, fields: &[FieldRow], now: i64) -> Vec<FieldRow> {
        fields
            .iter()
            .filter_map(|f| {
                let mut row = f.clone();
                self.apply(&mut row, now);
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
