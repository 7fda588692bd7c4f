//! Cached field values (data-model.md §3.1): which fields have them, and their refresh from the
//! warehouse — the distinct non-null values in order, at most 1,000 and 100,000 characters,
//! labels kept for values still present.
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::discover::{quote, relation_sql};
use super::{Runner, SyncError};
use crate::data_model::store::{FieldRow, FieldValuesRow, TableRow};
use crate::data_model::types;
use crate::state::App;
use crate::warehouse::cell::Cell;
use crate::warehouse::sqltext::Dialect;

pub const MAX_VALUES: usize = 1000;
pub const MAX_CHARS: usize = 100_000;

/// The `has_field_values` a response shows (§3.1).
pub fn effective_has_field_values(f: &FieldRow) -> &str {
    match f.has_field_values.as_deref() {
        Some("auto-list") => "list",
        Some(v) => v,
        None if f.base_type == "type/Boolean" => "list",
        None if types::is_text(&f.base_type) => "search",
        None => "none",
    }
}

/// Whether the field keeps cached values (§3.1).
pub fn has_cached_values(f: &FieldRow) -> bool {
    effective_has_field_values(f) == "list"
        && !matches!(
            f.visibility_type.as_str(),
            "hidden" | "sensitive" | "retired"
        )
        && f.preview_display
        && !types::is_temporal(&f.base_type)
        && !types::is_opaque(&f.base_type)
}

/// A cell as the JSON value query results carry.
pub fn cell_json(c: &Cell) -> Value {
    let mut out = Vec::new();
    c.write_json(&mut out);
    serde_json::from_slice(&out).unwrap_or(Value::Null)
}

fn text_form(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The values to keep from a distinct, ordered list, and whether any were cut.
pub fn cut(values: Vec<Value>) -> (Vec<Value>, bool) {
    let mut kept = Vec::new();
    let mut chars = 0;
    let total = values.len();
    for v in values {
        let len = text_form(&v).chars().count();
        if kept.len() == MAX_VALUES || chars + len >= MAX_CHARS {
            return (kept, true);
        }
        chars += len;
        kept.push(v);
    }
    let more = total > kept.len();
    (kept, more)
}

/// Labels of the refreshed values: kept for values still present; a new value is labelled
/// with its text form when labels exist (§3.1).
fn relabel(values: &[Value], old: Option<&FieldValuesRow>) -> Option<String> {
    let old = old?;
    let labels: Vec<Value> = serde_json::from_str(old.human_readable_values.as_deref()?).ok()?;
    let old_values: Vec<Value> = serde_json::from_str(&old.values).ok()?;
    let new: Vec<Value> = values
        .iter()
        .map(|v| match old_values.iter().position(|o| o == v) {
            Some(i) => labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| Value::String(text_form(v))),
            None => Value::String(text_form(v)),
        })
        .collect();
    Some(Value::Array(new).to_string())
}

/// `SELECT DISTINCT` of one field's values, in order, one more than are kept (§3.1).
fn distinct_sql(table: &TableRow, field: &FieldRow) -> String {
    format!(
        "SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c} LIMIT {}",
        MAX_VALUES + 1,
        c = quote(&field.name),
        t = relation_sql(&table.schema, &table.name),
    )
}

/// The refreshed values row of one field, from its distinct values and its stored row; `None`
/// when the field loses its `auto-list` (more than 1,000 distinct values).
fn refreshed(
    field: &FieldRow,
    values: Vec<Value>,
    old: Option<&FieldValuesRow>,
    now: i64,
) -> Option<FieldValuesRow> {
    if values.len() > MAX_VALUES && field.has_field_values.as_deref() == Some("auto-list") {
        return None;
    }
    let (kept, has_more) = cut(values);
    Some(FieldValuesRow {
        field_id: field.id,
        human_readable_values: relabel(&kept, old),
        values: Value::Array(kept).to_string(),
        has_more_values: has_more,
        created_at: old.map_or(now, |o| o.created_at),
        updated_at: now,
    })
}

