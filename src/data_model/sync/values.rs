//! Cached field values (data-model.md §3.1): which fields have them, and their refresh from the
//! warehouse — the distinct non-null values in order, at most 1,000 and 100,000 characters,
//! labels kept for values still present.
use std::sync::Arc;

use serde_json::Value;

use super::discover::{quote, relation_sql};
use super::{Runner, SyncError};
use crate::data_model::store::{FieldRow, FieldValuesRow, TableRow};
use crate::data_model::types;
use crate::state::App;
use crate::warehouse::cell::Cell;

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

/// Recomputes the cached values of one field. A stored `auto-list` field found to have more than
/// 1,000 distinct values loses it (and its values).
pub async fn refresh_field(
    app: &App,
    runner: &Runner,
    table: &TableRow,
    field: &FieldRow,
) -> Result<(), SyncError> {
    let sql = format!(
        "SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c} LIMIT {}",
        MAX_VALUES + 1,
        c = quote(&field.name),
        t = relation_sql(&table.schema, &table.name),
    );
    let rows = runner
        .rows_capped(&sql, MAX_VALUES + 1)
        .await
        .map_err(|e| SyncError(e.message))?;
    let values: Vec<Value> = rows
        .iter()
        .filter_map(|r| r.first())
        .map(cell_json)
        .collect();
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    if values.len() > MAX_VALUES && field.has_field_values.as_deref() == Some("auto-list") {
        let mut f = field.clone();
        f.has_field_values = None;
        f.updated_at = now;
        tx.dm_field_update(&f).await?;
        tx.dm_values_delete(field.id).await?;
        tx.commit().await?;
        return Ok(());
    }
    let (kept, has_more) = cut(values);
    let old = tx.dm_values(field.id).await?;
    let row = FieldValuesRow {
        field_id: field.id,
        human_readable_values: relabel(&kept, old.as_ref()),
        values: Value::Array(kept).to_string(),
        has_more_values: has_more,
        created_at: old.as_ref().map_or(now, |o| o.created_at),
        updated_at: now,
    };
    tx.dm_values_put(&row).await?;
    tx.commit().await?;
    Ok(())
}

/// §2.2 step 6 for the given tables. A failing field is logged and skipped.
pub async fn refresh_tables(
    app: &Arc<App>,
    runner: &Runner,
    table_ids: &[i64],
) -> Result<(), SyncError> {
    for id in table_ids {
        let mut tx = app.store.read().await?;
        let Some(table) = tx.dm_table(*id).await? else {
            continue;
        };
        let fields = tx.dm_fields(*id).await?;
        drop(tx);
        for f in fields.iter().filter(|f| f.active && has_cached_values(f)) {
            if let Err(e) = refresh_field(app, runner, &table, f).await {
                tracing::warn!(field = %f.name, table = %table.name, error = %e.0, "sync: field values skipped");
            }
        }
    }
    Ok(())
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
        if let Err(e) = refresh_tables(&app, &runner, &tables).await {
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