/// Whether writing `new` over `old` would change anything but `updated_at`.
fn changes(new: &FieldValuesRow, old: Option<&FieldValuesRow>) -> bool {
    old.is_none_or(|o| {
        o.values != new.values
            || o.human_readable_values != new.human_readable_values
            || o.has_more_values != new.has_more_values
    })
}

/// Recomputes the cached values of one field. A stored `auto-list` field found to have more than
/// 1,000 distinct values loses it (and its values).
pub async fn refresh_field(
    app: &App,
    runner: &Runner,
    table: &TableRow,
    field: &FieldRow,
) -> Result<(), SyncError> {
    let values = read_field(runner, table, field).await?;
    store(app, &[(field, values)]).await
}

/// Stores refreshed values of several fields in one transaction; a values row is written only
/// when something but its `updated_at` changes (nothing reads that).
async fn store(app: &App, fields: &[(&FieldRow, Vec<Value>)]) -> Result<(), SyncError> {
    let now = app.clock.now().micros();
    let ids: Vec<i64> = fields.iter().map(|(f, _)| f.id).collect();
    // Most refreshes change nothing: find out without taking the write lock.
    let old = app.store.read().await?.dm_values_of(&ids).await?;
    let unchanged = fields.iter().all(|(f, values)| {
        refreshed(f, values.clone(), old.get(&f.id), now)
            .is_some_and(|row| !changes(&row, old.get(&f.id)))
    });
    if unchanged {
        return Ok(());
    }
    let mut tx = super::begin(app).await?;
    let old = tx.dm_values_of(&ids).await?;
    let mut puts = Vec::new();
    for (field, values) in fields {
        match refreshed(field, values.clone(), old.get(&field.id), now) {
            Some(row) => {
                if changes(&row, old.get(&field.id)) {
                    puts.push(row);
                }
            }
            None => {
                // The row as it is now (the list of fields was read before the warehouse).
                let mut f = tx
                    .dm_field(field.id)
                    .await?
                    .unwrap_or_else(|| (*field).clone());
                if f.has_field_values.as_deref() == Some("auto-list") {
                    f.has_field_values = None;
                    f.updated_at = now;
                    tx.dm_field_update(&f).await?;
                }
                tx.dm_values_delete(field.id).await?;
            }
        }
    }
    tx.dm_values_put_many(&puts).await?;
    tx.commit().await?;
    Ok(())
}

/// Fields refreshed by one warehouse statement on PostgreSQL.
const BATCH_FIELDS: usize = 100;

/// PostgreSQL column types whose values decode the same as elements of an array as they do as
/// columns (`pgdecode`): only fields of these types are batched.
const BATCHED_TYPES: &[&str] = &[
    "bool", "int2", "int4", "int8", "text", "varchar", "bpchar", "uuid", "inet", "cidr",
];

/// Whether `field`'s values may be read in a batch ([`batch_sql`]).
fn batchable(field: &FieldRow) -> bool {
    BATCHED_TYPES.contains(&field.database_type.as_str())
}

/// One statement reading the distinct values of several fields (PostgreSQL): one row, one
/// array per field holding the rows of the field's own query ([`distinct_sql`]) in their
/// order (`ARRAY(subquery)` keeps it).
fn batch_sql(fields: &[(&TableRow, &FieldRow)]) -> String {
    let columns: Vec<String> = fields
        .iter()
        .map(|(t, f)| format!("ARRAY({})", distinct_sql(t, f)))
        .collect();
    format!("SELECT {}", columns.join(", "))
}

/// Values read from the warehouse, waiting to be stored.
type Read<'a> = Vec<(&'a FieldRow, Vec<Value>)>;

/// Batches waiting between their read and their write (the next batches are read from the
/// warehouse while one is stored).
const PIPELINE: usize = 4;

/// The distinct values of one field, read by its own statement ([`distinct_sql`]).
async fn read_field(
    runner: &Runner,
    table: &TableRow,
    field: &FieldRow,
) -> Result<Vec<Value>, SyncError> {
    let rows = runner
        .rows_capped(&distinct_sql(table, field), MAX_VALUES + 1)
        .await
        .map_err(|e| SyncError(e.message))?;
    Ok(rows
        .iter()
        .filter_map(|r| r.first())
        .map(cell_json)
        .collect())
}

/// Reads the values of `batched` [`BATCH_FIELDS`] at a time, one statement per batch, then of
/// `single` one field per statement, and sends them to `out`. A batch whose statement fails is
/// split in two and retried, down to single fields: a failing field is skipped alone, as when
/// each had its own statement.
async fn read_all<'a>(
    runner: &Runner,
    batched: &[(&TableRow, &'a FieldRow)],
    single: &[(&TableRow, &'a FieldRow)],
    out: tokio::sync::mpsc::Sender<Read<'a>>,
) -> std::time::Duration {
    let mut busy = std::time::Duration::ZERO;
    let mut pending: Vec<&[(&TableRow, &FieldRow)]> = single
        .chunks(1)
        .rev()
        .chain(batched.chunks(BATCH_FIELDS).rev())
        .collect();
    while let Some(batch) = pending.pop() {
        let started = std::time::Instant::now();
        let read = if let [(t, f)] = batch {
            read_field(runner, t, f)
                .await
                .map(|values| vec![(*f, values)])
                .map_err(|e| {
                    tracing::warn!(field = %f.name, table = %t.name, error = %e.0, "sync: field values skipped");
                })
        } else {
            read_batch(runner, batch).await.ok_or_else(|| {
                let (first, second) = batch.split_at(batch.len() / 2);
                pending.push(second);
                pending.push(first);
            })
        };
        busy += started.elapsed();
        if let Ok(values) = read {
            if out.send(values).await.is_err() {
                break;
            }
        }
    }
    busy
}

/// The distinct values of each field of `batch`, read by one statement ([`batch_sql`]); `None`
/// when it fails.
async fn read_batch<'a>(
    runner: &Runner,
    batch: &[(&TableRow, &'a FieldRow)],
) -> Option<Vec<(&'a FieldRow, Vec<Value>)>> {
    let rows = match runner.rows_capped(&batch_sql(batch), 1).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::debug!(fields = batch.len(), error = %e.message, "sync: batched field values failed");
            return None;
        }
    };
    let [row] = rows.as_slice() else {
        return None;
    };
    batch
        .iter()
        .enumerate()
        .map(|(i, (_, f))| match row.get(i) {
            Some(Cell::Null) => Some((*f, Vec::new())),
            Some(Cell::Array(items)) => Some((*f, items.iter().map(cell_json).collect())),
            _ => None,
        })
        .collect()
}

/// The given tables of database `db_id` with their fields, in the given order.
async fn tables_with_fields(
    app: &App,
    db_id: i64,
    table_ids: &[i64],
) -> Result<Vec<(TableRow, Vec<FieldRow>)>, SyncError> {
    let mut tx = app.store.read().await?;
    if table_ids.len() <= 8 {
        let mut out = Vec::with_capacity(table_ids.len());
        for id in table_ids {
            if let Some(table) = tx.dm_table(*id).await? {
                let fields = tx.dm_fields(*id).await?;
                out.push((table, fields));
            }
        }
        return Ok(out);
    }
    // Many tables: two statements for the whole database.
    let mut tables: HashMap<i64, TableRow> = tx
        .dm_tables(db_id)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut fields: HashMap<i64, Vec<FieldRow>> = HashMap::new();
    for f in tx.dm_db_fields(db_id).await? {
        fields.entry(f.table_id).or_default().push(f);
    }
    Ok(table_ids
        .iter()
        .filter_map(|id| {
            let t = tables.remove(id)?;
            Some((t, fields.remove(id).unwrap_or_default()))
        })
        .collect())
}

/// §2.2 step 6 for the given tables of database `db_id`. A failing field is logged and skipped.
/// On PostgreSQL the values of fields of common types are read [`BATCH_FIELDS`] at a time, in
/// one statement.
pub async fn refresh_tables(
    app: &Arc<App>,
    runner: &Runner,
    db_id: i64,
    table_ids: &[i64],
) -> Result<(), SyncError> {
    let tables = tables_with_fields(app, db_id, table_ids).await?;
    refresh_loaded(app, runner, tables).await.map(|_| ())
}

/// [`refresh_tables`] of tables already read, with their fields. The warehouse is read by
/// one task, one statement at a time, while another stores what was read (one transaction
/// per batch): the two databases work at once instead of in turn.
pub async fn refresh_loaded(
    app: &Arc<App>,
    runner: &Runner,
    tables: Vec<(TableRow, Vec<FieldRow>)>,
) -> Result<super::Busy, SyncError> {
    let due: Vec<(&TableRow, &FieldRow)> = tables
        .iter()
        .flat_map(|(t, fields)| {
            fields
                .iter()
                .filter(|f| f.active && has_cached_values(f))
                .map(move |f| (t, f))
        })
        .collect();
    let (batched, single): (Vec<_>, Vec<_>) = due
        .into_iter()
        .partition(|(_, f)| runner.dialect() == Dialect::Postgres && batchable(f));
    let (tx, mut rx) = tokio::sync::mpsc::channel(PIPELINE);
    let read = read_all(runner, &batched, &single, tx);
    let write = async move {
        let mut busy = std::time::Duration::ZERO;
        while let Some(values) = rx.recv().await {
            let started = std::time::Instant::now();
            let stored = store(app, &values).await;
            busy += started.elapsed();
            if let Err(e) = stored {
                match values.as_slice() {
                    [(f, _)] => {
                        tracing::warn!(field = %f.name, error = %e.0, "sync: field values skipped")
                    }
                    _ => {
                        tracing::warn!(fields = values.len(), error = %e.0, "sync: field values skipped")
                    }
                }
            }
        }
        busy
    };
    let (read, write) = tokio::join!(read, write);
    Ok(super::Busy { read, write })
}

/// Deletes the cached values of `fields` (their labels go with them).
pub async fn discard(
    tx: &mut dyn crate::store::Tx,
    fields: &[FieldRow],
) -> crate::store::StoreResult<()> {
    for f in fields {
        tx.dm_values_delete(f.id).await?;
    }
    Ok(())
}

/// Refreshes the values of `tables` of `db` in the background (`rescan_values`); failures are
/// logged.
pub fn spawn_refresh(app: &Arc<App>, db: crate::databases::store::DatabaseRow, tables: Vec<i64>) {
    let app = app.clone();
    tokio::spawn(async move {
        let runner = match super::connect(&app, &db, app.shutdown.child_token()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(db_id = db.id, error = %e, "rescan_values: cannot connect");
                return;
            }
        };
        if let Err(e) = refresh_tables(&app, &runner, db.id, &tables).await {
            tracing::warn!(db_id = db.id, error = %e, "rescan_values failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cut_at_a_thousand_values_or_the_character_budget() {
        let many: Vec<Value> = (0..1001).map(|i| json!(i)).collect();
        let (kept, more) = cut(many);
        assert_eq!((kept.len(), more), (1000, true));
        let few: Vec<Value> = (0..3).map(|i| json!(i)).collect();
        assert!(!cut(few).1);
        let long: Vec<Value> = (0..5).map(|_| json!("x".repeat(30_000))).collect();
        let (kept, more) = cut(long);
        assert_eq!((kept.len(), more), (3, true));
    }
}
